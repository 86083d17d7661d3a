// How the paper venue would fill a shadow twin against the quotes everyone sees: a market order takes
// the far touch in full; a limit order fills at the far touch when it crosses, otherwise not at all
// (a twin never rests: it is measured at arrival). No usable quote, no fill. Pure.
import type { Order } from '../../schemas/types.ts';
import { usableMid, type QuoteView } from '../router/costModel.ts';

export interface SimulatedFill {
  readonly filledQty: number;
  /** Null when nothing filled. */
  readonly price: number | null;
}

export function simulateFill(order: Order, quote: QuoteView | undefined, now: number, maxQuoteAgeMs: number): SimulatedFill {
  if (quote === undefined || usableMid(quote, now, maxQuoteAgeMs) === null) return { filledQty: 0, price: null };
  const touch = order.side === 'BUY' ? quote.ask : quote.bid;
  if (order.limitPrice !== null) {
    const crosses = order.side === 'BUY' ? touch <= order.limitPrice : touch >= order.limitPrice;
    if (!crosses) return { filledQty: 0, price: null };
  }
  return { filledQty: order.quantity, price: touch };
}
