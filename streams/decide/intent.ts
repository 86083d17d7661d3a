// Sizing: what order, if any, a signal asks for given what we already hold and have working.
//
// A TARGET is measured against position + open orders, not the filled position alone: a repeated,
// late or reordered target alert then asks for the remaining difference (usually nothing), so it
// can never double the position or flip it through zero.
import type { Side, Signal } from '../../schemas/types.ts';

// Below this a difference is float noise, not an order.
const EPSILON = 1e-9;

export type Sizing =
  | {
      readonly kind: 'order';
      readonly side: Side;
      readonly quantity: number;
      /** Signed target for TARGET / FLAT; null for DELTA. */
      readonly target: number | null;
      /** reportedPosition − where this order leaves us; null when the sender reports nothing or agrees. */
      readonly drift: number | null;
    }
  | {
      readonly kind: 'none';
      /** ADD_WHEN_FLAT: an add has no direction without a position (or working orders). */
      readonly reason: 'AT_TARGET' | 'INVALID_SIGNAL' | 'ADD_WHEN_FLAT';
      readonly target: number | null;
      readonly drift: number | null;
      /** Why an INVALID_SIGNAL is invalid. */
      readonly problem: string | null;
    };

function invalid(problem: string): Sizing {
  return { kind: 'none', reason: 'INVALID_SIGNAL', target: null, drift: null, problem };
}

/**
 * The sender (TradingView's market_position_size) reports where it believes the strategy stands
 * once this order is done, so drift compares against our position after the order, not before.
 */
function driftOf(signal: Signal, after: number): number | null {
  if (signal.reportedPosition === null) return null;
  const drift = signal.reportedPosition - after;
  return Math.abs(drift) < EPSILON ? null : drift;
}

const positive = (x: number | null): boolean => x !== null && x > 0 && Number.isFinite(x);

/** The order's own prices, as its type needs them (the edge checks the same; a replayed or hand-written record may not). */
export function termsProblem(signal: Signal): string | null {
  const needsLimit = signal.orderType === 'LIMIT' || signal.orderType === 'STOP_LIMIT';
  const needsStop = signal.orderType === 'STOP' || signal.orderType === 'STOP_LIMIT';
  if (needsLimit !== positive(signal.limitPrice)) return `${signal.orderType} order ${needsLimit ? 'without a positive' : 'with a'} limitPrice`;
  if (needsStop !== positive(signal.stopPrice)) return `${signal.orderType} order ${needsStop ? 'without a positive' : 'with a'} stopPrice`;
  const trails = Number(positive(signal.trailAmount)) + Number(positive(signal.trailPercent));
  if (signal.orderType === 'TRAILING_STOP' ? trails !== 1 : signal.trailAmount !== null || signal.trailPercent !== null) {
    return `${signal.orderType} order needs ${signal.orderType === 'TRAILING_STOP' ? 'exactly one of' : 'neither'} trailAmount, trailPercent`;
  }
  if (signal.trailPercent !== null && signal.trailPercent > 100) return 'trailPercent above 100';
  return null;
}

/** An entry's side: a delta's own; an add's is the direction of the position (null when flat). */
export function entrySide(signal: Signal, effectivePosition: number): Side | null {
  if (signal.intent === 'ADD') return Math.abs(effectivePosition) < EPSILON ? null : effectivePosition > 0 ? 'BUY' : 'SELL';
  return signal.side;
}

/**
 * `effectivePosition` = filled position + signed open order quantity. `quantity`: a delta's or an
 * add's size when it was sized by money or risk (streams/decide/sizing.ts); the signal's own otherwise.
 */
export function sizeIntent(signal: Signal, effectivePosition: number, quantity: number = signal.quantity): Sizing {
  const problem = termsProblem(signal);
  if (problem !== null) return invalid(problem);
  let target: number;
  switch (signal.intent) {
    case 'DELTA':
    case 'ADD': {
      if (signal.intent === 'DELTA' && signal.side === null) return invalid('DELTA without side');
      if (signal.intent === 'ADD' && signal.side !== null) return invalid('ADD with a side');
      const side = entrySide(signal, effectivePosition);
      if (side === null) return { kind: 'none', reason: 'ADD_WHEN_FLAT', target: null, drift: null, problem: null };
      if (!(quantity > 0) || !Number.isFinite(quantity)) return invalid(`${signal.intent} quantity must be > 0`);
      const after = effectivePosition + (side === 'BUY' ? quantity : -quantity);
      return { kind: 'order', side, quantity, target: null, drift: driftOf(signal, after) };
    }
    case 'CANCEL':
      return invalid('CANCEL sends no order');
    case 'TARGET':
      if (signal.targetPosition === null || !Number.isFinite(signal.targetPosition)) return invalid('TARGET without targetPosition');
      target = signal.targetPosition;
      break;
    case 'FLAT':
      target = 0;
      break;
    default: {
      const unknown: never = signal.intent;
      return invalid(`unknown intent ${String(unknown)}`);
    }
  }
  const difference = target - effectivePosition;
  if (Math.abs(difference) < EPSILON) {
    return { kind: 'none', reason: 'AT_TARGET', target, drift: driftOf(signal, effectivePosition), problem: null };
  }
  return {
    kind: 'order',
    side: difference > 0 ? 'BUY' : 'SELL',
    quantity: Math.abs(difference),
    target,
    drift: driftOf(signal, target),
  };
}
