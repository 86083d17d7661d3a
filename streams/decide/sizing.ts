// Sizing by money or risk: a dollar amount, a percent of the account's equity, or the money lost if
// the stop loss is hit, turned into a quantity. Pure: the marks come from the quotes the gate already
// folds, the configured cash from the limits. The quantity is left unrounded; the router rounds it
// down to the chosen venue's lot and refuses BELOW_LOT_SIZE when less than one lot remains.
import type { BracketExit, Side, Signal } from '../../schemas/types.ts';
import { equity, type AccountBook, type Mark } from './books.ts';

export type SizingRefusal =
  /** No price to turn money into a quantity: no fresh mark and the order names no price. */
  | 'NO_MARK'
  /** risk_amount without a stop loss to measure the risk to, or one at the entry price. */
  | 'NO_STOP'
  /** The stop loss is on the wrong side of the entry (above a buy, below a sell). */
  | 'STOP_WRONG_SIDE'
  /** percent_of_equity with equity at or below zero. */
  | 'NO_EQUITY';

export type SizedQuantity =
  | { readonly ok: true; readonly quantity: number; readonly detail: Readonly<Record<string, number>> }
  | { readonly ok: false; readonly reason: SizingRefusal; readonly detail: Readonly<Record<string, string | number | null>> };

/** Equity = configured cash + every symbol's cash flow and position at its mark (at cost without one). */
export function accountEquity(cash: number, account: AccountBook | undefined, marks: ReadonlyMap<string, Mark>): number {
  let total = cash;
  if (account !== undefined) for (const [symbol, book] of account.symbols) total += equity(book, marks.get(symbol));
  return total;
}

/**
 * The price the entry is expected to fill at: the order's own price where it names one (the limit,
 * else the stop's trigger), else a fresh mark. Never the alert's own close: sizing by money follows
 * the market the router prices with.
 */
export function entryPriceOf(signal: Pick<Signal, 'orderType' | 'limitPrice' | 'stopPrice'>, freshMark: number | null): number | null {
  switch (signal.orderType) {
    case 'LIMIT':
    case 'STOP_LIMIT':
      return signal.limitPrice;
    case 'STOP':
      return signal.stopPrice;
    case 'MARKET':
    case 'TRAILING_STOP':
      return freshMark;
    default: {
      const never: never = signal.orderType;
      throw new Error(`unhandled order type ${String(never)}`);
    }
  }
}

/** The stop loss's distance from the entry; for a fixed price, checked to be on the losing side. */
export function stopDistance(stop: BracketExit, side: Side, entry: number): { distance: number } | { wrongSide: number } {
  if (stop.price !== null) {
    const distance = side === 'BUY' ? entry - stop.price : stop.price - entry;
    return distance < 0 ? { wrongSide: stop.price } : { distance };
  }
  if (stop.percent !== null) return { distance: (entry * stop.percent) / 100 };
  return { distance: stop.amount ?? 0 };
}

export interface SizingInput {
  readonly signal: Signal;
  readonly side: Side;
  readonly freshMark: number | null;
  readonly equity: number;
}

/** The quantity a money or risk amount buys, or why it cannot be sized. */
export function quantityFor({ signal, side, freshMark, equity: eq }: SizingInput): SizedQuantity {
  const sizing = signal.sizing;
  if (sizing === null) return { ok: true, quantity: signal.quantity, detail: {} };
  const entry = entryPriceOf(signal, freshMark);
  if (entry === null || !(entry > 0)) return { ok: false, reason: 'NO_MARK', detail: { symbol: signal.symbol, orderType: signal.orderType } };
  switch (sizing.type) {
    case 'DOLLAR_AMOUNT':
      return { ok: true, quantity: sizing.amount / entry, detail: { dollarAmount: sizing.amount, sizingPrice: entry } };
    case 'PERCENT_OF_EQUITY': {
      if (!(eq > 0)) return { ok: false, reason: 'NO_EQUITY', detail: { equity: eq } };
      const notional = (eq * sizing.amount) / 100;
      return { ok: true, quantity: notional / entry, detail: { equity: eq, percentOfEquity: sizing.amount, sizingPrice: entry } };
    }
    case 'RISK_AMOUNT': {
      if (signal.stopLoss === null) return { ok: false, reason: 'NO_STOP', detail: { problem: 'risk_amount needs a stop loss' } };
      const d = stopDistance(signal.stopLoss, side, entry);
      if ('wrongSide' in d) return { ok: false, reason: 'STOP_WRONG_SIDE', detail: { side, entry, stopPrice: d.wrongSide } };
      if (!(d.distance > 0)) return { ok: false, reason: 'NO_STOP', detail: { problem: 'the stop loss is at the entry price', entry } };
      return { ok: true, quantity: sizing.amount / d.distance, detail: { riskAmount: sizing.amount, stopDistance: d.distance, sizingPrice: entry } };
    }
    default: {
      const never: never = sizing.type;
      throw new Error(`unhandled sizing ${String(never)}`);
    }
  }
}
