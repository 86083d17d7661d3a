// Our clientOrderId does not fit an MT5 comment (31 characters, fewer once a bridge or broker adds its
// own), so orders carry a short token derived from it: deterministic, so a restarted process finds
// its orders again without any stored mapping, and long enough (60 bits) that two of our orders never
// share one in practice. Pure apart from hashing.
import { createHash } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** "or" + 12 base32 characters of sha256(clientOrderId): 14 characters, well within any comment limit. */
export function commentToken(clientOrderId: string): string {
  const digest = createHash('sha256').update(clientOrderId, 'utf8').digest();
  let bits = 0;
  let value = 0;
  let out = 'or';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 14) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 14) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

export const TOKEN_PATTERN = /^or[a-z2-7]{12}$/;
