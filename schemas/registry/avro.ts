// Avro for the registry: parsing, "the same schema", and compatibility between versions. Pure.
import avsc from 'avsc';
import { errors, fail, ok, type CompatibilityLevel, type Result } from './model.ts';

export interface ParsedSchema {
  readonly text: string; // compact JSON in the caller's key order: what we store and serve
  readonly canonical: string; // key-sorted compact JSON: what "the same schema" means
  readonly type: avsc.Type;
}

export interface CompatibilityReport {
  readonly isCompatible: boolean;
  readonly messages: readonly string[];
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
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
