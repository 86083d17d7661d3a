// How the paper venue fills a shadow twin against the quotes everyone sees: its matching engine
// (connectors/paper/book.ts) gets a book holding the quote's displayed liquidity (bid size at the bid,
// ask size at the ask; unlimited when the quote gives no size) and the twin arrives as an IOC order.
// A market order takes the far touch up to the displayed size; a limit order fills only when it
// crosses; what the touch cannot take is canceled (a twin never rests: it is measured at arrival).
// No usable quote, no fill. Pure.
import { createOrderBook } from '../book.ts';
import type { Order } from '../../../schemas/types.ts';
import { usableMid, type QuoteView } from '../../../streams/router/costModel.ts';

export interface SimulatedFill {
  readonly filledQty: number;
  /** Volume-weighted fill price; null when nothing filled. */
  readonly price: number | null;
}

export interface SizedQuoteView extends QuoteView {
  readonly bidSize?: number;
  readonly askSize?: number;
}

// The book counts integer units: prices and sizes on a 1e-8 grid cover every venue's tick and lot.
const UNIT = 1e8;
const NONE: SimulatedFill = { filledQty: 0, price: null };

export function simulateFill(order: Order, quote: SizedQuoteView | undefined, now: number, maxQuoteAgeMs: number): SimulatedFill {
  if (quote === undefined || usableMid(quote, now, maxQuoteAgeMs) === null) return NONE;
  const lots = Math.round(order.quantity * UNIT);
  if (lots <= 0) return NONE;
  const shown = (size: number | undefined) => (size !== undefined && size > 0 ? Math.round(size * UNIT) : lots);
  const book = createOrderBook(order.symbol);
  book.submit({ id: 'quote-bid', owner: 'MM', side: 'BUY', type: 'LIMIT', limit: Math.round(quote.bid * UNIT), quantity: shown(quote.bidSize), tif: 'GTC' }, now);
  book.submit({ id: 'quote-ask', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: Math.round(quote.ask * UNIT), quantity: shown(quote.askSize), tif: 'GTC' }, now);
  // A limit is honoured conservatively on the grid: a buy never pays above it, a sell never gets below.
  const limit = order.limitPrice === null ? null
    : order.side === 'BUY' ? Math.floor(order.limitPrice * UNIT + 1e-6) : Math.ceil(order.limitPrice * UNIT - 1e-6);
  const r = book.submit({ id: order.orderId, owner: 'CLIENT', side: order.side, type: limit === null ? 'MARKET' : 'LIMIT', limit, quantity: lots, tif: 'IOC' }, now);
  if (r.filled === 0) return NONE;
  const notional = r.trades.reduce((s, t) => s + (t.price / UNIT) * (t.quantity / UNIT), 0);
  const filledQty = r.filled / UNIT;
  return { filledQty, price: notional / filledQty };
}
