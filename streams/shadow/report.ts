// Shadow against live, per venue and symbol: fill rate, slippage against the arrival mid, and the
// realised cost against the model's estimate. Pure over plain rows; the shell loads them (store.ts).
import type { Side } from '../../schemas/types.ts';

export type Book = 'live' | 'shadow';

/** One order's outcome: a live order (fills from `executions`) or a shadow twin (from shadow_fills). */
export interface OrderOutcome {
  readonly book: Book;
  readonly venue: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  readonly filledQty: number;
  /** Volume-weighted fill price; null when nothing filled. */
  readonly avgPrice: number | null;
  readonly arrivalMid: number | null;
  /** Fees paid in bps of the filled notional (live: the venue's fee; shadow: the model's fee). */
  readonly feeBps: number;
  /** The model's expected cost at decision time, bps; null when unknown. */
  readonly estimatedBps: number | null;
}

export interface ReportLine {
  book: Book;
  venue: string;
  symbol: string;
  orders: number;
  /** Filled quantity over ordered quantity. */
  fillRate: number;
  /** Quantity-weighted slippage against the arrival mid, bps; positive = paid more than the mid. */
  slippageBps: number | null;
  /** Slippage plus fees, quantity-weighted, bps. */
  realisedCostBps: number | null;
  /** Mean of the model's estimates over the orders that filled, bps. */
  estimatedBps: number | null;
  /** realisedCostBps − estimatedBps: how far the model was off (positive = dearer than expected). */
  vsEstimateBps: number | null;
}

/** Signed so that a worse price is always positive. */
export function slippageBps(side: Side, price: number, mid: number): number {
  return ((side === 'BUY' ? price - mid : mid - price) / mid) * 1e4;
}

interface Acc { line: ReportLine; qty: number; filled: number; slipQty: number; slip: number; cost: number; estN: number; est: number }

export function shadowReport(outcomes: readonly OrderOutcome[]): ReportLine[] {
  const groups = new Map<string, Acc>();
  for (const o of outcomes) {
    const key = `${o.book}|${o.venue}|${o.symbol}`;
    let a = groups.get(key);
    if (a === undefined) {
      a = {
        line: { book: o.book, venue: o.venue, symbol: o.symbol, orders: 0, fillRate: 0, slippageBps: null, realisedCostBps: null, estimatedBps: null, vsEstimateBps: null },
        qty: 0, filled: 0, slipQty: 0, slip: 0, cost: 0, estN: 0, est: 0,
      };
      groups.set(key, a);
    }
    a.line.orders += 1;
    a.qty += o.quantity;
    a.filled += o.filledQty;
    if (o.filledQty > 0 && o.avgPrice !== null && o.arrivalMid !== null && o.arrivalMid > 0) {
      const s = slippageBps(o.side, o.avgPrice, o.arrivalMid);
      a.slipQty += o.filledQty;
      a.slip += s * o.filledQty;
      a.cost += (s + o.feeBps) * o.filledQty;
      if (o.estimatedBps !== null) {
        a.estN += 1;
        a.est += o.estimatedBps;
      }
    }
  }
  const lines = [...groups.values()].map((a) => {
    const l = a.line;
    l.fillRate = a.qty > 0 ? a.filled / a.qty : 0;
    if (a.slipQty > 0) {
      l.slippageBps = a.slip / a.slipQty;
      l.realisedCostBps = a.cost / a.slipQty;
    }
    if (a.estN > 0) l.estimatedBps = a.est / a.estN;
    if (l.realisedCostBps !== null && l.estimatedBps !== null) l.vsEstimateBps = l.realisedCostBps - l.estimatedBps;
    return l;
  });
  const order = (l: ReportLine) => `${l.symbol}|${l.book === 'live' ? 0 : 1}|${l.venue}`;
  return lines.sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0));
}
