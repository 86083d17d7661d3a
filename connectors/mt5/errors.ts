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
 * What a failed trade return code means for the order. Retriable codes are the ones where nothing was
 * executed and trying again later can work (requote, no prices, no connection), or where the outcome is
 * unknown (timeout, disconnected during the trade): the runtime looks the order up before any resend.
 */
const RETCODES: Readonly<Record<number, { name: string; code: VenueErrorCode }>> = {
  [-10]: { name: 'TRADE_RETCODE_DISCONNECTED_BEFORE_TRADE', code: 'VENUE_UNAVAILABLE' },
  [-11]: { name: 'TRADE_RETCODE_DISCONNECTED_DURING_TRADE', code: 'VENUE_TIMEOUT' },
  10004: { name: 'TRADE_RETCODE_REQUOTE', code: 'VENUE_UNAVAILABLE' },
  10006: { name: 'TRADE_RETCODE_REJECT', code: 'VENUE_REJECTED' },
  10007: { name: 'TRADE_RETCODE_CANCEL', code: 'VENUE_REJECTED' },
  10011: { name: 'TRADE_RETCODE_ERROR', code: 'VENUE_UNAVAILABLE' },
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
  10031: { name: 'TRADE_RETCODE_CONNECTION', code: 'VENUE_UNAVAILABLE' },
};

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
