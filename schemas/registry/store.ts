// Pure core of the schema registry: one folded state (state.ts), its lookups (queries.ts) and its
// decisions (decide.ts) behind one object. No I/O, no clock. The shell asks for a decision, persists
// the resulting events, then applies them, so the state only ever moves through events that are
// already durable in `_schemas`.
import {
  decideConfig,
  decideDeleteSubject,
  decideDeleteVersion,
  decideMode,
  decideRegister,
  type Explicit,
} from './decide.ts';
import type { RegistryEvent } from './model.ts';
import {
  checkCompatibility,
  getConfig,
  getMode,
  getVersion,
  listSubjects,
  listVersions,
  lookup,
  schemaById,
  versionsById,
  type DeletedFilter,
} from './queries.ts';
import { emptyState, evolve } from './state.ts';

export { checkAgainst, parseAvro, type CompatibilityReport } from './avro.ts';
export type { DeleteDecision, Explicit, RegisterDecision } from './decide.ts';
export * from './model.ts';
export type { DeletedFilter } from './queries.ts';

export type RegistryStore = ReturnType<typeof createRegistryStore>;

export function createRegistryStore() {
  const state = emptyState();
  return {
    subjects: (filter?: DeletedFilter) => listSubjects(state, filter),
    versions: (subject: string, filter?: DeletedFilter) => listVersions(state, subject, filter),
    getVersion: (subject: string, rawVersion: string, includeDeleted?: boolean) => getVersion(state, subject, rawVersion, includeDeleted),
    schemaById: (id: number) => schemaById(state, id),
    versionsById: (id: number, includeDeleted?: boolean) => versionsById(state, id, includeDeleted),
    lookup: (subject: string, schemaText: string, includeDeleted?: boolean) => lookup(state, subject, schemaText, includeDeleted),
    checkCompatibility: (subject: string, rawVersion: string, schemaText: string) => checkCompatibility(state, subject, rawVersion, schemaText),
    getConfig: (subject: string | null, defaultToGlobal?: boolean) => getConfig(state, subject, defaultToGlobal),
    getMode: (subject: string | null, defaultToGlobal?: boolean) => getMode(state, subject, defaultToGlobal),

    decideRegister: (subject: string, schemaText: string, explicit?: Explicit) => decideRegister(state, subject, schemaText, explicit),
    decideDeleteSubject: (subject: string, permanent = false) => decideDeleteSubject(state, subject, permanent),
    decideDeleteVersion: (subject: string, rawVersion: string, permanent = false) => decideDeleteVersion(state, subject, rawVersion, permanent),
    decideConfig: (subject: string | null, rawLevel: string) => decideConfig(state, subject, rawLevel),
    decideMode: (subject: string | null, rawMode: string, force = false) => decideMode(state, subject, rawMode, force),

    /** Applies a durable event (one record of `_schemas`). */
    apply: (event: RegistryEvent): void => evolve(state, event),
  };
}
