// Which working orders a decision asks to cancel: a `cancel` alert names its strategy's working orders
// in the symbol; an `exit` names the bracket exits left protecting a position it closes. Pure, reads
// the gate state only.
import type { Signal } from '../../schemas/types.ts';
import type { GateState } from './gateTypes.ts';

/** A working order to cancel: what routes the request to its connector (account → partition, venue). */
export interface CancelTarget { orderId: string; account: string; venue: string; symbol: string }

/**
 * A `cancel` alert: orders still working as far as the gate knows. One already filled or canceled at the
 * venue but not yet reported is refused by its connector (ORDER_NOT_OPEN), which changes nothing.
 */
export function strategyOrdersToCancel(state: GateState, signal: Signal): CancelTarget[] {
  const cancels: CancelTarget[] = [];
  for (const [orderId, w] of state.orders) {
    if (w.account === signal.account && w.strategy === signal.strategy && w.symbol === signal.symbol && w.leaves > 0) {
      cancels.push({ orderId, account: w.account, venue: w.venue, symbol: w.symbol });
    }
  }
  return cancels;
}

/**
 * An `exit` (FLAT) closes the position its bracket exits protect: they are canceled in the same
 * decision, or one would later open a position the other way. Only bracket exits: a resting entry stays
 * counted in the target (see the README) and is canceled by a `cancel` alert.
 */
export function exitsLeftBehind(state: GateState, signal: Signal): CancelTarget[] {
  if (signal.intent !== 'FLAT') return [];
  const out: CancelTarget[] = [];
  for (const [orderId, w] of state.orders) {
    if (w.exit === true && w.account === signal.account && w.strategy === signal.strategy && w.symbol === signal.symbol && w.leaves > 0) {
      out.push({ orderId, account: w.account, venue: w.venue, symbol: w.symbol });
    }
  }
  return out;
}
