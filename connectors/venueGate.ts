// The venue-call gate of a connector runtime: every call to the venue goes through `call`, which owns
// the circuit breaker and the venue's Retry-After. Failures that say "the venue is not answering" feed
// the breaker; when it opens or closes the gate tells its owner through `onHalt` / `onResume`, so the
// coordinator (runtime.ts) decides what a halt means for the order loop and `control`.
import { errorCode, isRetriable } from '../schemas/errors.ts';
import { faultOn } from '../streams/runtime/faults.ts';
import { closedBreaker, stepBreaker, type BreakerConfig, type BreakerInput, type BreakerState } from './breaker.ts';
import { VenueError } from './http.ts';

/** Retriable refusals in which the venue did answer: they do not count towards its circuit breaker. */
const VENUE_ANSWERED = new Set(['VENUE_CLOCK_SKEW', 'VENUE_OUTCOME_UNKNOWN']);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Any client's error may carry the venue's Retry-After as `retryAfterMs`. */
const retryAfter = (e: unknown): number => {
  const v = typeof e === 'object' && e !== null ? (e as { retryAfterMs?: unknown }).retryAfterMs : null;
  return typeof v === 'number' && v > 0 ? v : 0;
};

export interface VenueGateOptions {
  venue: string;
  clock: () => number;
  breaker: BreakerConfig;
  /** The breaker has just opened: the venue counts as down. */
  onHalt(reason: string): void;
  /** A probe succeeded on an open breaker: the venue answers again and is reconciled. */
  onResume(): void;
}

export type VenueGate = ReturnType<typeof createVenueGate>;

export function createVenueGate(o: VenueGateOptions) {
  let breaker: BreakerState = closedBreaker();
  let blockedUntil = 0; // a venue's Retry-After: no call of ours goes out before it

  function feed(input: BreakerInput): void {
    const r = stepBreaker(breaker, input, o.clock(), o.breaker);
    breaker = r.state;
    if (r.transition === 'HALT' && breaker.mode === 'OPEN') o.onHalt(breaker.reason);
    else if (r.transition === 'RESUME') o.onResume();
  }

  /** Every venue call goes through here: failures that say "the venue is not answering" feed the breaker. */
  async function call<T>(operation: string, fn: () => Promise<T>, probing = false): Promise<T> {
    if (breaker.mode === 'OPEN' && !probing) throw new VenueError('VENUE_HALTED', `${o.venue} ${operation}: venue halted (${breaker.reason})`, { venue: o.venue, operation });
    // Test-only fault: never looks up (nothing found, for one order or for both legs of a pair).
    if (faultOn('blind-resend')) {
      if (operation === 'lookup') return null as T;
      if (operation === 'lookupOco') return { takeProfit: null, stopLoss: null } as T;
    }
    while (o.clock() < blockedUntil) await sleep(blockedUntil - o.clock());
    try {
      const v = await fn();
      if (!probing) feed({ kind: 'success' });
      return v;
    } catch (e) {
      const wait = retryAfter(e);
      if (wait > 0) blockedUntil = Math.max(blockedUntil, o.clock() + wait);
      // A clock-skew refusal is the venue answering (the client re-learns the offset), and so is an
      // outcome the venue has not settled yet (a taken id its look-up does not list): neither is an outage.
      if (!probing) feed(isRetriable(e) && !VENUE_ANSWERED.has(errorCode(e)) ? { kind: 'failure', reason: `${operation}: ${message(e)}` } : { kind: 'success' });
      throw e;
    }
  }

  return {
    call,
    feed,
    /** The breaker as it stands: `mode`, and when open its `reason` and `nextProbeAt`. */
    get breaker(): BreakerState { return breaker; },
    isOpen: () => breaker.mode === 'OPEN',
  };
}
