// The registry's state as a fold over `_schemas`: `evolve` applies one durable record. The last record
// of a key wins, as Kafka compaction keeps it, so a compacted topic folds to the same subjects,
// versions and ids as the full history.
import avsc from 'avsc';
import { parseAvro } from './avro.ts';
import {
  DEFAULT_COMPATIBILITY,
  DEFAULT_MODE,
  type CompatibilityLevel,
  type Mode,
  type RegistryEvent,
  type SchemaVersion,
} from './model.ts';

export interface StoredVersion extends SchemaVersion {
  readonly canonical: string;
  readonly deleted: boolean;
}

export interface RegistryState {
  /** Ascending by version; soft-deleted versions stay until a permanent delete. */
  readonly subjects: Map<string, StoredVersion[]>;
  /** Ids that some version, live or soft-deleted, still holds: they keep resolving. */
  readonly schemaById: Map<number, string>;
  readonly idByCanonical: Map<string, number>;
  readonly typeById: Map<number, avsc.Type>;
  readonly subjectConfig: Map<string, CompatibilityLevel>;
  readonly subjectMode: Map<string, Mode>;
  globalConfig: CompatibilityLevel;
  globalMode: Mode;
  /** One past the highest id ever folded: ids are not handed out twice within a history. */
  nextId: number;
}

export function emptyState(): RegistryState {
  return {
    subjects: new Map(),
    schemaById: new Map(),
    idByCanonical: new Map(),
    typeById: new Map(),
    subjectConfig: new Map(),
    subjectMode: new Map(),
    globalConfig: DEFAULT_COMPATIBILITY,
    globalMode: DEFAULT_MODE,
    nextId: 1,
  };
}

export const allVersions = (state: RegistryState, subject: string): readonly StoredVersion[] => state.subjects.get(subject) ?? [];
export const liveVersions = (state: RegistryState, subject: string): readonly StoredVersion[] =>
  allVersions(state, subject).filter((v) => !v.deleted);
export const everyVersion = (state: RegistryState): StoredVersion[] => [...state.subjects.values()].flat();
export const holdersOf = (state: RegistryState, id: number): StoredVersion[] => everyVersion(state).filter((v) => v.id === id);

export const levelFor = (state: RegistryState, subject: string): CompatibilityLevel => state.subjectConfig.get(subject) ?? state.globalConfig;
export const modeFor = (state: RegistryState, subject: string | null): Mode =>
  (subject === null ? undefined : state.subjectMode.get(subject)) ?? state.globalMode;

export const publicVersion = ({ subject, version, id, schema }: StoredVersion): SchemaVersion => ({ subject, version, id, schema });

export function typeOf(state: RegistryState, id: number): avsc.Type {
  let type = state.typeById.get(id);
  if (type === undefined) {
    // Stored schemas were valid when registered; parse lazily so a replay stays cheap.
    type = avsc.Type.forSchema(JSON.parse(state.schemaById.get(id) ?? 'null') as avsc.Schema);
    state.typeById.set(id, type);
  }
  return type;
}

function setVersions(state: RegistryState, subject: string, versions: StoredVersion[]): void {
  if (versions.length === 0) state.subjects.delete(subject);
  else state.subjects.set(subject, versions.sort((a, b) => a.version - b.version));
}

/** Once no version holds an id, the id stops resolving, as if the schema had never been folded. */
function forgetIfUnheld(state: RegistryState, gone: StoredVersion): void {
  if (holdersOf(state, gone.id).length > 0) return;
  state.schemaById.delete(gone.id);
  state.typeById.delete(gone.id);
  if (state.idByCanonical.get(gone.canonical) !== gone.id) return;
  const other = everyVersion(state).find((v) => v.canonical === gone.canonical);
  if (other === undefined) state.idByCanonical.delete(gone.canonical);
  else state.idByCanonical.set(gone.canonical, other.id);
}

function upsert(state: RegistryState, event: SchemaVersion, deleted: boolean): void {
  const parsed = parseAvro(event.schema);
  const canonical = parsed.ok ? parsed.value.canonical : event.schema;
  const versions = allVersions(state, event.subject);
  const replaced = versions.find((v) => v.version === event.version);
  const stored: StoredVersion = { subject: event.subject, version: event.version, id: event.id, schema: event.schema, canonical, deleted };
  setVersions(state, event.subject, [...versions.filter((v) => v !== replaced), stored]);
  if (replaced !== undefined && replaced.id !== event.id) forgetIfUnheld(state, replaced);
  if (!state.schemaById.has(event.id)) state.schemaById.set(event.id, event.schema);
  if (!state.idByCanonical.has(canonical)) state.idByCanonical.set(canonical, event.id);
  if (parsed.ok && !state.typeById.has(event.id)) state.typeById.set(event.id, parsed.value.type);
  state.nextId = Math.max(state.nextId, event.id + 1);
}

function remove(state: RegistryState, subject: string, version: number): void {
  const versions = allVersions(state, subject);
  const gone = versions.find((v) => v.version === version);
  if (gone === undefined) return;
  setVersions(state, subject, versions.filter((v) => v !== gone));
  forgetIfUnheld(state, gone);
}

/** Applies one durable event. Applying the same event twice leaves the state as once. */
export function evolve(state: RegistryState, event: RegistryEvent): void {
  switch (event.type) {
    case 'SchemaRegistered':
      return upsert(state, event, false);
    case 'VersionSoftDeleted':
      return upsert(state, event, true);
    case 'VersionPermanentlyDeleted':
      return remove(state, event.subject, event.version);
    case 'SubjectSoftDeleted': {
      const versions = allVersions(state, event.subject);
      setVersions(state, event.subject, versions.map((v) => (v.version <= event.upToVersion ? { ...v, deleted: true } : v)));
      return;
    }
    case 'ConfigChanged':
      if (event.subject === null) state.globalConfig = event.compatibility;
      else state.subjectConfig.set(event.subject, event.compatibility);
      return;
    case 'ConfigDeleted':
      if (event.subject === null) state.globalConfig = DEFAULT_COMPATIBILITY;
      else state.subjectConfig.delete(event.subject);
      return;
    case 'ModeChanged':
      if (event.subject === null) state.globalMode = event.mode;
      else state.subjectMode.set(event.subject, event.mode);
      return;
    case 'ModeDeleted':
      if (event.subject === null) state.globalMode = DEFAULT_MODE;
      else state.subjectMode.delete(event.subject);
      return;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown registry event ${JSON.stringify(unreachable)}`);
    }
  }
}
