// The fake's matching engine and account: orders, trades and commissions by Binance's documented
// rules, no transport. Written from the documentation:
// - rest-api.md "New order (TRADE)": newClientOrderId is unique among open orders only; an id whose
//   order has finished can be used again (a second order).
// - faqs/commission_faq.md: the commission is taken from what the trade gives you (base on a BUY,
//   quote on a SELL) unless it is paid in BNB, converted at the BNB rate and discounted.
// - rest-api.md "Query order": looked up by symbol + origClientOrderId (the latest order with that id).
// - rest-api.md "New Order list - OCO" and user-data-stream.md (Expiry Reason OCO_TRIGGER): an OCO's two
//   legs are placed together or not at all; when one leg trades the venue expires the other; canceling one
//   leg cancels the list ("Cancel an Existing Order and Send a New Order": "the result is the same as
//   canceling the entire orderList").
import { ERRORS, type FakeOrder, type FakeOrderList, type FakeSymbol, type FakeTrade, type Top } from './payloads.ts';

export interface Commission {
  rate: number;
  /** 'received': from the asset the trade gives (docs' default); 'BNB': paid in BNB at the BNB rate × discount. */
  payIn: 'received' | 'BNB';
  bnbDiscount: number;
}

export interface PlaceRequest { symbol: string; side: string; type: string; quantity: number; price: number | null; timeInForce: string | null; newClientOrderId: string; stopPrice?: number | null; trailingDelta?: number | null }

// rest-api.md, New order: the contingent types and what each needs besides quantity.
const CONTINGENT = new Set(['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);
export type Placed = { ok: true; order: FakeOrder; fills: FakeTrade[] } | { ok: false; error: { code: number; msg: string } };
export type Report = { order: FakeOrder; x: string; trade?: FakeTrade; cancelId?: string; expiryReason?: string };

export interface OcoLeg { type: string; clientOrderId: string; price: number | null; stopPrice: number | null; trailingDelta: number | null; timeInForce: string | null }
export interface OcoRequest { symbol: string; side: string; quantity: number; listClientOrderId: string; above: OcoLeg; below: OcoLeg }
export type PlacedList = { ok: true; list: FakeOrderList; legs: FakeOrder[] } | { ok: false; error: { code: number; msg: string } };
// rest-api.md "New Order list - OCO": the types each leg takes, and the pair must be one limit-like and one stop-loss.
const ABOVE = new Set(['STOP_LOSS_LIMIT', 'STOP_LOSS', 'LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);
const BELOW = new Set(['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);
const LIMIT_LIKE = new Set(['LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);

const OPEN = new Set(['NEW', 'PARTIALLY_FILLED']);
const round8 = (x: number) => Math.round(x * 1e8) / 1e8;

export function createExchange(o: { now(): number; symbols: FakeSymbol[]; onReport(r: Report): void; onListStatus?(l: FakeOrderList, legs: FakeOrder[]): void }) {
  const orders: FakeOrder[] = [];
  const lists: FakeOrderList[] = [];
  let nextListId = 9_100;
  const trades: FakeTrade[] = [];
  const created = new Map<string, number>();
  const tops = new Map<string, Top>();
  const info = new Map(o.symbols.map((s) => [s.symbol, s]));
  let commission: Commission = { rate: 0.001, payIn: 'received', bnbDiscount: 0.75 };
  let nextOrderId = 28_457_000, nextTradeId = 3_391_000, updateId = 400_900_000;

  /** BNBUSDT per minute: changes from one minute to the next, fixed within one (klines by open time). */
  const bnbPriceAt = (at: number) => 600 + (Math.floor(at / 60_000) % 7) * 1.5;
  const latest = (cid: string) => [...orders].reverse().find((x) => x.clientOrderId === cid) ?? null;

  function trade(order: FakeOrder, qty: number, price: number, isMaker: boolean): FakeTrade {
    const s = info.get(order.symbol)!;
    const at = o.now();
    const notional = qty * price;
    let c: { commission: number; commissionAsset: string };
    if (commission.payIn === 'BNB') c = { commission: round8((notional * commission.rate * commission.bnbDiscount) / bnbPriceAt(at)), commissionAsset: 'BNB' };
    else if (order.side === 'BUY') c = { commission: round8(qty * commission.rate), commissionAsset: s.baseAsset };
    else c = { commission: round8(notional * commission.rate), commissionAsset: s.quoteAsset };
    const t: FakeTrade = { symbol: order.symbol, id: nextTradeId++, orderId: order.orderId, price, qty, ...c, time: at, isBuyer: order.side === 'BUY', isMaker };
    trades.push(t);
    refresh(order);
    order.status = order.executedQty >= order.origQty - 1e-12 ? 'FILLED' : 'PARTIALLY_FILLED';
    return t;
  }

  /** One leg of an OCO traded (the other EXPIRED, reason OCO_TRIGGER) or was canceled (the other too). */
  function endList(leg: FakeOrder, how: 'EXPIRED' | 'CANCELED'): void {
    const list = lists.find((l) => l.orderListId === leg.orderListId && l.status === 'EXECUTING');
    if (!list) return;
    const legs = list.legs.map((cid) => orders.find((x) => x.clientOrderId === cid && x.orderListId === list.orderListId)!);
    for (const other of legs) {
      if (other === leg || !OPEN.has(other.status)) continue;
      other.status = how;
      other.updateTime = o.now();
      o.onReport({ order: other, x: how, ...(how === 'EXPIRED' ? { expiryReason: 'OCO_TRIGGER' } : {}) });
    }
    list.status = 'ALL_DONE';
    o.onListStatus?.(list, legs);
  }

  function refresh(order: FakeOrder): void {
    const mine = trades.filter((t) => t.orderId === order.orderId);
    order.executedQty = round8(mine.reduce((s, t) => s + t.qty, 0));
    order.cummulativeQuoteQty = round8(mine.reduce((s, t) => s + t.qty * t.price, 0));
    order.updateTime = o.now();
  }

  return {
    bnbPriceAt,
    setCommission(c: Partial<Commission>) { commission = { ...commission, ...c }; },
    setTop(symbol: string, t: Omit<Top, 'updateId'>) { tops.set(symbol, { ...t, updateId: updateId++ }); return tops.get(symbol)!; },
    top: (symbol: string) => tops.get(symbol) ?? null,
    symbols: () => [...info.values()],
    createdCount: (cid: string) => created.get(cid) ?? 0,

    place(p: PlaceRequest): Placed {
      const s = info.get(p.symbol);
      if (!s) return { ok: false, error: ERRORS.badSymbol };
      if (!(p.quantity > 0) || ((p.type === 'LIMIT' || p.type.endsWith('_LIMIT')) && !(p.price && p.price > 0 && p.timeInForce))) return { ok: false, error: ERRORS.mandatory };
      if (p.type !== 'MARKET' && p.type !== 'LIMIT' && !CONTINGENT.has(p.type)) return { ok: false, error: ERRORS.mandatory };
      if (CONTINGENT.has(p.type) && !(p.stopPrice && p.stopPrice > 0) && !(p.trailingDelta && p.trailingDelta > 0)) return { ok: false, error: ERRORS.mandatory };
      const filter = filterFailure(s, p, tops.get(p.symbol) ?? null);
      if (filter) return { ok: false, error: { code: -1013, msg: `Filter failure: ${filter}` } };
      const holder = latest(p.newClientOrderId);
      if (holder && OPEN.has(holder.status)) return { ok: false, error: ERRORS.duplicate };
      const top = tops.get(p.symbol);
      const at = o.now();
      const order: FakeOrder = {
        symbol: p.symbol, orderId: nextOrderId++, clientOrderId: p.newClientOrderId, price: p.type === 'LIMIT' || p.type.endsWith('_LIMIT') ? p.price! : 0, origQty: p.quantity,
        executedQty: 0, cummulativeQuoteQty: 0, status: 'NEW', timeInForce: p.timeInForce ?? 'GTC', type: p.type, side: p.side === 'SELL' ? 'SELL' : 'BUY', time: at, updateTime: at,
      };
      if (CONTINGENT.has(p.type)) {
        // A STOP_LOSS BUY triggers at or above its stopPrice, a SELL at or below (TAKE_PROFIT the mirror
        // image); one already through its trigger is refused. The fake never triggers one: it rests NEW.
        const mark = top ? (top.bid + top.ask) / 2 : null;
        const stopLoss = p.type.startsWith('STOP_LOSS');
        const through = p.stopPrice != null && mark !== null && ((order.side === 'BUY') === stopLoss ? mark >= p.stopPrice : mark <= p.stopPrice);
        if (through) return { ok: false, error: ERRORS.wouldTrigger };
        if (p.stopPrice != null) order.stopPrice = p.stopPrice;
        if (p.trailingDelta != null) order.trailingDelta = p.trailingDelta;
        orders.push(order);
        created.set(order.clientOrderId, (created.get(order.clientOrderId) ?? 0) + 1);
        o.onReport({ order, x: 'NEW' });
        return { ok: true, order, fills: [] };
      }
      orders.push(order);
      created.set(order.clientOrderId, (created.get(order.clientOrderId) ?? 0) + 1);
      o.onReport({ order, x: 'NEW' });
      // Takes the top of the book when marketable; the fake's book is deep enough for any quantity.
      const touch = top ? (order.side === 'BUY' ? top.ask : top.bid) : null;
      const marketable = touch !== null && (p.type === 'MARKET' || (order.side === 'BUY' ? order.price >= touch : order.price <= touch));
      const fills: FakeTrade[] = [];
      if (marketable) {
        const t = trade(order, order.origQty, touch, false);
        fills.push(t);
        o.onReport({ order, x: 'TRADE', trade: t });
      } else if (p.type === 'MARKET' || order.timeInForce === 'IOC') {
        order.status = 'EXPIRED';
        o.onReport({ order, x: 'EXPIRED' });
      }
      return { ok: true, order, fills };
    },
    query(symbol: string, cid: string): FakeOrder | null {
      const order = latest(cid);
      return order && order.symbol === symbol ? order : null;
    },
    cancel(symbol: string, cid: string, cancelId: string): FakeOrder | null {
      const order = latest(cid);
      if (!order || order.symbol !== symbol || !OPEN.has(order.status)) return null;
      order.status = 'CANCELED';
      order.updateTime = o.now();
      o.onReport({ order, x: 'CANCELED', cancelId });
      endList(order, 'CANCELED');
      return order;
    },
    open: (symbol?: string) => orders.filter((x) => OPEN.has(x.status) && (!symbol || x.symbol === symbol)),
    /** rest-api.md "New Order list - OCO": both legs rest, or neither exists. */
    placeOco(p: OcoRequest): PlacedList {
      const s = info.get(p.symbol);
      if (!s) return { ok: false, error: ERRORS.badSymbol };
      const legs = [p.above, p.below];
      if (!ABOVE.has(p.above.type) || !BELOW.has(p.below.type) || legs.filter((l) => LIMIT_LIKE.has(l.type)).length !== 1) return { ok: false, error: ERRORS.ocoType };
      for (const l of legs) {
        const needsPrice = l.type === 'LIMIT_MAKER' || l.type.endsWith('_LIMIT');
        if (!(p.quantity > 0) || (needsPrice && !(l.price && l.price > 0)) || (l.type.endsWith('_LIMIT') && !l.timeInForce)
          || (l.type !== 'LIMIT_MAKER' && !(l.stopPrice && l.stopPrice > 0) && !(l.trailingDelta && l.trailingDelta > 0))) return { ok: false, error: ERRORS.mandatory };
        const filter = filterFailure(s, { symbol: p.symbol, side: p.side, type: needsPrice ? 'LIMIT' : l.type, quantity: p.quantity, price: l.price, timeInForce: l.timeInForce, newClientOrderId: l.clientOrderId }, tops.get(p.symbol) ?? null);
        if (filter) return { ok: false, error: { code: -1013, msg: `Filter failure: ${filter}` } };
        const holder = latest(l.clientOrderId);
        if (holder && OPEN.has(holder.status)) return { ok: false, error: ERRORS.duplicate };
      }
      if (lists.some((l) => l.listClientOrderId === p.listClientOrderId && l.status === 'EXECUTING')) return { ok: false, error: ERRORS.duplicate };
      // Price restrictions against the last traded price (the fake's mid): SELL limit-like > last > stop, BUY the reverse.
      const top = tops.get(p.symbol);
      const last = top ? (top.bid + top.ask) / 2 : null;
      const limitLeg = legs.find((l) => LIMIT_LIKE.has(l.type))!;
      const stopLeg = legs.find((l) => !LIMIT_LIKE.has(l.type))!;
      const limitAt = limitLeg.type === 'TAKE_PROFIT' ? limitLeg.stopPrice : limitLeg.price;
      const sell = p.side === 'SELL';
      if (last !== null && limitAt !== null && (sell ? !(limitAt > last) : !(limitAt < last))) return { ok: false, error: limitLeg.type === 'LIMIT_MAKER' ? ERRORS.wouldMatch : ERRORS.ocoBadPrices };
      if (last !== null && stopLeg.stopPrice !== null && (sell ? !(stopLeg.stopPrice < last) : !(stopLeg.stopPrice > last))) return { ok: false, error: ERRORS.ocoBadPrices };
      const at = o.now();
      const list: FakeOrderList = { orderListId: nextListId++, listClientOrderId: p.listClientOrderId, symbol: p.symbol, legs: [p.above.clientOrderId, p.below.clientOrderId], status: 'EXECUTING', transactionTime: at };
      const placed = legs.map((l): FakeOrder => ({
        symbol: p.symbol, orderId: nextOrderId++, clientOrderId: l.clientOrderId, price: l.price ?? 0, origQty: p.quantity, executedQty: 0, cummulativeQuoteQty: 0,
        status: 'NEW', timeInForce: l.timeInForce ?? 'GTC', type: l.type, side: sell ? 'SELL' : 'BUY', time: at, updateTime: at, orderListId: list.orderListId,
        ...(l.stopPrice !== null ? { stopPrice: l.stopPrice } : {}), ...(l.trailingDelta !== null ? { trailingDelta: l.trailingDelta } : {}),
      }));
      lists.push(list);
      for (const x of placed) { orders.push(x); created.set(x.clientOrderId, (created.get(x.clientOrderId) ?? 0) + 1); o.onReport({ order: x, x: 'NEW' }); }
      o.onListStatus?.(list, placed);
      return { ok: true, list, legs: placed };
    },
    /** A resting STOP_LOSS leg's trigger is reached: it trades at the touch (a market order), the sibling expires. */
    trigger(cid: string): FakeTrade {
      const order = latest(cid);
      const top = order ? tops.get(order.symbol) : undefined;
      if (!order || !OPEN.has(order.status) || !order.type.startsWith('STOP_LOSS') || !top) throw new Error(`binance fake: no open stop ${cid}`);
      const t = trade(order, order.origQty - order.executedQty, order.side === 'SELL' ? top.bid : top.ask, false);
      o.onReport({ order, x: 'TRADE', trade: t });
      endList(order, 'EXPIRED');
      return t;
    },
    orderLists: () => lists.map((l) => ({ ...l })),
    trades: (symbol: string, orderId?: number) => trades.filter((t) => t.symbol === symbol && (orderId === undefined || t.orderId === orderId)),
    ordersWithId: (cid: string) => orders.filter((x) => x.clientOrderId === cid),

    /** A resting order trades `qty` at its own price (someone took it). */
    fill(cid: string, qty: number): FakeTrade {
      const order = latest(cid);
      if (!order || !OPEN.has(order.status)) throw new Error(`binance fake: no open order ${cid}`);
      const t = trade(order, qty, order.price, true);
      o.onReport({ order, x: 'TRADE', trade: t });
      endList(order, 'EXPIRED');
      return t;
    },
    /** A later restatement only shows in myTrades (spot pushes no amendment event). */
    correct(tradeId: number, price: number) {
      const t = trades.find((x) => x.id === tradeId);
      if (!t) throw new Error(`binance fake: no trade ${tradeId}`);
      if (t.commissionAsset === info.get(t.symbol)?.quoteAsset) t.commission = round8((t.commission * price) / t.price);
      t.price = price;
      refresh(orders.find((x) => x.orderId === t.orderId)!);
    },
    bust(tradeId: number) {
      const i = trades.findIndex((x) => x.id === tradeId);
      if (i < 0) throw new Error(`binance fake: no trade ${tradeId}`);
      const [t] = trades.splice(i, 1);
      refresh(orders.find((x) => x.orderId === t.orderId)!);
    },
  };
}
export type Exchange = ReturnType<typeof createExchange>;

/**
 * filters.md (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL) and errors.md ("Filter failures": -1013
 * "Filter failure: <FILTER>"): what the matching engine refuses before an order rests. A MARKET order's
 * notional is taken at the top of the book (the docs use the average price over avgPriceMins).
 */
function filterFailure(s: FakeSymbol, p: PlaceRequest, top: Top | null): string | null {
  const onStep = (x: number, min: number, step: number) => Math.abs((x - min) / step - Math.round((x - min) / step)) < 1e-6;
  if (p.type === 'LIMIT' && p.price !== null && (p.price < s.tickSize || !onStep(p.price, s.tickSize, s.tickSize))) return 'PRICE_FILTER';
  if (p.quantity < s.minQty || p.quantity > s.maxQty || !onStep(p.quantity, s.minQty, s.stepSize)) return p.type === 'MARKET' ? 'MARKET_LOT_SIZE' : 'LOT_SIZE';
  const price = p.type === 'LIMIT' ? p.price : top ? (top.bid + top.ask) / 2 : null;
  if (price !== null && (p.quantity * price < s.minNotional || p.quantity * price > s.maxNotional)) return 'NOTIONAL';
  return null;
}
