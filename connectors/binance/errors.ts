// Binance's error answers → VenueError with a stable code. Bodies are {code, msg} with negative codes;
// the HTTP status says who is at fault (4xx us, 5xx them, 429/418 rate limit and ban).
import { retryAfterMs, VenueError, type CallContext } from '../http.ts';

export const TIMESTAMP_OUTSIDE_RECV_WINDOW = -1021;
/** errors.md -1006 UNEXPECTED_RESP and -1007 TIMEOUT: "execution status unknown", whatever the HTTP status. */
const STATUS_UNKNOWN = new Set([-1006, -1007]);
const AUTH = new Set([-1022, -2014, -2015]); // bad signature, bad key format, key/IP/permission refused

export function binanceError(status: number, body: unknown, headers: Headers, c: CallContext, now: number): VenueError {
  const b = typeof body === 'object' && body !== null ? body as { code?: unknown; msg?: unknown } : {};
  const code = typeof b.code === 'number' ? b.code : null;
  const text = typeof b.msg === 'string' ? b.msg : 'no error body';
  const about = c.clientOrderId ? `${c.venue} ${c.operation} ${c.clientOrderId}` : `${c.venue} ${c.operation}`;
  const ctx = { venue: c.venue, operation: c.operation, clientOrderId: c.clientOrderId ?? null, status, venueCode: code === null ? null : String(code) };
  const msg = `${about}: HTTP ${status} (${code ?? '-'}: ${text})`;
  if (code !== null && STATUS_UNKNOWN.has(code)) return new VenueError('VENUE_TIMEOUT', msg, ctx);
  if (status === 429 || status === 418) {
    // 418 is the ban that follows ignored 429s: its Retry-After can be minutes to days.
    return new VenueError('VENUE_RATE_LIMITED', msg, { ...ctx, retryAfterMs: retryAfterMs(headers, now) ?? (status === 418 ? 60_000 : 1_000) });
  }
  // rest-api.md "HTTP Return Codes": a 5xx is not a failure, its execution status is UNKNOWN.
  if (status >= 500) return new VenueError('VENUE_UNAVAILABLE', msg, ctx);
  if (code === TIMESTAMP_OUTSIDE_RECV_WINDOW) return new VenueError('VENUE_CLOCK_SKEW', msg, ctx);
  if (code !== null && AUTH.has(code)) return new VenueError('VENUE_AUTH', msg, ctx);
  if (code === -2013 || code === -2011) return new VenueError('VENUE_NOT_FOUND', msg, ctx);
  if (code === -2010 && /duplicate/i.test(text)) return new VenueError('VENUE_DUPLICATE', msg, ctx);
  return new VenueError('VENUE_REJECTED', msg, ctx);
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What a failed submit says about the order: 'unknown' when the venue may have it or may still apply
 * it (no answer, 5xx, -1006/-1007, an unreadable 2xx, "duplicate"), 'refused' when it never reached the
 * matching engine (a 4xx refusal, 429/418, -1021, a connection that was never made).
 */
export function submitOutcome(e: unknown): 'unknown' | 'refused' {
  if (!(e instanceof VenueError)) return 'unknown';
  switch (e.code) {
    case 'VENUE_TIMEOUT': case 'VENUE_BAD_RESPONSE': case 'VENUE_DUPLICATE':
      return 'unknown';
    case 'VENUE_UNAVAILABLE': {
      if (e.status !== null) return 'unknown';
      const cause = (e.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
      return typeof cause === 'string' && NEVER_SENT.has(cause) ? 'refused' : 'unknown';
    }
    default:
      return 'refused';
  }
}
