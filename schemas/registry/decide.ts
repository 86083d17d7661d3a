// Write side of the registry: each decision reads the folded state and returns the events to persist,
// or Confluent's error. The shell writes the events to `_schemas`, then folds them (state.ts).
import { checkAgainst, parseAvro, type ParsedSchema } from './avro.ts';
import {
  errors,
  fail,
  isCompatibilityLevel,
  isMode,
  ok,
  parseVersion,
  type RegistryEvent,
  type Result,
  type SchemaVersion,
} from './model.ts';
import { allVersions, everyVersion, holdersOf, levelFor, modeFor, publicVersion, typeOf, type RegistryState, type StoredVersion } from './state.ts';

type Registered = Extract<RegistryEvent, { type: 'SchemaRegistered' }>;

export type RegisterDecision =
  | { readonly kind: 'existing'; readonly version: SchemaVersion }
  | { readonly kind: 'new'; readonly event: Registered };

/** What the route answers (versions deleted) and the records that make it so. */
export interface DeleteDecision<T> {
  readonly deleted: T;
  readonly events: readonly RegistryEvent[];
}

/** Id and version a caller may fix; Confluent reads a negative one as "not given". */
export interface Explicit {
  readonly id?: number;
  readonly version?: number;
}

const given = (n: number | undefined): n is number => n !== undefined && n >= 0;
const nextVersion = (versions: readonly StoredVersion[]): number => (versions.at(-1)?.version ?? 0) + 1;
const existing = (v: StoredVersion): Result<RegisterDecision> => ok({ kind: 'existing', version: publicVersion(v) });

const softDeleted = (v: StoredVersion): RegistryEvent => ({ type: 'VersionSoftDeleted', ...publicVersion(v) });
const tombstone = ({ subject, version }: StoredVersion): RegistryEvent => ({ type: 'VersionPermanentlyDeleted', subject, version });

/** A permanently deleted subject takes its own compatibility level and mode with it, as in Confluent. */
function subjectSettingsCleared(state: RegistryState, subject: string): RegistryEvent[] {
  const out: RegistryEvent[] = [];
  if (state.subjectConfig.has(subject)) out.push({ type: 'ConfigDeleted', subject });
  if (state.subjectMode.has(subject)) out.push({ type: 'ModeDeleted', subject });
  return out;
}

/** READWRITE: the same live schema → its version; else check against live versions and mint one. */
function decideNew(state: RegistryState, subject: string, { text, canonical, type }: ParsedSchema, explicit: Explicit): Result<RegisterDecision> {
  const all = allVersions(state, subject);
  const live = all.filter((v) => !v.deleted);
  const version = nextVersion(all); // soft-deleted numbers are not reused
  if (explicit.version !== undefined && explicit.version > 0 && explicit.version !== version) {
    return fail(errors.invalidSchema(`version ${explicit.version} is not one more than the previous version ${version - 1}`));
  }
  const same = live.find((v) => v.canonical === canonical);
  if (same !== undefined) return existing(same);

  const level = levelFor(state, subject);
  if (level !== 'NONE' && live.length > 0) {
    const against = level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
    const report = checkAgainst(level, type, against.map((v) => ({ version: v.version, type: typeOf(state, v.id) })));
    if (!report.isCompatible) return fail(errors.incompatible(subject, report.messages));
  }
  const id = state.idByCanonical.get(canonical) ?? state.nextId;
  return ok({ kind: 'new', event: { type: 'SchemaRegistered', subject, version, id, schema: text } });
}

/** IMPORT: the caller's id (and version), no compatibility check; an id or version never changes meaning. */
function decideImport(state: RegistryState, subject: string, { text, canonical }: ParsedSchema, id: number, explicit: Explicit): Result<RegisterDecision> {
  const holder = holdersOf(state, id)[0];
  if (holder !== undefined && holder.canonical !== canonical) return fail(errors.notPermitted(`Overwriting schema id ${id} with another schema is not permitted`));
  const all = allVersions(state, subject);
  const isSame = (v: StoredVersion) => !v.deleted && v.id === id && v.canonical === canonical;
  const version = explicit.version !== undefined && explicit.version > 0 ? explicit.version : undefined;
  if (version === undefined) {
    const same = all.find(isSame);
    if (same !== undefined) return existing(same);
  }
  const target = version ?? nextVersion(all);
  const taken = all.find((v) => v.version === target);
  // Confluent would overwrite the version; we refuse, so a version's schema never changes under a reader.
  if (taken !== undefined) return isSame(taken) ? existing(taken) : fail(errors.notPermitted(`Version ${target} of subject '${subject}' already exists`));
  return ok({ kind: 'new', event: { type: 'SchemaRegistered', subject, version: target, id, schema: text } });
}

export function decideRegister(state: RegistryState, subject: string, schemaText: string, explicit: Explicit = {}): Result<RegisterDecision> {
  const mode = modeFor(state, subject);
  if (mode === 'READONLY') return fail(errors.readOnly(subject));
  const id = given(explicit.id) ? explicit.id : undefined;
  if (id !== undefined && mode !== 'IMPORT') return fail(errors.notPermitted(`Subject '${subject}' is not in import mode`));
  if (id === undefined && mode === 'IMPORT') return fail(errors.notPermitted(`Subject '${subject}' is not in read-write mode`));
  const parsed = parseAvro(schemaText);
  if (!parsed.ok) return parsed;
  return id !== undefined ? decideImport(state, subject, parsed.value, id, explicit) : decideNew(state, subject, parsed.value, explicit);
}

/** DELETE /subjects/:subject — soft: the live versions; permanent: everything, once all are soft-deleted. */
export function decideDeleteSubject(state: RegistryState, subject: string, permanent: boolean): Result<DeleteDecision<number[]>> {
  const all = allVersions(state, subject);
  if (all.length === 0) return fail(errors.subjectNotFound(subject));
  const live = all.filter((v) => !v.deleted);
  if (!permanent && live.length === 0) return fail(errors.subjectSoftDeleted(subject));
  if (modeFor(state, subject) === 'READONLY') return fail(errors.readOnly(subject));
  if (!permanent) return ok({ deleted: live.map((v) => v.version), events: live.map(softDeleted) });
  if (live.length > 0) return fail(errors.subjectNotSoftDeleted(subject));
  const newestFirst = [...all].reverse(); // Confluent's order, so a later version goes before one it could reference
  return ok({ deleted: all.map((v) => v.version), events: [...newestFirst.map(tombstone), ...subjectSettingsCleared(state, subject)] });
}

/** DELETE /subjects/:subject/versions/:version — `latest` is the newest live version. */
export function decideDeleteVersion(state: RegistryState, subject: string, rawVersion: string, permanent: boolean): Result<DeleteDecision<number>> {
  const parsed = parseVersion(rawVersion);
  if (!parsed.ok) return parsed;
  const all = allVersions(state, subject);
  const target = parsed.value === 'latest' ? all.filter((v) => !v.deleted).at(-1) : all.find((v) => v.version === parsed.value);
  if (target === undefined) return fail(all.length > 0 ? errors.versionNotFound(rawVersion) : errors.subjectNotFound(subject));
  if (target.deleted && !permanent) return fail(errors.versionSoftDeleted(subject, target.version));
  if (modeFor(state, subject) === 'READONLY') return fail(errors.readOnly(subject));
  if (!permanent) return ok({ deleted: target.version, events: [softDeleted(target)] });
  if (!target.deleted) return fail(errors.versionNotSoftDeleted(subject, target.version));
  const cleared = all.length === 1 ? subjectSettingsCleared(state, subject) : [];
  return ok({ deleted: target.version, events: [tombstone(target), ...cleared] });
}

export function decideConfig(state: RegistryState, subject: string | null, rawLevel: string): Result<Extract<RegistryEvent, { type: 'ConfigChanged' }>> {
  const level = rawLevel.toUpperCase();
  if (!isCompatibilityLevel(level)) return fail(errors.invalidCompatibility(rawLevel));
  if (modeFor(state, subject) === 'READONLY') return fail(errors.readOnly(subject));
  return ok({ type: 'ConfigChanged', subject, compatibility: level });
}

/**
 * PUT /mode[/:subject]. Entering IMPORT needs an empty scope (no live subject) unless forced, and then
 * removes soft-deleted leftovers for good so imported ids and versions cannot meet them (as Confluent).
 */
export function decideMode(state: RegistryState, subject: string | null, rawMode: string, force = false): Result<readonly RegistryEvent[]> {
  const mode = rawMode.toUpperCase();
  if (!isMode(mode)) return fail(errors.invalidMode(rawMode));
  const change: RegistryEvent = { type: 'ModeChanged', subject, mode };
  if (mode !== 'IMPORT' || modeFor(state, subject) === 'IMPORT' || force) return ok([change]);
  const inScope = subject === null ? everyVersion(state) : [...allVersions(state, subject)];
  if (inScope.some((v) => !v.deleted)) return fail(errors.notPermitted('Cannot enter IMPORT mode: live subjects exist (use force=true to override)'));
  return ok([...inScope.map(tombstone), change]);
}
