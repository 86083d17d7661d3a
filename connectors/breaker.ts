// The venue circuit breaker, pure: consecutive failures open it (the runtime then halts the venue on
// `control`, so the router stops sending there), and only a deliberate probe closes it again. The
// clock comes in as an argument; the runtime owns the timers.
import type { Control } from '../schemas/types.ts';
import { controlKey } from '../schemas/controlKey.ts';

export interface BreakerConfig {
  /** Consecutive failed venue calls that open the breaker... */
  failuresToOpen: number;
  /**
   * ...provided they span at least this long: a burst of concurrent calls failing together (one slow
   * moment under load) is not an outage.
   */
  minFailureSpanMs: number;
  /** First wait before probing an open breaker; doubles per failed probe up to maxProbeIntervalMs. */
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
}

export type BreakerState =
  | { mode: 'CLOSED'; failures: number; firstFailureAt: number | null; lastReason: string | null }
  | { mode: 'OPEN'; since: number; reason: string; nextProbeAt: number; failedProbes: number };

export type BreakerInput =
  | { kind: 'success' }
  | { kind: 'failure'; reason: string }
  /** Opens at once, whatever the count: e.g. the start-up reconciliation could not reach the venue. */
  | { kind: 'trip'; reason: string }
  | { kind: 'probe-ok' }
  | { kind: 'probe-failed'; reason: string };

export type BreakerTransition = 'HALT' | 'RESUME' | null;

export const closedBreaker = (): BreakerState => ({ mode: 'CLOSED', failures: 0, firstFailureAt: null, lastReason: null });

const open = (now: number, reason: string, c: BreakerConfig): BreakerState => ({
  mode: 'OPEN', since: now, reason, failedProbes: 0, nextProbeAt: now + c.probeIntervalMs,
});

export function stepBreaker(s: BreakerState, input: BreakerInput, now: number, c: BreakerConfig): { state: BreakerState; transition: BreakerTransition } {
  switch (input.kind) {
    case 'success':
      // While open, a late answer to an old call proves little; only a probe closes the breaker.
      return { state: s.mode === 'CLOSED' ? closedBreaker() : s, transition: null };
    case 'failure':
      if (s.mode === 'OPEN') return { state: s, transition: null };
    {
      const firstFailureAt = s.firstFailureAt ?? now;
      if (s.failures + 1 >= c.failuresToOpen && now - firstFailureAt >= c.minFailureSpanMs) return { state: open(now, input.reason, c), transition: 'HALT' };
      return { state: { mode: 'CLOSED', failures: s.failures + 1, firstFailureAt, lastReason: input.reason }, transition: null };
    }
    case 'trip':
      if (s.mode === 'OPEN') return { state: s, transition: null };
      return { state: open(now, input.reason, c), transition: 'HALT' };
    case 'probe-ok':
      return { state: closedBreaker(), transition: s.mode === 'OPEN' ? 'RESUME' : null };
    case 'probe-failed':
      if (s.mode === 'CLOSED') return { state: s, transition: null };
      return { state: { ...s, failedProbes: s.failedProbes + 1, nextProbeAt: now + Math.min(c.maxProbeIntervalMs, c.probeIntervalMs * 2 ** (s.failedProbes + 1)) }, transition: null };
    default: {
      const never: never = input;
      throw new Error(`unhandled breaker input ${JSON.stringify(never)}`);
    }
  }
}

export const probeDue = (s: BreakerState, now: number): boolean => s.mode === 'OPEN' && now >= s.nextProbeAt;

export const connectorActor = (venue: string) => `connector:${venue}`;
export const venueControlKey = (venue: string) => controlKey('TRADING_STATE', 'VENUE', venue);

/** The venue-level trading state record the decide processor folds; the router skips HALTED venues. */
export function venueStateControl(venue: string, state: 'HALTED' | 'ACTIVE', reason: string, controlId: string, at: number, hlc: number): Control {
  return { controlId, kind: 'TRADING_STATE', scope: 'VENUE', target: venue, state, payload: null, actor: connectorActor(venue), reason, at, hlc };
}

/**
 * Whether the connector may lift the venue's halt: only its own. A halt the ops desk set stays until
 * the desk lifts it, even if the venue answers again.
 */
export const mayResume = (latest: Pick<Control, 'state' | 'actor'> | null, venue: string): boolean =>
  latest === null || latest.state !== 'HALTED' || latest.actor === connectorActor(venue);
