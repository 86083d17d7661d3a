// Alpaca's error answers → VenueError with a stable code. Bodies are {code, message}; the status
// decides what the failure means for the order, the body code refines it.
import { retryAfterMs, VenueError, type CallContext } from '../http.ts';

/**
 * Alpaca calls the client_order_id taken (422 "client_order_id must be unique") yet the look-up by that
 * id finds nothing: an order with it exists or is being created, so it may be live. Retriable, never a
 * REJECT; a resend can only meet the same refusal. The same code as IBKR's and MT5's.
 */
export class AlpacaOutcomeUnknown extends VenueError {
  constructor(venue: string, clientOrderId: string, cause: unknown, why = 'the id is taken but no order with it is listed yet') {
    super('VENUE_OUTCOME_UNKNOWN', `${venue} submit ${clientOrderId}: ${why}; outcome unknown`, {
      venue, operation: 'submit', clientOrderId, retriable: true, cause,
    });
    this.name = 'AlpacaOutcomeUnknown';
  }
}

/** Body codes Alpaca documents for refusals that are about the order, not about us. */
const BUSINESS_403 = new Set(['40310000']); // insufficient buying power / qty

export function alpacaError(status: number, body: unknown, headers: Headers, c: CallContext, now: number): VenueError {
  const b = typeof body === 'object' && body !== null ? body as { code?: unknown; message?: unknown } : {};
  const venueCode = b.code === undefined ? null : String(b.code);
  const text = typeof b.message === 'string' ? b.message : 'no error body';
  const about = c.clientOrderId ? `${c.venue} ${c.operation} ${c.clientOrderId}` : `${c.venue} ${c.operation}`;
  const ctx = { venue: c.venue, operation: c.operation, clientOrderId: c.clientOrderId ?? null, status, venueCode };
  const msg = `${about}: HTTP ${status} (${venueCode ?? '-'}: ${text})`;
  if (status === 429) {
    const reset = Number(headers.get('x-ratelimit-reset'));
    const wait = retryAfterMs(headers, now) ?? (Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : 1_000);
    return new VenueError('VENUE_RATE_LIMITED', msg, { ...ctx, retryAfterMs: wait });
  }
  if (status >= 500) return new VenueError('VENUE_UNAVAILABLE', msg, ctx);
  if (status === 401) return new VenueError('VENUE_AUTH', msg, ctx);
  if (status === 403) return new VenueError(venueCode && BUSINESS_403.has(venueCode) ? 'VENUE_REJECTED' : 'VENUE_AUTH', msg, ctx);
  if (status === 404) return new VenueError('VENUE_NOT_FOUND', msg, ctx);
  if (status === 422 && /client_order_id must be unique/i.test(text)) return new VenueError('VENUE_DUPLICATE', msg, ctx);
  return new VenueError('VENUE_REJECTED', msg, ctx);
}
