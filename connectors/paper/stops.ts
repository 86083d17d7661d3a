// Stop, stop-limit and trailing-stop orders of the paper venue before they trigger. Pure, in integer
// ticks. They watch the side of the book they would trade against: a buy stop triggers once the best
// ask reaches its trigger, a sell stop once the best bid falls to it. A trailing stop follows the best
// price in its favour (the lowest ask for a buy, the highest bid for a sell) and keeps its trigger that
// far away, never moving it back. On trigger a STOP and a TRAILING_STOP become market orders, a
// STOP_LIMIT a limit order at its limit.
import type { Side } from '../../schemas/types.ts';

export type StopKind = 'STOP' | 'STOP_LIMIT' | 'TRAILING_STOP';

export interface StopSpec {
  readonly kind: StopKind;
  readonly side: Side;
  /** STOP, STOP_LIMIT: the trigger in ticks. */
  readonly stopTicks: number | null;
  /** TRAILING_STOP: the trail in ticks, or in percent of the watched price (one of the two). */
  readonly trailTicks: number | null;
  readonly trailPercent: number | null;
}

export interface StopState {
  readonly spec: StopSpec;
  /** The price the trigger is measured from (trailing only): the best price seen in the order's favour. */
  readonly extreme: number | null;
  /** Current trigger in ticks; null for a trailing stop that has seen no price yet. */
  readonly trigger: number | null;
}

/** The side of the book a stop watches: its best ask for a buy, its best bid for a sell. */
export interface Watched {
  readonly bid: number | null;
  readonly ask: number | null;
}

const watchedPrice = (side: Side, top: Watched): number | null => (side === 'BUY' ? top.ask : top.bid);

function trailFrom(spec: StopSpec, extreme: number): number {
  if (spec.trailTicks !== null) return spec.side === 'BUY' ? extreme + spec.trailTicks : extreme - spec.trailTicks;
  const distance = (extreme * (spec.trailPercent ?? 0)) / 100;
  // Rounded away from the market, so the trail is never tighter than asked.
  return spec.side === 'BUY' ? Math.ceil(extreme + distance - 1e-9) : Math.floor(extreme - distance + 1e-9);
}

export function armStop(spec: StopSpec): StopState {
  return { spec, extreme: null, trigger: spec.kind === 'TRAILING_STOP' ? null : spec.stopTicks };
}

/** Moves a trailing stop with the market, then says whether the watched price reached the trigger. */
export function observe(state: StopState, top: Watched): { state: StopState; triggered: boolean } {
  const price = watchedPrice(state.spec.side, top);
  if (price === null) return { state, triggered: false };
  let next = state;
  if (state.spec.kind === 'TRAILING_STOP') {
    const improved = state.extreme === null || (state.spec.side === 'BUY' ? price < state.extreme : price > state.extreme);
    if (improved) next = { spec: state.spec, extreme: price, trigger: trailFrom(state.spec, price) };
  }
  const trigger = next.trigger;
  const triggered = trigger !== null && (state.spec.side === 'BUY' ? price >= trigger : price <= trigger);
  return { state: next, triggered };
}
