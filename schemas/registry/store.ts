// Pure core of the schema registry: state, decisions and lookups. No I/O, no clock.
// The shell asks for a decision, persists the resulting event, then applies it, so the
// state only ever moves through events that are already durable in `_schemas`.
import avsc from 'avsc';

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

export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
}

export type RegistryEvent =
  | ({ readonly type: 'SchemaRegistered' } & SchemaVersion)
  | { readonly type: 'ConfigChanged'; readonly subject: string | null; readonly compatibility: CompatibilityLevel };

/** Confluent's error shape: HTTP status plus a stable `error_code`. */
export interface RegistryError {
  readonly status: number;
  readonly errorCode: number;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RegistryError };

export type RegisterDecision =
  | { readonly kind: 'existing'; readonly version: SchemaVersion }
  | { readonly kind: 'new'; readonly event: Extract<RegistryEvent, { type: 'SchemaRegistered' }> };

export interface CompatibilityReport {
  readonly isCompatible: boolean;
  readonly messages: readonly string[];
}

export const errors = {
  subjectNotFound: (subject: string): RegistryError => ({ status: 404, errorCode: 40401, message: `Subject '${subject}' not found.` }),
  versionNotFound: (version: string): RegistryError => ({ status: 404, errorCode: 40402, message: `Version ${version} not found.` }),
  schemaNotFound: (id?: number): RegistryError => ({
    status: 404,
    errorCode: 40403,
    message: id === undefined ? 'Schema not found' : `Schema ${id} not found`,
  }),
  subjectConfigNotFound: (subject: string): RegistryError => ({
    status: 404,
    errorCode: 40408,
    message: `Subject '${subject}' does not have subject-level compatibility configured`,
  }),
  incompatible: (subject: string, reasons: readonly string[]): RegistryError => ({
    status: 409,
    errorCode: 409,
    message: `Schema being registered is incompatible with an earlier schema for subject "${subject}"; details: [${reasons.join('; ')}]`,
  }),
  invalidSchema: (reason: string): RegistryError => ({ status: 422, errorCode: 42201, message: `Invalid schema: ${reason}` }),
  invalidVersion: (version: string): RegistryError => ({
    status: 422,
    errorCode: 42202,
    message: `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  }),
  invalidCompatibility: (level: string): RegistryError => ({
    status: 422,
    errorCode: 42203,
    message: `Invalid compatibility level '${level}'. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
  }),
};

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: RegistryError): Result<T> => ({ ok: false, error });

export function isCompatibilityLevel(value: string): value is CompatibilityLevel {
  return (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

interface ParsedSchema {
  readonly text: string; // compact JSON in the caller's key order: what we store and serve
  readonly canonical: string; // key-sorted compact JSON: what "the same schema" means
  readonly type: avsc.Type;
}

/** Parses and validates an Avro schema given as text. */
export function parseAvro(schemaText: string): Result<ParsedSchema> {
  let json: unknown;
  try {
    json = JSON.parse(schemaText);
  } catch (err) {
    return fail(errors.invalidSchema(`not JSON: ${(err as Error).message}`));
  }
  try {
    const type = avsc.Type.forSchema(json as avsc.Schema);
    return ok({ text: JSON.stringify(json), canonical: JSON.stringify(sortKeys(json)), type });
  } catch (err) {
    return fail(errors.invalidSchema((err as Error).message));
  }
}

/** Why `reader` cannot decode data written with `writer`, or null when it can. */
function cannotRead(reader: avsc.Type, writer: avsc.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Compatibility of a candidate against the given earlier versions, per the level's direction. */
export function checkAgainst(level: CompatibilityLevel, candidate: avsc.Type, earlier: readonly { version: number; type: avsc.Type }[]): CompatibilityReport {
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const { version, type } of earlier) {
    const b = backward ? cannotRead(candidate, type) : null;
    if (b !== null) messages.push(`new schema cannot read data written with version ${version}: ${b}`);
    const f = forward ? cannotRead(type, candidate) : null;
    if (f !== null) messages.push(`version ${version} cannot read data written with the new schema: ${f}`);
  }
  return { isCompatible: messages.length === 0, messages };
}

/** `latest`/-1 or a positive 32-bit integer; anything else is Confluent's 42202. */
export function parseVersion(raw: string): Result<number | 'latest'> {
  if (raw === 'latest' || raw === '-1') return ok('latest');
  if (!/^\d+$/.test(raw)) return fail(errors.invalidVersion(raw));
  const n = Number(raw);
  return n >= 1 && n <= 2 ** 31 - 1 ? ok(n) : fail(errors.invalidVersion(raw));
}

interface StoredVersion extends SchemaVersion {
  readonly canonical: string;
}

export type RegistryStore = ReturnType<typeof createRegistryStore>;

export function createRegistryStore() {
  const subjects = new Map<string, StoredVersion[]>();
  const schemaById = new Map<number, string>();
  const idByCanonical = new Map<string, number>();
  const typeById = new Map<number, avsc.Type>();
  const subjectConfig = new Map<string, CompatibilityLevel>();
  let globalConfig: CompatibilityLevel = DEFAULT_COMPATIBILITY;
  let nextId = 1;

  const levelFor = (subject: string): CompatibilityLevel => subjectConfig.get(subject) ?? globalConfig;

  const typeOf = (id: number): avsc.Type => {
    let type = typeById.get(id);
    if (type === undefined) {
      // Stored schemas were valid when registered; parse lazily so a replay stays cheap.
      type = avsc.Type.forSchema(JSON.parse(schemaById.get(id) ?? 'null') as avsc.Schema);
      typeById.set(id, type);
    }
    return type;
  };

  const publicVersion = ({ subject, version, id, schema }: StoredVersion): SchemaVersion => ({ subject, version, id, schema });

  function getVersion(subject: string, rawVersion: string): Result<SchemaVersion> {
    const parsed = parseVersion(rawVersion);
    if (!parsed.ok) return parsed;
    const versions = subjects.get(subject);
    if (versions === undefined) return fail(errors.subjectNotFound(subject));
    const found = parsed.value === 'latest' ? versions.at(-1) : versions.find((v) => v.version === parsed.value);
    return found === undefined ? fail(errors.versionNotFound(rawVersion)) : ok(publicVersion(found));
  }

  return {
    subjects: (): string[] => [...subjects.keys()].sort(),

    versions: (subject: string): Result<number[]> => {
      const versions = subjects.get(subject);
      return versions === undefined ? fail(errors.subjectNotFound(subject)) : ok(versions.map((v) => v.version));
    },

    getVersion,

    schemaById: (id: number): Result<string> => {
      const schema = schemaById.get(id);
      return schema === undefined ? fail(errors.schemaNotFound(id)) : ok(schema);
    },

    /** POST /subjects/:subject — is this schema already registered under the subject? */
    lookup: (subject: string, schemaText: string): Result<SchemaVersion> => {
      const versions = subjects.get(subject);
      if (versions === undefined) return fail(errors.subjectNotFound(subject));
      const parsed = parseAvro(schemaText);
      if (!parsed.ok) return parsed;
      const found = versions.find((v) => v.canonical === parsed.value.canonical);
      return found === undefined ? fail(errors.schemaNotFound()) : ok(publicVersion(found));
    },

    /** Checks a candidate against one version (or latest), in the subject's direction. */
    checkCompatibility: (subject: string, rawVersion: string, schemaText: string): Result<CompatibilityReport> => {
      const target = getVersion(subject, rawVersion);
      if (!target.ok) return target;
      const parsed = parseAvro(schemaText);
      if (!parsed.ok) return parsed;
      const level = levelFor(subject);
      if (level === 'NONE') return ok({ isCompatible: true, messages: [] });
      return ok(checkAgainst(level, parsed.value.type, [{ version: target.value.version, type: typeOf(target.value.id) }]));
    },

    getConfig: (subject: string | null, defaultToGlobal = false): Result<CompatibilityLevel> => {
      if (subject === null) return ok(globalConfig);
      const level = subjectConfig.get(subject);
      if (level !== undefined) return ok(level);
      return defaultToGlobal ? ok(globalConfig) : fail(errors.subjectConfigNotFound(subject));
    },

    decideConfig: (subject: string | null, rawLevel: string): Result<Extract<RegistryEvent, { type: 'ConfigChanged' }>> => {
      const level = rawLevel.toUpperCase();
      if (!isCompatibilityLevel(level)) return fail(errors.invalidCompatibility(rawLevel));
      return ok({ type: 'ConfigChanged', subject, compatibility: level });
    },

    /** Same schema in the subject → its version; else check compatibility and mint a version. */
    decideRegister: (subject: string, schemaText: string): Result<RegisterDecision> => {
      const parsed = parseAvro(schemaText);
      if (!parsed.ok) return parsed;
      const { text, canonical, type } = parsed.value;
      const versions = subjects.get(subject) ?? [];
      const same = versions.find((v) => v.canonical === canonical);
      if (same !== undefined) return ok({ kind: 'existing', version: publicVersion(same) });

      const level = levelFor(subject);
      if (level !== 'NONE' && versions.length > 0) {
        const against = level.endsWith('_TRANSITIVE') ? versions : versions.slice(-1);
        const report = checkAgainst(level, type, against.map((v) => ({ version: v.version, type: typeOf(v.id) })));
        if (!report.isCompatible) return fail(errors.incompatible(subject, report.messages));
      }
      const id = idByCanonical.get(canonical) ?? nextId;
      const version = (versions.at(-1)?.version ?? 0) + 1;
      return ok({ kind: 'new', event: { type: 'SchemaRegistered', subject, version, id, schema: text } });
    },

    /** Applies a durable event. Idempotent, so replaying a topic twice is harmless. */
    apply: (event: RegistryEvent): void => {
      switch (event.type) {
        case 'SchemaRegistered': {
          const versions = subjects.get(event.subject) ?? [];
          if (versions.some((v) => v.version === event.version)) return;
          const parsed = parseAvro(event.schema);
          const canonical = parsed.ok ? parsed.value.canonical : event.schema;
          versions.push({ subject: event.subject, version: event.version, id: event.id, schema: event.schema, canonical });
          versions.sort((a, b) => a.version - b.version);
          subjects.set(event.subject, versions);
          if (!schemaById.has(event.id)) schemaById.set(event.id, event.schema);
          if (!idByCanonical.has(canonical)) idByCanonical.set(canonical, event.id);
          if (parsed.ok && !typeById.has(event.id)) typeById.set(event.id, parsed.value.type);
          nextId = Math.max(nextId, event.id + 1);
          return;
        }
        case 'ConfigChanged':
          if (event.subject === null) globalConfig = event.compatibility;
          else subjectConfig.set(event.subject, event.compatibility);
          return;
        default: {
          const unreachable: never = event;
          throw new Error(`unknown registry event ${JSON.stringify(unreachable)}`);
        }
      }
    },
  };
}
