// The `_schemas` record format, key and value as Confluent's registry writes them, so either
// registry can fold the other's topic. Keys must be byte-identical per entity for compaction: a
// deleted flag rewrites a version's key, a null value (tombstone) removes it.
import { isCompatibilityLevel, isMode, type Mode, type RegistryEvent } from './model.ts';

export interface SchemasRecord {
  readonly key: string;
  readonly value: string | null;
}

const schemaKey = (subject: string, version: number): string => JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 });
const configKey = (subject: string | null): string => JSON.stringify({ keytype: 'CONFIG', subject, magic: 0 });
const modeKey = (subject: string | null): string => JSON.stringify({ keytype: 'MODE', subject, magic: 0 });

export function toRecord(event: RegistryEvent): SchemasRecord {
  switch (event.type) {
    case 'SchemaRegistered':
    case 'VersionSoftDeleted': {
      const { subject, version, id, schema } = event;
      const deleted = event.type === 'VersionSoftDeleted';
      return { key: schemaKey(subject, version), value: JSON.stringify({ subject, version, id, schema, deleted }) };
    }
    case 'VersionPermanentlyDeleted':
      return { key: schemaKey(event.subject, event.version), value: null };
    case 'SubjectSoftDeleted':
      return {
        key: JSON.stringify({ keytype: 'DELETE_SUBJECT', subject: event.subject, magic: 0 }),
        value: JSON.stringify({ subject: event.subject, version: event.upToVersion }),
      };
    case 'ConfigChanged':
      return { key: configKey(event.subject), value: JSON.stringify({ compatibilityLevel: event.compatibility }) };
    case 'ConfigDeleted':
      return { key: configKey(event.subject), value: null };
    case 'ModeChanged':
      return { key: modeKey(event.subject), value: JSON.stringify({ subject: event.subject, mode: event.mode }) };
    case 'ModeDeleted':
      return { key: modeKey(event.subject), value: null };
    default: {
      const unreachable: never = event;
      throw new Error(`unknown registry event ${JSON.stringify(unreachable)}`);
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function schemaEvent(k: Record<string, unknown>, v: Record<string, unknown> | null): RegistryEvent | null {
  if (v === null) {
    if (typeof k.subject !== 'string' || typeof k.version !== 'number') return null;
    return { type: 'VersionPermanentlyDeleted', subject: k.subject, version: k.version };
  }
  const { subject, version, id, schema, deleted, schemaType } = v;
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') return null;
  if (typeof subject !== 'string' || typeof version !== 'number' || typeof id !== 'number' || typeof schema !== 'string') return null;
  return { type: deleted === true ? 'VersionSoftDeleted' : 'SchemaRegistered', subject, version, id, schema };
}

/** Confluent's deprecated READONLY_OVERRIDE is read-only too; FORWARD (schema linking) is not modelled. */
function modeOf(raw: unknown): Mode | null {
  if (raw === 'READONLY_OVERRIDE') return 'READONLY';
  return typeof raw === 'string' && isMode(raw) ? raw : null;
}

/** Null for records we do not model (NOOP, CLEAR_SUBJECT, contexts, non-Avro schemas, unknown levels). */
export function fromRecord(key: string, value: string | null): RegistryEvent | null {
  const k: unknown = JSON.parse(key);
  const v: unknown = value === null ? null : JSON.parse(value);
  if (!isObject(k) || (v !== null && !isObject(v))) return null;
  const subject = typeof k.subject === 'string' ? k.subject : null;
  switch (k.keytype) {
    case 'SCHEMA':
      return schemaEvent(k, v);
    case 'DELETE_SUBJECT':
      if (v === null || subject === null || typeof v.version !== 'number') return null;
      return { type: 'SubjectSoftDeleted', subject, upToVersion: v.version };
    case 'CONFIG': {
      if (v === null) return { type: 'ConfigDeleted', subject };
      const level = v.compatibilityLevel;
      return typeof level === 'string' && isCompatibilityLevel(level) ? { type: 'ConfigChanged', subject, compatibility: level } : null;
    }
    case 'MODE': {
      if (v === null) return { type: 'ModeDeleted', subject };
      const mode = modeOf(v.mode);
      return mode === null ? null : { type: 'ModeChanged', subject, mode };
    }
    default:
      return null;
  }
}
