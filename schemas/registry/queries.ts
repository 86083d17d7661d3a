// Read side of the registry over its folded state: what GET and lookup routes answer. Soft-deleted
// versions are hidden unless the caller asks for them, as Confluent's `deleted` query flags do.
import { checkAgainst, parseAvro, type CompatibilityReport } from './avro.ts';
import {
  errors,
  fail,
  ok,
  parseVersion,
  type CompatibilityLevel,
  type Mode,
  type Result,
  type SchemaVersion,
  type SubjectVersion,
} from './model.ts';
import { allVersions, holdersOf, levelFor, liveVersions, publicVersion, typeOf, type RegistryState, type StoredVersion } from './state.ts';

/** `deleted`: soft-deleted ones too; `deletedOnly`: only those (it wins when both are set). */
export interface DeletedFilter {
  readonly deleted?: boolean;
  readonly deletedOnly?: boolean;
}

const includesDeleted = (filter: DeletedFilter): boolean => filter.deleted === true || filter.deletedOnly === true;

/** Confluent's "has subject": any version at all, or any live one. */
const hasSubject = (state: RegistryState, subject: string, includeDeleted: boolean): boolean =>
  (includeDeleted ? allVersions(state, subject) : liveVersions(state, subject)).length > 0;

/** A subject counts as soft-deleted when every version of it is. */
export function listSubjects(state: RegistryState, filter: DeletedFilter = {}): string[] {
  const out: string[] = [];
  for (const [subject, versions] of state.subjects) {
    const live = versions.some((v) => !v.deleted);
    if (filter.deletedOnly === true ? !live : live || filter.deleted === true) out.push(subject);
  }
  return out.sort();
}

export function listVersions(state: RegistryState, subject: string, filter: DeletedFilter = {}): Result<number[]> {
  if (!hasSubject(state, subject, includesDeleted(filter))) return fail(errors.subjectNotFound(subject));
  const shown = (v: StoredVersion) => (filter.deletedOnly === true ? v.deleted : !v.deleted || filter.deleted === true);
  return ok(allVersions(state, subject).filter(shown).map((v) => v.version));
}

/** `latest` is the newest live version even when deleted ones are asked for, as in Confluent. */
export function findVersion(state: RegistryState, subject: string, version: number | 'latest', includeDeleted: boolean): StoredVersion | undefined {
  if (version === 'latest') return liveVersions(state, subject).at(-1);
  const found = allVersions(state, subject).find((v) => v.version === version);
  return found !== undefined && (includeDeleted || !found.deleted) ? found : undefined;
}

export function getVersion(state: RegistryState, subject: string, rawVersion: string, includeDeleted = false): Result<SchemaVersion> {
  const parsed = parseVersion(rawVersion);
  if (!parsed.ok) return parsed;
  const found = findVersion(state, subject, parsed.value, includeDeleted);
  if (found !== undefined) return ok(publicVersion(found));
  return fail(hasSubject(state, subject, includeDeleted) ? errors.versionNotFound(rawVersion) : errors.subjectNotFound(subject));
}

export function schemaById(state: RegistryState, id: number): Result<string> {
  const schema = state.schemaById.get(id);
  return schema === undefined ? fail(errors.schemaNotFound(id)) : ok(schema);
}

/** Every subject-version holding the id; an id only soft-deleted versions hold lists nothing unless asked. */
export function versionsById(state: RegistryState, id: number, includeDeleted = false): Result<SubjectVersion[]> {
  const holders = holdersOf(state, id);
  if (holders.length === 0) return fail(errors.schemaNotFound(id));
  return ok(
    holders
      .filter((v) => includeDeleted || !v.deleted)
      .map(({ subject, version }) => ({ subject, version }))
      .sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version)),
  );
}

/** POST /subjects/:subject — is this schema registered under the subject? */
export function lookup(state: RegistryState, subject: string, schemaText: string, includeDeleted = false): Result<SchemaVersion> {
  if (!hasSubject(state, subject, includeDeleted)) return fail(errors.subjectNotFound(subject));
  const parsed = parseAvro(schemaText);
  if (!parsed.ok) return parsed;
  const found = allVersions(state, subject).find((v) => v.canonical === parsed.value.canonical && (includeDeleted || !v.deleted));
  return found === undefined ? fail(errors.schemaNotFound()) : ok(publicVersion(found));
}

/** Checks a candidate against one live version (or the latest), in the subject's direction. */
export function checkCompatibility(state: RegistryState, subject: string, rawVersion: string, schemaText: string): Result<CompatibilityReport> {
  const target = getVersion(state, subject, rawVersion);
  if (!target.ok) return target;
  const parsed = parseAvro(schemaText);
  if (!parsed.ok) return parsed;
  const level = levelFor(state, subject);
  if (level === 'NONE') return ok({ isCompatible: true, messages: [] });
  return ok(checkAgainst(level, parsed.value.type, [{ version: target.value.version, type: typeOf(state, target.value.id) }]));
}

export function getConfig(state: RegistryState, subject: string | null, defaultToGlobal = false): Result<CompatibilityLevel> {
  if (subject === null) return ok(state.globalConfig);
  const level = state.subjectConfig.get(subject);
  if (level !== undefined) return ok(level);
  return defaultToGlobal ? ok(state.globalConfig) : fail(errors.subjectConfigNotFound(subject));
}

export function getMode(state: RegistryState, subject: string | null, defaultToGlobal = false): Result<Mode> {
  if (subject === null) return ok(state.globalMode);
  const mode = state.subjectMode.get(subject);
  if (mode !== undefined) return ok(mode);
  return defaultToGlobal ? ok(state.globalMode) : fail(errors.subjectModeNotFound(subject));
}
