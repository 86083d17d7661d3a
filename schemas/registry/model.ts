// Contracts of the schema registry's pure core: compatibility levels, modes, the events that are
// the records of `_schemas`, and Confluent's error codes. No I/O.

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

/** Confluent's FORWARD mode (schema linking) and the deprecated READONLY_OVERRIDE are not offered. */
export const MODES = ['READWRITE', 'READONLY', 'IMPORT'] as const;
export type Mode = (typeof MODES)[number];
export const DEFAULT_MODE: Mode = 'READWRITE';

export const isCompatibilityLevel = (value: string): value is CompatibilityLevel => (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
export const isMode = (value: string): value is Mode => (MODES as readonly string[]).includes(value);

export interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
}

export interface SchemaVersion extends SubjectVersion {
  readonly id: number;
  readonly schema: string;
}

/** One event is one record of `_schemas` (records.ts); the registry's state is their fold (state.ts). */
export type RegistryEvent =
  | ({ readonly type: 'SchemaRegistered' } & SchemaVersion)
  // The SCHEMA record again with `deleted: true`. It carries the whole value because compaction drops
  // the original record, and a soft-deleted version must still fold to its schema and id.
  | ({ readonly type: 'VersionSoftDeleted' } & SchemaVersion)
  // A tombstone on the version's SCHEMA key.
  | ({ readonly type: 'VersionPermanentlyDeleted' } & SubjectVersion)
  // Confluent's own registry soft-deletes a subject with one DELETE_SUBJECT record (every version up to
  // `upToVersion`). We write per-version records; this event lets us fold a topic Confluent wrote.
  | { readonly type: 'SubjectSoftDeleted'; readonly subject: string; readonly upToVersion: number }
  | { readonly type: 'ConfigChanged'; readonly subject: string | null; readonly compatibility: CompatibilityLevel }
  | { readonly type: 'ConfigDeleted'; readonly subject: string | null }
  | { readonly type: 'ModeChanged'; readonly subject: string | null; readonly mode: Mode }
  | { readonly type: 'ModeDeleted'; readonly subject: string | null };

/** Confluent's error shape: HTTP status plus a stable `error_code`. */
export interface RegistryError {
  readonly status: number;
  readonly errorCode: number;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RegistryError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(error: RegistryError): Result<T> => ({ ok: false, error });

const notFound = (errorCode: number, message: string): RegistryError => ({ status: 404, errorCode, message });
const unprocessable = (errorCode: number, message: string): RegistryError => ({ status: 422, errorCode, message });

export const errors = {
  subjectNotFound: (subject: string) => notFound(40401, `Subject '${subject}' not found.`),
  versionNotFound: (version: string | number) => notFound(40402, `Version ${version} not found.`),
  schemaNotFound: (id?: number) => notFound(40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`),
  subjectSoftDeleted: (subject: string) =>
    notFound(40404, `Subject '${subject}' is already soft-deleted; delete it with permanent=true to remove it for good`),
  subjectNotSoftDeleted: (subject: string) =>
    notFound(40405, `Subject '${subject}' must be soft-deleted first before it can be deleted permanently`),
  versionSoftDeleted: (subject: string, version: number) =>
    notFound(40406, `Version ${version} of subject '${subject}' is already soft-deleted; delete it with permanent=true to remove it for good`),
  versionNotSoftDeleted: (subject: string, version: number) =>
    notFound(40407, `Version ${version} of subject '${subject}' must be soft-deleted first before it can be deleted permanently`),
  subjectConfigNotFound: (subject: string) =>
    notFound(40408, `Subject '${subject}' does not have subject-level compatibility configured`),
  subjectModeNotFound: (subject: string) => notFound(40409, `Subject '${subject}' does not have subject-level mode configured`),
  incompatible: (subject: string, reasons: readonly string[]): RegistryError => ({
    status: 409,
    errorCode: 409,
    message: `Schema being registered is incompatible with an earlier schema for subject "${subject}"; details: [${reasons.join('; ')}]`,
  }),
  invalidSchema: (reason: string) => unprocessable(42201, `Invalid schema: ${reason}`),
  invalidVersion: (version: string) =>
    unprocessable(
      42202,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidCompatibility: (level: string) =>
    unprocessable(42203, `Invalid compatibility level '${level}'. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`),
  invalidMode: (mode: string) => unprocessable(42204, `Invalid mode '${mode}'. Valid values are ${MODES.join(', ')}`),
  notPermitted: (message: string) => unprocessable(42205, message),
  readOnly: (subject: string | null) =>
    unprocessable(42205, subject === null ? 'The registry is in read-only mode' : `Subject '${subject}' is in read-only mode`),
};

/** `latest`/-1 or a positive 32-bit integer; anything else is Confluent's 42202. */
export function parseVersion(raw: string): Result<number | 'latest'> {
  if (raw === 'latest' || raw === '-1') return ok('latest');
  if (!/^\d+$/.test(raw)) return fail(errors.invalidVersion(raw));
  const n = Number(raw);
  return n >= 1 && n <= 2 ** 31 - 1 ? ok(n) : fail(errors.invalidVersion(raw));
}
