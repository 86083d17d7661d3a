// The paper client's one error type: a stable code for the runtime to branch on, a retriable flag, and
// context fields. Messages name the venue, the operation and the clientOrderId, never request bodies or
// headers (where other venues keep their keys).

export type PaperVenueErrorCode =
  /** No answer in time: the order may or may not exist; look it up before re-sending. */
  | 'VENUE_TIMEOUT'
  /** Connection refused / reset, 5xx or 429: nothing was decided; safe to retry. */
  | 'VENUE_UNAVAILABLE'
  /** 4xx: the venue refused the request itself; retrying the same request cannot help. */
  | 'VENUE_REJECTED'
  /** A 2xx answer we could not read: a protocol mismatch, not a transient fault. */
  | 'VENUE_BAD_RESPONSE';

export interface PaperVenueErrorContext {
  venue: string;
  operation: string;
  clientOrderId?: string | null;
  status?: number | null;
  /** The venue's own error code from the body, e.g. ORDER_NOT_FOUND, INVALID_REQUEST. */
  venueCode?: string | null;
  field?: string | null;
  cause?: unknown;
}

export class PaperVenueError extends Error {
  readonly code: PaperVenueErrorCode;
  readonly retriable: boolean;
  readonly venue: string;
  readonly operation: string;
  readonly clientOrderId: string | null;
  readonly status: number | null;
  readonly venueCode: string | null;
  readonly field: string | null;

  constructor(code: PaperVenueErrorCode, message: string, context: PaperVenueErrorContext) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'PaperVenueError';
    this.code = code;
    this.retriable = code === 'VENUE_TIMEOUT' || code === 'VENUE_UNAVAILABLE';
    this.venue = context.venue;
    this.operation = context.operation;
    this.clientOrderId = context.clientOrderId ?? null;
    this.status = context.status ?? null;
    this.venueCode = context.venueCode ?? null;
    this.field = context.field ?? null;
  }
}
