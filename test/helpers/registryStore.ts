// Given / when steps over the schema registry's pure core (schemas/registry/store.ts), shared by the unit
// tests of its deletes and modes and of the fold of its `_schemas` records: a few schemas, and each
// decision applied to the store as the server would apply it.
import { createRegistryStore, type RegistryEvent, type RegistryStore, type Result } from '../../schemas/registry/store.ts';

type Field = { name: string; type: unknown; default?: unknown };
export const order = (fields: Field[]): string => JSON.stringify({ type: 'record', name: 'Order', namespace: 'test', fields });
export const V1 = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]);
export const withoutQty = order([{ name: 'id', type: 'string' }]);
export const qtyAsStringWithDefault = order([{ name: 'id', type: 'string' }, { name: 'qty', type: 'string', default: '0' }]);
export const other = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'n', type: 'int' }] });

export const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.errorCode} ${r.error.message}`);
  return r.value;
};
export const code = (r: Result<unknown>): number | undefined => (r.ok ? undefined : r.error.errorCode);

/** Every event the store applied, in order: what `_schemas` would hold. */
export function recordingStore(): { store: RegistryStore; history: RegistryEvent[] } {
  const store = createRegistryStore();
  const history: RegistryEvent[] = [];
  const apply = store.apply;
  return { store: { ...store, apply: (e: RegistryEvent) => (history.push(e), apply(e)) }, history };
}

export function register(store: RegistryStore, subject: string, schema: string, explicit?: { id?: number; version?: number }) {
  const decision = value(store.decideRegister(subject, schema, explicit));
  if (decision.kind === 'existing') return decision.version;
  store.apply(decision.event);
  return decision.event;
}
export const applyAll = (store: RegistryStore, events: readonly RegistryEvent[]) => events.forEach((e) => store.apply(e));
export const deleteSubject = (store: RegistryStore, subject: string, permanent = false) => {
  const { deleted, events } = value(store.decideDeleteSubject(subject, permanent));
  applyAll(store, events);
  return deleted;
};
export const deleteVersion = (store: RegistryStore, subject: string, version: string, permanent = false) => {
  const { deleted, events } = value(store.decideDeleteVersion(subject, version, permanent));
  applyAll(store, events);
  return deleted;
};
export const setMode = (store: RegistryStore, subject: string | null, mode: string, force = false) => applyAll(store, value(store.decideMode(subject, mode, force)));
