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
      readonly reason: 'AT_TARGET' | 'INVALID_SIGNAL';
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

/** `effectivePosition` = filled position + signed open order quantity. */
export function sizeIntent(signal: Signal, effectivePosition: number): Sizing {
  if (signal.orderType === 'LIMIT' && !(signal.limitPrice !== null && signal.limitPrice > 0)) {
    return invalid('LIMIT order without a positive limitPrice');
  }
  let target: number;
  switch (signal.intent) {
    case 'DELTA': {
      if (signal.side === null) return invalid('DELTA without side');
      if (!(signal.quantity > 0) || !Number.isFinite(signal.quantity)) return invalid('DELTA quantity must be > 0');
      const after = effectivePosition + (signal.side === 'BUY' ? signal.quantity : -signal.quantity);
      return { kind: 'order', side: signal.side, quantity: signal.quantity, target: null, drift: driftOf(signal, after) };
    }
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
