// Bracket exits of an entry, planned per fill. Pure: the fill, the bracket and the venue's tick come in,
// the exit orders' terms and deterministic ids come out. Decide checks a bracket with it against the
// entry's reference price (strict: a fixed price on the wrong side is refused); the brackets processor
// (streams/brackets) places the exits with it when a fill arrives, in the Kafka transaction that
// consumes the fill; and because every exit's id derives from the parent order and the fill's execution
// id, even a replay outside that transaction produces the same ids, which the connectors' idempotency by
// client order id makes one order at the venue.
//
// Per fill, not per order: a partial fill gets exits for exactly what filled, and a later fill its own,
// so no exit is ever larger than the position it protects. The two exits of one fill are
// one-cancels-other (`siblingOf`).
import { createHash } from 'node:crypto';
import type { BracketExit, OrderType, Side } from '../../schemas/types.ts';
import { roundToStep } from '../router/route.ts';

export type ExitRole = 'TAKE_PROFIT' | 'STOP_LOSS';

export interface ExitLeg {
  readonly orderId: string;
  readonly role: ExitRole;
  readonly parentOrderId: string;
  /** Opposite to the entry. */
  readonly side: Side;
  readonly quantity: number;
  readonly orderType: OrderType;
  readonly limitPrice: number | null;
  readonly stopPrice: number | null;
  readonly trailAmount: number | null;
  readonly trailPercent: number | null;
}

export type BracketProblem = 'TAKE_PROFIT_WRONG_SIDE' | 'STOP_LOSS_WRONG_SIDE';

export interface FillOfEntry {
  readonly parentOrderId: string;
  /** The fill's execution id: the exits of one fill are derived from it, so a replay yields the same ids. */
  readonly executionId: string;
  readonly entrySide: Side;
  readonly quantity: number;
  readonly price: number;
}

/** A UUID-shaped id from sha256(parent, fill, role): the same fill always gives the same exit ids. */
export function exitOrderId(parentOrderId: string, executionId: string, role: ExitRole): string {
  const h = createHash('sha256').update(`${parentOrderId}\u0000${executionId}\u0000${role}`, 'utf8').digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const siblingOf = (role: ExitRole): ExitRole => (role === 'TAKE_PROFIT' ? 'STOP_LOSS' : 'TAKE_PROFIT');

/** The exit's price: its own, or its distance from the fill (percent or amount), toward profit or loss. */
function exitPrice(exit: BracketExit, fillPrice: number, up: boolean): number | null {
  if (exit.price !== null) return exit.price;
  const distance = exit.percent !== null ? (fillPrice * exit.percent) / 100 : exit.amount;
  if (distance === null) return null;
  return up ? fillPrice + distance : fillPrice - distance;
}

/**
 * The take-profit (a limit) and the stop-loss (stop, stop-limit or trailing stop) for one fill. Prices
 * round to the tick away from the fill, so an exit never triggers or fills on a worse side than asked.
 * `strict` refuses a fixed price on the wrong side of the fill. Not strict (at fill time: the entry is
 * already filled, and the market may have moved past a fixed price since decide checked it), such a leg
 * is still placed at its price, so it fills or triggers at once: the position is closed at the market
 * rather than left unprotected. Only a price that is missing or not positive is a problem then.
 */
export function exitsForFill(
  fill: FillOfEntry, takeProfit: BracketExit | null, stopLoss: BracketExit | null, tick: number, strict = true,
): ExitLeg[] | { problem: BracketProblem } {
  const long = fill.entrySide === 'BUY';
  const side: Side = long ? 'SELL' : 'BUY';
  const round = (x: number, away: 'up' | 'down') => (tick > 0 ? roundToStep(x, tick, away) : x);
  const legs: ExitLeg[] = [];
  const base = { parentOrderId: fill.parentOrderId, side, quantity: fill.quantity };
  if (takeProfit !== null) {
    const raw = exitPrice(takeProfit, fill.price, long);
    if (raw === null || !(raw > 0) || (strict && (long ? raw <= fill.price : raw >= fill.price))) return { problem: 'TAKE_PROFIT_WRONG_SIDE' };
    legs.push({
      ...base, orderId: exitOrderId(fill.parentOrderId, fill.executionId, 'TAKE_PROFIT'), role: 'TAKE_PROFIT', orderType: 'LIMIT',
      limitPrice: round(raw, long ? 'up' : 'down'), stopPrice: null, trailAmount: null, trailPercent: null,
    });
  }
  if (stopLoss !== null) {
    const id = exitOrderId(fill.parentOrderId, fill.executionId, 'STOP_LOSS');
    if (stopLoss.orderType === 'TRAILING_STOP') {
      legs.push({ ...base, orderId: id, role: 'STOP_LOSS', orderType: 'TRAILING_STOP', limitPrice: null, stopPrice: null, trailAmount: stopLoss.amount, trailPercent: stopLoss.percent });
    } else {
      const raw = exitPrice(stopLoss, fill.price, !long);
      if (raw === null || !(raw > 0) || (strict && (long ? raw >= fill.price : raw <= fill.price))) return { problem: 'STOP_LOSS_WRONG_SIDE' };
      const limit = stopLoss.orderType === 'STOP_LIMIT' ? stopLoss.limitPrice : null;
      legs.push({
        ...base, orderId: id, role: 'STOP_LOSS', orderType: stopLoss.orderType, limitPrice: limit === null ? null : round(limit, long ? 'down' : 'up'),
        stopPrice: round(raw, long ? 'down' : 'up'), trailAmount: null, trailPercent: null,
      });
    }
  }
  return legs;
}
