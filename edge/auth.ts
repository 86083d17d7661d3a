// Authentication of the two senders. Pure: secrets, body and the current time come in as arguments.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export const SIGNATURE_HEADER = 'x-signature';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * TradingView's body secret against the strategy's active secrets. Comparing SHA-256 digests keeps the
 * comparison equal-length, so neither the content nor the length of a secret leaks through timing;
 * every secret is compared (no early exit) so the answer time does not say which one matched.
 */
export function secretMatches(provided: string, secrets: readonly string[]): boolean {
  const p = sha256(provided);
  let ok = false;
  for (const s of secrets) ok = timingSafeEqual(p, sha256(s)) || ok;
  return ok;
}

export interface ParsedSignature {
  timestamp: number;
  signatures: Buffer[];
}

/** `t=<unix seconds>,v1=<64 hex>[,v1=<64 hex>]`; null when malformed. Several v1 let a sender sign with both secrets while rotating. */
export function parseSignatureHeader(header: string | undefined): ParsedSignature | null {
  if (header === undefined || header.length > 512) return null;
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') {
      if (timestamp !== null || !/^\d{1,12}$/.test(v)) return null;
      timestamp = Number(v);
    } else if (k === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(v)) return null;
      signatures.push(Buffer.from(v, 'hex'));
    }
    // Other schemes (v0, v2...) are ignored so senders can add one before we support it.
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export type SignatureCheck =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: 'MISSING' | 'MALFORMED' | 'STALE' | 'MISMATCH' };

export interface SignatureInput {
  header: string | undefined;
  /** The body exactly as received: the signature covers bytes, not our re-serialisation. */
  rawBody: Buffer | string;
  secrets: readonly string[];
  nowMs: number;
  maxSkewSec: number;
}

export function signPayload(secret: string, timestamp: number, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(rawBody).digest();
}

/** HMAC-SHA256 over `${t}.${rawBody}`, |now - t| ≤ maxSkewSec, either active secret. The reason is for logs only. */
export function verifySignature(input: SignatureInput): SignatureCheck {
  if (input.header === undefined || input.header === '') return { ok: false, reason: 'MISSING' };
  const parsed = parseSignatureHeader(input.header);
  if (parsed === null) return { ok: false, reason: 'MALFORMED' };
  // Bounded skew caps how long a captured request can be replayed; dedupe by id covers the window.
  if (Math.abs(input.nowMs / 1000 - parsed.timestamp) > input.maxSkewSec) return { ok: false, reason: 'STALE' };
  let matched = -1;
  input.secrets.forEach((secret, i) => {
    const expected = signPayload(secret, parsed.timestamp, input.rawBody);
    for (const sig of parsed.signatures) if (timingSafeEqual(expected, sig) && matched < 0) matched = i;
  });
  return matched >= 0 ? { ok: true, secretIndex: matched } : { ok: false, reason: 'MISMATCH' };
}

/** Header value a sender would send: used by tests, scripts and the benchmark's client. */
export function signatureHeader(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return `t=${timestamp},v1=${signPayload(secret, timestamp, rawBody).toString('hex')}`;
}

/** Source-address allowlist (IPs or CIDR ranges). IPv4-mapped IPv6 addresses match their IPv4 entries. */
export function createIpAllowlist(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (ip) => {
    const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : null;
    return family !== null && list.check(ip, family);
  };
}
