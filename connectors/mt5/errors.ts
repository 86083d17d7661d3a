// The MT5 connector's errors: the shared VenueError (stable code, retriable flag, venueCode = the MT5
// trade return code's name, which the runtime carries into a REJECT's reason) plus the numeric retcode.
// Messages name the operation and the clientOrderId; never the token or the account id.
import { VenueError, type VenueErrorCode } from '../http.ts';

export class Mt5Error extends VenueError {
  /** The MT5 trade return code (10004, 10019 …) when the failure came from the trade server. */
  readonly retcode: number | null;
  constructor(code: VenueErrorCode, message: string, ctx: { operation: string; clientOrderId?: string | null; status?: number | null; venueCode?: string | null; retcode?: number | null; retryAfterMs?: number | null; cause?: unknown }) {
    super(code, message, { venue: 'mt5', ...ctx });
    this.name = 'Mt5Error';
    this.retcode = ctx.retcode ?? null;
  }
}

/** Return codes that mean the request was done (MetaApi counts 0 and 10025 "no changes" as success too). */
export const SUCCESS_RETCODES: ReadonlySet<number> = new Set([0, 10008, 10009, 10010, 10025]);

/**
 * What a failed trade return code means for the order. VENUE_UNAVAILABLE / VENUE_RATE_LIMITED: nothing
 * was executed and the same request can work later (requote, prices changed, no quotes, no connection,
 * never delivered). VENUE_TIMEOUT: the server may have executed it (UNKNOWN_OUTCOME_RETCODES below).
 */
const RETCODES: Readonly<Record<number, { name: string; code: VenueErrorCode }>> = {
  [-10]: { name: 'TRADE_RETCODE_DISCONNECTED_BEFORE_TRADE', code: 'VENUE_UNAVAILABLE' },
  [-11]: { name: 'TRADE_RETCODE_DISCONNECTED_DURING_TRADE', code: 'VENUE_TIMEOUT' },
  10004: { name: 'TRADE_RETCODE_REQUOTE', code: 'VENUE_UNAVAILABLE' },
  10006: { name: 'TRADE_RETCODE_REJECT', code: 'VENUE_REJECTED' },
  10007: { name: 'TRADE_RETCODE_CANCEL', code: 'VENUE_REJECTED' },
  10011: { name: 'TRADE_RETCODE_ERROR', code: 'VENUE_TIMEOUT' },
  10012: { name: 'TRADE_RETCODE_TIMEOUT', code: 'VENUE_TIMEOUT' },
  10013: { name: 'TRADE_RETCODE_INVALID', code: 'VENUE_REJECTED' },
  10014: { name: 'TRADE_RETCODE_INVALID_VOLUME', code: 'VENUE_REJECTED' },
  10015: { name: 'TRADE_RETCODE_INVALID_PRICE', code: 'VENUE_REJECTED' },
  10016: { name: 'TRADE_RETCODE_INVALID_STOPS', code: 'VENUE_REJECTED' },
  10017: { name: 'TRADE_RETCODE_TRADE_DISABLED', code: 'VENUE_REJECTED' },
  10018: { name: 'TRADE_RETCODE_MARKET_CLOSED', code: 'VENUE_REJECTED' },
  10019: { name: 'TRADE_RETCODE_NO_MONEY', code: 'VENUE_REJECTED' },
  10020: { name: 'TRADE_RETCODE_PRICE_CHANGED', code: 'VENUE_UNAVAILABLE' },
  10021: { name: 'TRADE_RETCODE_PRICE_OFF', code: 'VENUE_UNAVAILABLE' },
  10022: { name: 'TRADE_RETCODE_INVALID_EXPIRATION', code: 'VENUE_REJECTED' },
  10024: { name: 'TRADE_RETCODE_TOO_MANY_REQUESTS', code: 'VENUE_RATE_LIMITED' },
  10026: { name: 'TRADE_RETCODE_SERVER_DISABLES_AT', code: 'VENUE_REJECTED' },
  10027: { name: 'TRADE_RETCODE_CLIENT_DISABLES_AT', code: 'VENUE_REJECTED' },
  10030: { name: 'TRADE_RETCODE_INVALID_FILL', code: 'VENUE_REJECTED' },
  10028: { name: 'TRADE_RETCODE_LOCKED', code: 'VENUE_TIMEOUT' },
  10031: { name: 'TRADE_RETCODE_CONNECTION', code: 'VENUE_UNAVAILABLE' },
  10036: { name: 'TRADE_RETCODE_POSITION_CLOSED', code: 'VENUE_REJECTED' },
  10038: { name: 'TRADE_RETCODE_INVALID_CLOSE_VOLUME', code: 'VENUE_REJECTED' },
  10045: { name: 'TRADE_RETCODE_FIFO_CLOSE', code: 'VENUE_REJECTED' },
};

/**
 * Return codes after which nobody can say whether the trade server executed the request: MetaApi's
 * MetatraderTradeResponse says so of -11 ("the result of the trade is not known"); MQL5's 10012 (canceled
 * by timeout), 10011 (processing error) and 10028 (locked for processing) leave it open too.
 */
export const UNKNOWN_OUTCOME_RETCODES: ReadonlySet<number> = new Set([-11, 10011, 10012, 10028]);

/** A failed trade's return code as an error; unknown codes are refusals (retrying blind could double). */
export function retcodeError(retcode: number, stringCode: string | null, operation: string, clientOrderId: string | null): Mt5Error {
  const known = RETCODES[retcode];
  const name = known?.name ?? stringCode ?? `RETCODE_${retcode}`;
  const code = known?.code ?? 'VENUE_REJECTED';
  const about = clientOrderId ? `mt5 ${operation} ${clientOrderId}` : `mt5 ${operation}`;
  return new Mt5Error(code, `${about}: ${name} (${retcode})`, {
    operation, clientOrderId, venueCode: name, retcode, retryAfterMs: code === 'VENUE_RATE_LIMITED' ? 1_000 : null,
  });
}

/** Failures of a network kind after which the request never left this host. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const networkCode = (e: unknown): string | null => {
  let c: unknown = e;
  for (let i = 0; i < 4 && c instanceof Error; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'VENUE_UNAVAILABLE') return code;
    c = c.cause;
  }
  return null;
};

/**
 * Whether a failed trade request may still have been executed. The bridge keeps no idempotency key, so
 * these are the failures that must never be followed by a blind resend: no answer in time, an unreadable
 * answer, a 5xx other than 503 (RFC 9110 §15.6.4: 503 is the server refusing to handle the request), a
 * connection that broke after it was made, and UNKNOWN_OUTCOME_RETCODES. A 429, a 503, a refused
 * connection and the conclusive return codes (requote, no connection …) mean nothing was executed.
 */
export function outcomeUnknown(e: unknown): boolean {
  if (e instanceof Mt5Error) {
    if (e.retcode !== null) return UNKNOWN_OUTCOME_RETCODES.has(e.retcode);
    if (e.code === 'VENUE_TIMEOUT' || e.code === 'VENUE_BAD_RESPONSE') return true;
    if (e.code === 'VENUE_UNAVAILABLE') return e.status === null ? !NOT_SENT.has(networkCode(e.cause) ?? '') : e.status !== 503;
    return false;
  }
  return e instanceof VenueError && (e.code === 'VENUE_TIMEOUT' || (e.code === 'VENUE_UNAVAILABLE' && !NOT_SENT.has(networkCode(e.cause) ?? '')));
}

/**
 * The order's outcome is unknown and the bridge cannot settle it: a trade that may have executed, not
 * listed (yet) by the bridge. Retriable, so the runtime never records a REJECT of a possibly live order;
 * the client never sends this client order id again and keeps looking it up. The same code as IBKR's.
 */
export class Mt5OutcomeUnknown extends VenueError {
  readonly clientOrderId: string;
  /** When the outcome became unknown (epoch ms) and what made it so (the failure's code or retcode). */
  readonly since: number;
  readonly reason: string;
  constructor(clientOrderId: string, since: number, reason: string) {
    super('VENUE_OUTCOME_UNKNOWN', `mt5 submit ${clientOrderId}: outcome unknown since ${new Date(since).toISOString()} (${reason}); never resent, looked up until the bridge lists it`, {
      venue: 'mt5', operation: 'submit', clientOrderId, retriable: true,
    });
    this.name = 'Mt5OutcomeUnknown';
    this.clientOrderId = clientOrderId;
    this.since = since;
    this.reason = reason;
  }
}
