// The venue side of a backtest: one paper order book (connectors/paper/book.ts, through its public
// functions only) per venue and symbol, re-quoted by a market maker at each recorded quote's bid and
// ask, and the routed orders matched against it. Stops wait off the book and trade (a stop and a
// trailing stop as a market order, a stop-limit as a limit order) once the side of the book they watch
// reaches their trigger, as the paper venue does. Pure: time comes in with each call, ids are
// deterministic, fees come from the router's own cost model (what the router expected to pay).
import { createOrderBook, type OrderBook, type Trade } from '../../connectors/paper/book.ts';
import { armStop, observe, type StopState } from '../../connectors/paper/stops.ts';
import { instrumentUnits, type InstrumentUnits } from '../../connectors/paper/symbols.ts';
import type { ExecutionReport, Order, Quote } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { feeBps } from '../../streams/router/costModel.ts';

interface Market { book: OrderBook; units: InstrumentUnits; seq: number }
interface Working {
  order: Order; units: InstrumentUnits; lots: number; filledLots: number; day: string;
  /** LIMIT and STOP_LIMIT: the limit in ticks. */
  limitTicks: number | null;
  /** A stop not triggered yet: working, off the book (connectors/paper/stops.ts, as the paper venue). */
  stop: StopState | null;
}

export interface SimVenue {
  /** Re-quotes the market maker at the quote; returns executions of resting client orders it crossed. */
  quote(q: Quote, now: number, hlc: () => number): ExecutionReport[];
  /** ACK, then fills, then a CANCEL for an IOC or market remainder; a REJECT when nothing can trade it. */
  submit(order: Order, now: number, hlc: () => number): ExecutionReport[];
  /** Cancels resting DAY orders of earlier days (the clock reached `day`). */
  expire(day: string, now: number, hlc: () => number): ExecutionReport[];
  /** Cancels every resting order: the end of the backtest. */
  close(now: number, hlc: () => number): ExecutionReport[];
  /** Cancels one working order (a `cancel` alert); nothing for an order no longer working. */
  cancel(orderId: string, now: number, hlc: () => number): ExecutionReport[];
}

export function createSimVenue(config: ControlConfig): SimVenue {
  const markets = new Map<string, Market>();
  const working = new Map<string, Working>();
  const key = (venue: string, symbol: string) => `${venue}|${symbol}`;

  function market(venue: string, symbol: string): Market | null {
    let m = markets.get(key(venue, symbol));
    if (m === undefined) {
      const inst = config.costModel.venues.get(venue)?.instruments.get(symbol);
      if (inst === undefined) return null;
      m = { book: createOrderBook(symbol), units: instrumentUnits(inst.tickSize, inst.lotSize), seq: 0 };
      markets.set(key(venue, symbol), m);
    }
    return m;
  }

  function report(w: Working, type: ExecutionReport['type'], now: number, hlc: () => number, extra: Partial<ExecutionReport> = {}): ExecutionReport {
    const o = w.order;
    const cum = w.units.toQuantity(w.filledLots);
    return {
      executionId: `${o.venue}:${o.orderId}:${type}`, type, orderId: o.orderId, clientOrderId: o.clientOrderId, venueOrderId: `bt-${o.clientOrderId}`,
      venueTradeId: null, signalId: o.signalId, account: o.account, strategy: o.strategy, symbol: o.symbol, venue: o.venue, side: o.side,
      lastQty: 0, lastPrice: 0, cumQty: cum, leavesQty: w.units.toQuantity(w.lots - w.filledLots), fee: 0, refExecutionId: null, reason: null,
      venueTime: now, recordedAt: now, hlc: hlc(), feeAsset: null, feeInAsset: null, netQty: null, ...extra,
    };
  }

  function fill(w: Working, t: Trade, now: number, hlc: () => number): ExecutionReport {
    w.filledLots += t.quantity;
    const price = w.units.toPrice(t.price);
    const qty = w.units.toQuantity(t.quantity);
    const assetClass = config.symbols.get(w.order.symbol);
    const schedule = assetClass === undefined ? undefined : config.costModel.venues.get(w.order.venue)?.fees[assetClass];
    const fee = schedule === undefined ? 0 : Number(((feeBps(schedule, price, qty) * price * qty) / 1e4).toFixed(8));
    const done = w.filledLots === w.lots;
    if (done) working.delete(w.order.orderId);
    return report(w, done ? 'FILL' : 'PARTIAL_FILL', now, hlc, {
      executionId: `${w.order.venue}:${t.tradeId}`, venueTradeId: t.tradeId, lastQty: qty, lastPrice: price, fee,
    });
  }

  const cancelled = (w: Working, reason: string, now: number, hlc: () => number): ExecutionReport => {
    working.delete(w.order.orderId);
    return report(w, 'CANCEL', now, hlc, { reason });
  };

  /** Trades the unfilled lots now: a limit (or triggered stop-limit) at its limit, anything else at market. */
  function execute(m: Market, w: Working, now: number, hlc: () => number, out: ExecutionReport[]): void {
    const o = w.order;
    const type = o.orderType === 'LIMIT' || o.orderType === 'STOP_LIMIT' ? 'LIMIT' : 'MARKET';
    const r = m.book.submit({ id: o.orderId, owner: 'CLIENT', side: o.side, type, limit: type === 'LIMIT' ? w.limitTicks : null, quantity: w.lots - w.filledLots, tif: o.timeInForce }, now);
    for (const t of r.trades) out.push(fill(w, t, now, hlc));
    if (r.outcome === 'CANCELED' || r.outcome === 'HELD') {
      m.book.cancel(o.orderId);
      out.push(cancelled(w, o.timeInForce === 'IOC' || o.timeInForce === 'FOK' ? `${o.timeInForce}_REMAINDER` : 'NO_LIQUIDITY', now, hlc));
    }
  }

  /** Moves a waiting stop with its book; on trigger it trades at once. */
  function watch(m: Market, w: Working, now: number, hlc: () => number, out: ExecutionReport[]): void {
    if (w.stop === null) return;
    const seen = observe(w.stop, { bid: m.book.best('BUY')?.price ?? null, ask: m.book.best('SELL')?.price ?? null });
    w.stop = seen.state;
    if (!seen.triggered) return;
    w.stop = null;
    execute(m, w, now, hlc, out);
  }

  return {
    quote(q, now, hlc) {
      const m = market(q.venue, q.symbol);
      if (m === null || !(q.bid > 0) || !(q.ask > 0)) return [];
      m.book.removeOwner('MM');
      const bid = m.units.floorTicks(q.bid);
      const ask = Math.max(m.units.ceilTicks(q.ask), bid + 1);
      const out: ExecutionReport[] = [];
      for (const [side, price, size] of [['BUY', bid, q.bidSize], ['SELL', ask, q.askSize]] as const) {
        m.seq += 1;
        const lots = Math.max(1, m.units.toLots(size) ?? Math.floor(size / m.units.toQuantity(1)));
        const r = m.book.submit({ id: `MM-${m.seq}`, owner: 'MM', side, type: 'LIMIT', limit: price, quantity: lots, tif: 'GTC' }, now);
        // The maker's new quote crossing a resting client order fills it at the client's price.
        for (const t of r.trades) {
          const w = t.maker.owner === 'CLIENT' ? working.get(t.maker.id) : undefined;
          if (w !== undefined) out.push(fill(w, t, now, hlc));
        }
      }
      for (const w of [...working.values()]) {
        if (w.stop !== null && w.order.venue === q.venue && w.order.symbol === q.symbol) watch(m, w, now, hlc, out);
      }
      return out;
    },
    submit(order, now, hlc) {
      const m = market(order.venue, order.symbol);
      const units = m?.units ?? instrumentUnits(1, 1);
      const lots = m === null ? null : m.units.toLots(order.quantity);
      const w: Working = { order, units, lots: lots ?? 0, filledLots: 0, day: new Date(now).toISOString().slice(0, 10), limitTicks: null, stop: null };
      const reject = (reason: string) => [report(w, 'REJECT', now, hlc, { reason, leavesQty: 0 })];
      if (m === null || lots === null || lots <= 0) return reject(m === null ? 'NO_MARKET_DATA' : 'QUANTITY_NOT_IN_LOTS');
      if (order.orderType === 'LIMIT' || order.orderType === 'STOP_LIMIT') {
        w.limitTicks = order.limitPrice === null ? null : m.units.toTicks(order.limitPrice);
        if (w.limitTicks === null) return reject('PRICE_NOT_ON_TICK');
      }
      if (order.orderType === 'STOP' || order.orderType === 'STOP_LIMIT') {
        const stopTicks = order.stopPrice === null ? null : m.units.toTicks(order.stopPrice);
        if (stopTicks === null) return reject('INVALID_STOP_PRICE');
        w.stop = armStop({ kind: order.orderType, side: order.side, stopTicks, trailTicks: null, trailPercent: null });
      } else if (order.orderType === 'TRAILING_STOP') {
        // A trail off the tick grid trails by the nearest whole number of ticks (at least one), as the paper venue.
        const trailTicks = order.trailAmount === null ? null : Math.max(1, Math.round(order.trailAmount / m.units.toPrice(1)));
        const percent = order.trailPercent;
        if ((trailTicks === null) === (percent === null) || (percent !== null && !(percent > 0 && percent < 100))) return reject('INVALID_TRAIL');
        w.stop = armStop({ kind: 'TRAILING_STOP', side: order.side, stopTicks: null, trailTicks, trailPercent: order.trailPercent });
      }
      if (order.orderType === 'MARKET' && m.book.best(order.side === 'BUY' ? 'SELL' : 'BUY') === null) return reject('NO_MARKET_DATA');
      working.set(order.orderId, w);
      const out = [report(w, 'ACK', now, hlc)];
      if (w.stop === null) execute(m, w, now, hlc, out);
      else watch(m, w, now, hlc, out);
      return out;
    },
    expire(day, now, hlc) {
      const out: ExecutionReport[] = [];
      for (const w of [...working.values()]) {
        if (w.order.timeInForce !== 'DAY' || w.day >= day) continue;
        markets.get(key(w.order.venue, w.order.symbol))?.book.cancel(w.order.orderId);
        out.push(cancelled(w, 'DAY_EXPIRED', now, hlc));
      }
      return out;
    },
    cancel(orderId, now, hlc) {
      const w = working.get(orderId);
      if (w === undefined) return [];
      markets.get(key(w.order.venue, w.order.symbol))?.book.cancel(orderId);
      return [cancelled(w, 'CANCEL_REQUESTED', now, hlc)];
    },
    close(now, hlc) {
      const out: ExecutionReport[] = [];
      for (const w of [...working.values()]) {
        markets.get(key(w.order.venue, w.order.symbol))?.book.cancel(w.order.orderId);
        out.push(cancelled(w, 'END_OF_BACKTEST', now, hlc));
      }
      return out;
    },
  };
}
