// Bearer tokens for the ops API. Each token has a name (written into the audit trail and the Control
// record's `actor`) and a role. Tokens come from OPS_TOKENS, or from the ops_tokens table where only
// their sha256 is stored. Only digests are kept in memory, compared in constant time; a token is never
// logged, echoed in an error, or stored in clear.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../../streams/runtime/env.ts';
import type { Role } from '../../streams/control/model.ts';

export type { Role } from '../../streams/control/model.ts';

export const OPS_ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly Role[];

export interface OpsIdentity { readonly name: string; readonly role: Role }

interface TokenEntry { readonly name: string; readonly role: Role; readonly digest: Buffer }

export const MIN_TOKEN_LENGTH = 32;
// A 32-character random hex or base64 token has 14 or more distinct characters all but never;
// "aaaa…" or "abababab…" has a handful.
const MIN_DISTINCT_CHARACTERS = 10;

const entrySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ @ -'),
  role: z.enum(OPS_ROLES),
  token: z.string(),
});

export const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Why a token is unacceptable, or null. Never includes the token. */
export function tokenWeakness(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) return `token is too short (at least ${MIN_TOKEN_LENGTH} characters)`;
  if (new Set(token).size < MIN_DISTINCT_CHARACTERS) return 'token is too weak (too few distinct characters)';
  return null;
}

export const generateToken = (): string => randomBytes(32).toString('base64url');

/**
 * OPS_TOKENS: `[{"name":"alice","role":"admin","token":"<32+ random characters>"}]`. A bad entry stops
 * the process at start, named by its index and name; its token is never printed.
 */
export function parseOpsTokens(text: string | undefined): TokenEntry[] {
  if (text === undefined || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError('OPS_TOKENS: not valid JSON'); // V8's message would quote the text around the fault
  }
  if (!Array.isArray(json)) throw new ConfigError('OPS_TOKENS: expected a JSON array of {name, role, token}');
  const entries: TokenEntry[] = [];
  json.forEach((raw: unknown, i) => {
    const name = typeof (raw as { name?: unknown })?.name === 'string' ? (raw as { name: string }).name : null;
    const where = `OPS_TOKENS[${i}]${name !== null && /^[A-Za-z0-9._@-]{1,64}$/.test(name) ? ` (${name})` : ''}`;
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'entry';
      throw new ConfigError(`${where}: ${field}: ${issue.message}`);
    }
    const weakness = tokenWeakness(parsed.data.token);
    if (weakness !== null) throw new ConfigError(`${where}: ${weakness}; generate one with: openssl rand -hex 32`);
    const digest = sha256(parsed.data.token);
    entries.forEach((e, j) => {
      if (e.name === parsed.data.name) throw new ConfigError(`${where}: name already used by OPS_TOKENS[${j}]`);
      if (timingSafeEqual(e.digest, digest)) throw new ConfigError(`${where}: token already used by OPS_TOKENS[${j}]`);
    });
    entries.push({ name: parsed.data.name, role: parsed.data.role, digest });
  });
  return entries;
}

export interface OpsAuth {
  /** The caller behind an `Authorization: Bearer <token>` header, or null. */
  authenticate(header: string | undefined): Promise<OpsIdentity | null>;
  /** How many tokens are configured in the environment (the table is not counted). */
  readonly configured: number;
}

const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

export function createOpsAuth(o: { tokens: readonly TokenEntry[]; lookup?: (digest: Buffer) => Promise<OpsIdentity | null> }): OpsAuth {
  // With no token configured, a compare still happens, so an empty list does not answer faster.
  const decoy: TokenEntry = { name: '', role: 'viewer', digest: sha256(randomBytes(32).toString('hex')) };
  const entries = o.tokens.length > 0 ? o.tokens : [decoy];
  return {
    configured: o.tokens.length,
    async authenticate(header) {
      const match = header === undefined ? null : BEARER.exec(header);
      if (match === null) return null;
      const digest = sha256(match[1]);
      let found: TokenEntry | null = null;
      // Every entry is compared (no early exit), so timing does not tell which entry was close.
      for (const e of entries) if (timingSafeEqual(e.digest, digest) && e !== decoy) found = e;
      if (found !== null) return { name: found.name, role: found.role };
      // The table is searched by digest: what the lookup's timing could reveal is about a hash, not the token.
      return o.lookup ? o.lookup(digest) : null;
    },
  };
}
