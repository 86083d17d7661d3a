// The IBKR connector's one error type. Messages name the operation and the clientOrderId; never the
// session cookie, and the account id only masked (the gateway echoes it in some error texts).
import { VenueError } from '../http.ts';

export type IbkrErrorCode =
  /** No answer in time: the order may exist; look it up before re-sending. */
  | 'VENUE_TIMEOUT'
  /** Connection refused / reset or 5xx: nothing was decided. */
  | 'VENUE_UNAVAILABLE'
  /** 429 from the gateway (or our own pacing gave up): wait retryAfterMs. */
  | 'VENUE_RATE_LIMITED'
  /** 401 or auth/status says not authenticated: the brokerage session must be re-established. */
  | 'VENUE_SESSION_EXPIRED'
  /** The gateway refused the request itself (4xx or an `error` body). */
  | 'VENUE_REJECTED'
  /** A confirmation question outside the allow-list was answered `confirmed:false`. */
  | 'VENUE_CONFIRMATION_REFUSED'
  | 'VENUE_UNKNOWN_SYMBOL'
  | 'VENUE_NOT_FOUND'
  /** A 2xx answer we could not read: a protocol mismatch, not a transient fault. */
  | 'VENUE_BAD_RESPONSE'
  /**
   * The gateway refused the cOID as taken, yet no look-up finds the order yet: it may be live. Look it
   * up again later; never record it as rejected, and a resend can only meet the same refusal.
   */
  | 'VENUE_OUTCOME_UNKNOWN';

const RETRIABLE: ReadonlySet<IbkrErrorCode> = new Set(['VENUE_TIMEOUT', 'VENUE_UNAVAILABLE', 'VENUE_RATE_LIMITED', 'VENUE_SESSION_EXPIRED', 'VENUE_OUTCOME_UNKNOWN']);

export interface IbkrErrorContext {
  operation: string;
  clientOrderId?: string | null;
  status?: number | null;
  retryAfterMs?: number | null;
  /** IBKR's confirmation message id (o163 …) for CONFIRMATION_REFUSED. */
  messageId?: string | null;
  cause?: unknown;
}

/** A VenueError like every venue's; IBKR's confirmation message id rides along. */
export class IbkrError extends VenueError {
  declare readonly code: IbkrErrorCode;
  readonly clientOrderId: string | null;
  readonly messageId: string | null;

  constructor(code: IbkrErrorCode, message: string, ctx: IbkrErrorContext) {
    super(code, message, {
      venue: 'ibkr', operation: ctx.operation, clientOrderId: ctx.clientOrderId, status: ctx.status, retryAfterMs: ctx.retryAfterMs,
      cause: ctx.cause, retriable: RETRIABLE.has(code),
    });
    this.name = 'IbkrError';
    this.clientOrderId = ctx.clientOrderId ?? null;
    this.messageId = ctx.messageId ?? null;
  }
}

/** Keeps the last three characters of the account id: enough to tell accounts apart in a log. */
export function maskAccount(text: string, accountId: string): string {
  if (accountId.length === 0) return text;
  const masked = `${'*'.repeat(Math.max(0, accountId.length - 3))}${accountId.slice(-3)}`;
  return text.split(accountId).join(masked);
}
