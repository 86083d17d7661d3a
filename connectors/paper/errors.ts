// The paper client's one error type: a stable code for the runtime to branch on, a retriable flag, and
// context fields. Messages name the venue, the operation and the clientOrderId, never request bodies or
// headers (where other venues keep their keys). A VenueError like every venue's, so that the runtime
// reads its code and the venue's own code the same way for all of them.
import { VenueError } from '../http.ts';

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

export class PaperVenueError extends VenueError {
  declare readonly code: PaperVenueErrorCode;
  readonly venue: string;
  readonly clientOrderId: string | null;
  readonly field: string | null;

  constructor(code: PaperVenueErrorCode, message: string, context: PaperVenueErrorContext) {
    super(code, message, {
      venue: context.venue, operation: context.operation, clientOrderId: context.clientOrderId, status: context.status,
      venueCode: context.venueCode, cause: context.cause, retriable: code === 'VENUE_TIMEOUT' || code === 'VENUE_UNAVAILABLE',
    });
    this.name = 'PaperVenueError';
    this.venue = context.venue;
    this.clientOrderId = context.clientOrderId ?? null;
    this.field = context.field ?? null;
  }
}
