// HTTP plumbing shared by the REST venues: one error type with stable codes that tell the runtime what
// a failure means for the order (outcome unknown, not executed, refused), a fetch with a deadline, and
// a rate gate that slows down before the venue's limit rather than after its ban.
import { setTimeout as sleep } from 'node:timers/promises';
import { RouterError } from '../schemas/errors.ts';

export type VenueErrorCode =
  /** No answer in time: the order may exist; look it up before sending again. */
  | 'VENUE_TIMEOUT'
  /** Connection refused or reset, or 5xx: for a submit the outcome is unknown too. */
  | 'VENUE_UNAVAILABLE'
  /** 429 / 418: refused before execution; wait retryAfterMs. */
  | 'VENUE_RATE_LIMITED'
  /** The venue refused our timestamp (Binance -1021): nothing executed; re-learn the clock and resend. */
  | 'VENUE_CLOCK_SKEW'
  /** The venue refused the request itself (4xx, business reject): sending it again cannot help. */
  | 'VENUE_REJECTED'
  /** Credentials refused: nothing will work until someone fixes the configuration. */
  | 'VENUE_AUTH'
  | 'VENUE_NOT_FOUND'
  /** The client order id is taken: the order exists already; look it up. */
  | 'VENUE_DUPLICATE'
  /** A 2xx we could not read: a protocol mismatch, not a transient fault. */
  | 'VENUE_BAD_RESPONSE'
  /** The runtime's breaker is open: the call was not made. */
  | 'VENUE_HALTED'
  /** The venue's session must be re-established (IBKR's brokerage session). */
  | 'VENUE_SESSION_EXPIRED'
  /** A confirmation question the connector may not answer yes to (IBKR). */
  | 'VENUE_CONFIRMATION_REFUSED'
  | 'VENUE_UNKNOWN_SYMBOL'
  /** The venue refused the client order id as taken, yet no look-up finds the order yet: it may be live. */
  | 'VENUE_OUTCOME_UNKNOWN';

const RETRIABLE: ReadonlySet<VenueErrorCode> = new Set(['VENUE_TIMEOUT', 'VENUE_UNAVAILABLE', 'VENUE_RATE_LIMITED', 'VENUE_CLOCK_SKEW', 'VENUE_HALTED']);

export interface VenueErrorContext {
  venue: string;
  operation: string;
  clientOrderId?: string | null;
  status?: number | null;
  /** The venue's own code from the error body, e.g. -2010 or 40310000. */
  venueCode?: string | null;
  retryAfterMs?: number | null;
  cause?: unknown;
  /** Whether trying again can help, when the venue's connector knows better than the code alone. */
  retriable?: boolean;
}

/** Messages name the venue, the operation and the clientOrderId; never URLs, bodies or headers (keys, signatures). */
export class VenueError extends RouterError {
  override readonly code: VenueErrorCode;
  readonly operation: string;
  readonly status: number | null;
  readonly venueCode: string | null;
  readonly retryAfterMs: number | null;
  constructor(code: VenueErrorCode, message: string, c: VenueErrorContext) {
    super(code, message, { retriable: c.retriable ?? RETRIABLE.has(code), cause: c.cause, context: { venue: c.venue, clientOrderId: c.clientOrderId ?? undefined } });
    this.name = 'VenueError';
    this.code = code;
    this.operation = c.operation;
    this.status = c.status ?? null;
    this.venueCode = c.venueCode ?? null;
    this.retryAfterMs = c.retryAfterMs ?? null;
  }
}

export interface HttpAnswer { status: number; headers: Headers; json: unknown }

export interface CallContext { venue: string; operation: string; clientOrderId?: string | null; timeoutMs: number }

export const describe = (c: CallContext) => (c.clientOrderId ? `${c.venue} ${c.operation} ${c.clientOrderId}` : `${c.venue} ${c.operation}`);

/** fetch with a deadline; network failures become VenueErrors. Any HTTP status is returned, not thrown. */
export async function venueFetch(url: string, init: RequestInit, c: CallContext): Promise<HttpAnswer> {
  const ctx = { venue: c.venue, operation: c.operation, clientOrderId: c.clientOrderId ?? null };
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(c.timeoutMs) });
    const text = await res.text();
    let json: unknown = null;
    try { json = text.length > 0 ? JSON.parse(text) : null; } catch { json = null; }
    return { status: res.status, headers: res.headers, json };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new VenueError('VENUE_TIMEOUT', `${describe(c)}: no answer within ${c.timeoutMs} ms`, { ...ctx, cause: err });
    }
    const reason = err instanceof Error && err.cause instanceof Error && 'code' in err.cause ? String(err.cause.code) : 'network error';
    throw new VenueError('VENUE_UNAVAILABLE', `${describe(c)}: cannot reach the venue (${reason})`, { ...ctx, cause: err });
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number): number | null {
  const raw = headers.get('retry-after');
  if (raw === null) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

export interface RateGateOptions {
  clock?: () => number;
  /** Budget per window (Binance: request weight per minute; Alpaca: requests per minute). */
  limit: number;
  /** Fraction of the budget after which requests wait for the next window. */
  softRatio?: number;
  windowMs?: number;
}

export interface RateGate {
  /** Waits until a request of this weight fits under the soft limit and no ban or Retry-After is pending. */
  take(weight?: number): Promise<void>;
  /** The venue's own count of what this window used (e.g. X-MBX-USED-WEIGHT-1M): it beats our estimate. */
  observeUsed(used: number): void;
  /** Alpaca style: what remains and when the window resets (epoch ms). */
  observeRemaining(remaining: number, resetAt: number | null): void;
  /** After a 429 / 418: nothing goes out before `ms` from now. */
  blockFor(ms: number): void;
  snapshot(): { used: number; blockedUntil: number };
}

export function createRateGate({ clock = Date.now, limit, softRatio = 0.8, windowMs = 60_000 }: RateGateOptions): RateGate {
  const soft = Math.max(1, Math.floor(limit * softRatio));
  let windowStart = Math.floor(clock() / windowMs) * windowMs;
  let used = 0;
  let blockedUntil = 0;
  const roll = (now: number) => {
    const start = Math.floor(now / windowMs) * windowMs;
    if (start !== windowStart) { windowStart = start; used = 0; }
  };
  return {
    async take(weight = 1) {
      for (;;) {
        const now = clock();
        roll(now);
        if (now < blockedUntil) { await sleep(blockedUntil - now); continue; }
        // Near the limit: wait for the window to turn over (a small margin for clock differences).
        if (used + weight > soft) { await sleep(windowStart + windowMs - now + 50); continue; }
        used += weight;
        return;
      }
    },
    observeUsed(v) { roll(clock()); used = Math.max(used, v); },
    observeRemaining(remaining, resetAt) {
      // The venue's window is its own (Alpaca's reset time), not our minute: only its reset unblocks.
      if (remaining <= limit - soft && resetAt !== null && resetAt > clock()) blockedUntil = Math.max(blockedUntil, resetAt);
    },
    blockFor(ms) { blockedUntil = Math.max(blockedUntil, clock() + ms); },
    snapshot: () => ({ used, blockedUntil }),
  };
}

/**
 * A credential: readable only through reveal(), so a config object that reaches a log, JSON or
 * util.inspect prints [redacted] instead of the key.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) { this.#value = value; }
  reveal(): string { return this.#value; }
  toJSON(): string { return '[redacted]'; }
  toString(): string { return '[redacted]'; }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return '[redacted]'; }
}
