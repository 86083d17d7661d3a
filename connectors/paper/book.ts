// Price-time priority limit order book for one symbol. Pure: no clock (time is an argument), no I/O,
// no randomness. Prices are integer ticks and sizes integer lots (see symbols.ts) so partial fills
// never drift by a float epsilon. Resting liquidity belongs to the synthetic market maker or to
// client orders; an incoming client order may match either.
import type { OrderType, Side, TimeInForce } from '../../schemas/types.ts';

export type Owner = 'MM' | 'CLIENT';

export interface IncomingOrder {
  id: string;
  owner: Owner;
  side: Side;
  type: OrderType;
  /** Integer ticks; null for a market order. */
  limit: number | null;
  /** Integer lots. */
  quantity: number;
  tif: TimeInForce;
  /** Most lots this submission may fill right now (the venue's partialFillRatio); default: all. */
  maxFill?: number;
}

export interface RestingOrder {
  readonly id: string;
  readonly owner: Owner;
  readonly side: Side;
  readonly price: number;
  remaining: number;
  readonly time: number;
}

export interface Trade {
  /** Deterministic: symbol + sequence within this book. */
  tradeId: string;
  symbol: string;
  price: number;
  quantity: number;
  time: number;
  taker: { id: string; owner: Owner; side: Side };
  maker: { id: string; owner: Owner; side: Side };
}

/**
 * FILLED: nothing left. RESTED: remainder is on the book. CANCELED: IOC or market remainder dropped.
 * HELD: the maxFill cap stopped a still-marketable GTC/DAY order; the caller decides when to retry.
 */
export type SubmitOutcome = 'FILLED' | 'RESTED' | 'CANCELED' | 'HELD';

export interface SubmitResult {
  trades: Trade[];
  filled: number;
  remaining: number;
  outcome: SubmitOutcome;
}

export interface Level {
  price: number;
  size: number;
  orders: number;
}

interface PriceLevel {
  price: number;
  queue: RestingOrder[];
}

export interface OrderBook {
  readonly symbol: string;
  submit(order: IncomingOrder, time: number): SubmitResult;
  cancel(id: string): RestingOrder | null;
  /** Removes every resting order of one owner (the market maker before it re-quotes). */
  removeOwner(owner: Owner): number;
  has(id: string): boolean;
  best(side: Side): Level | null;
  depth(side: Side, levels: number): Level[];
}

const opposite = (side: Side): Side => (side === 'BUY' ? 'SELL' : 'BUY');

export function createOrderBook(symbol: string): OrderBook {
  // Best level first: bids descending, asks ascending.
  const bids: PriceLevel[] = [];
  const asks: PriceLevel[] = [];
  const index = new Map<string, RestingOrder>();
  let tradeSeq = 0;

  const levelsOf = (side: Side): PriceLevel[] => (side === 'BUY' ? bids : asks);
  // True when `price` is strictly better than `than` for the side that rests there.
  const better = (side: Side, price: number, than: number): boolean => (side === 'BUY' ? price > than : price < than);
  const crosses = (side: Side, limit: number | null, restingPrice: number): boolean =>
    limit === null || (side === 'BUY' ? restingPrice <= limit : restingPrice >= limit);

  function rest(order: RestingOrder): void {
    const levels = levelsOf(order.side);
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (better(order.side, levels[mid].price, order.price) || levels[mid].price === order.price) lo = mid + 1;
      else hi = mid;
    }
    const at = lo - 1;
    if (at >= 0 && levels[at].price === order.price) levels[at].queue.push(order);
    else levels.splice(lo, 0, { price: order.price, queue: [order] });
    index.set(order.id, order);
  }

  /** Lots the opposite side offers within the limit, counted up to `enough`. */
  function available(against: PriceLevel[], side: Side, limit: number | null, enough: number): number {
    let total = 0;
    for (const level of against) {
      if (!crosses(side, limit, level.price) || total >= enough) break;
      for (const o of level.queue) total += o.remaining;
    }
    return total;
  }

  function submit(order: IncomingOrder, time: number): SubmitResult {
    if (!Number.isInteger(order.quantity) || order.quantity <= 0) throw new Error(`book ${symbol}: quantity must be whole lots > 0`);
    if (order.type === 'LIMIT' && order.limit === null) throw new Error(`book ${symbol}: limit order without a price`);
    if (index.has(order.id)) throw new Error(`book ${symbol}: order ${order.id} already on the book`);
    const limit = order.type === 'MARKET' ? null : order.limit;
    const against = levelsOf(opposite(order.side));
    const trades: Trade[] = [];
    let remaining = order.quantity;
    let budget = Math.min(order.maxFill ?? order.quantity, order.quantity);
    // Fill or kill: all of it now, within the limit (and the fill cap), or nothing at all.
    if (order.tif === 'FOK' && (budget < order.quantity || available(against, order.side, limit, order.quantity) < order.quantity)) {
      return { trades, filled: 0, remaining, outcome: 'CANCELED' };
    }

    while (remaining > 0 && budget > 0 && against.length > 0) {
      const level = against[0];
      if (!crosses(order.side, limit, level.price)) break;
      const maker = level.queue[0];
      const quantity = Math.min(remaining, budget, maker.remaining);
      tradeSeq += 1;
      trades.push({
        tradeId: `${symbol}-${tradeSeq}`,
        symbol,
        price: level.price, // the resting order sets the price
        quantity,
        time,
        taker: { id: order.id, owner: order.owner, side: order.side },
        maker: { id: maker.id, owner: maker.owner, side: maker.side },
      });
      maker.remaining -= quantity;
      remaining -= quantity;
      budget -= quantity;
      if (maker.remaining === 0) {
        level.queue.shift();
        index.delete(maker.id);
        if (level.queue.length === 0) against.shift();
      }
    }

    const filled = order.quantity - remaining;
    const stillMarketable = against.length > 0 && crosses(order.side, limit, against[0].price);
    let outcome: SubmitOutcome;
    if (remaining === 0) outcome = 'FILLED';
    else if (order.tif === 'IOC' || order.tif === 'FOK') outcome = 'CANCELED';
    else if (budget === 0 && stillMarketable) outcome = 'HELD';
    else if (limit === null) outcome = 'CANCELED'; // a market order never rests
    else {
      rest({ id: order.id, owner: order.owner, side: order.side, price: limit, remaining, time });
      outcome = 'RESTED';
    }
    return { trades, filled, remaining, outcome };
  }

  function removeWhere(levels: PriceLevel[], drop: (o: RestingOrder) => boolean): number {
    let removed = 0;
    for (let i = levels.length - 1; i >= 0; i -= 1) {
      const kept = levels[i].queue.filter((o) => !drop(o));
      removed += levels[i].queue.length - kept.length;
      if (kept.length === 0) levels.splice(i, 1);
      else levels[i].queue = kept;
    }
    return removed;
  }

  function cancel(id: string): RestingOrder | null {
    const order = index.get(id);
    if (!order) return null;
    removeWhere(levelsOf(order.side), (o) => o.id === id);
    index.delete(id);
    return order;
  }

  function removeOwner(owner: Owner): number {
    const drop = (o: RestingOrder): boolean => o.owner === owner;
    for (const o of index.values()) if (drop(o)) index.delete(o.id);
    return removeWhere(bids, drop) + removeWhere(asks, drop);
  }

  const summarize = (level: PriceLevel): Level => ({
    price: level.price,
    size: level.queue.reduce((sum, o) => sum + o.remaining, 0),
    orders: level.queue.length,
  });

  return {
    symbol,
    submit,
    cancel,
    removeOwner,
    has: (id) => index.has(id),
    best: (side) => {
      const levels = levelsOf(side);
      return levels.length > 0 ? summarize(levels[0]) : null;
    },
    depth: (side, levels) => levelsOf(side).slice(0, levels).map(summarize),
  };
}
