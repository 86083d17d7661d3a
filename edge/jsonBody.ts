// JSON request body → plain object, refusing keys that could reach an object's prototype. Pure; used
// by the edge's routes before any alert or signed-intent parsing (signal.ts).
import { invalidField } from './errors.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON text → plain object. Keys that could reach an object's prototype are refused anywhere in the
 * tree, so no later spread or merge can be turned into prototype pollution.
 */
export function parseJsonBody(raw: Buffer | string): Record<string, unknown> {
  let text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let forbidden: string | null = null;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden = key;
      return v;
    });
  } catch {
    // The parser's message quotes the body (and with it the secret): never pass it on.
    throw invalidField('body', 'not valid JSON');
  }
  if (forbidden !== null) throw invalidField(forbidden, 'forbidden key');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidField('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}
