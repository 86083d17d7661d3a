// Binance spot payloads as the official documentation shows them (binance-spot-api-docs: rest-api.md,
// user-data-stream.md, web-socket-api.md, web-socket-streams.md, errors.md, filters.md). Written from
// those pages, never from the connector: decimals are strings with 8 places, times epoch ms.
export const f8 = (x: number) => x.toFixed(8);

export interface FakeOrder {
  symbol: string; orderId: number; clientOrderId: string; price: number; origQty: number; executedQty: number; cummulativeQuoteQty: number;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  timeInForce: string; type: string; side: 'BUY' | 'SELL'; time: number; updateTime: number;
  /** STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT): the trigger, or the trailing distance in BIPS. */
  stopPrice?: number; trailingDelta?: number;
  /** rest-api.md: -1 unless the order is part of an order list (an OCO leg). */
  orderListId?: number;
}

/** An OCO order list (rest-api.md "New Order list - OCO"): its two legs by client order id, above first. */
export interface FakeOrderList { orderListId: number; listClientOrderId: string; symbol: string; legs: [string, string]; status: 'EXECUTING' | 'ALL_DONE'; transactionTime: number }
export interface FakeTrade {
  symbol: string; id: number; orderId: number; price: number; qty: number; commission: number; commissionAsset: string; time: number; isBuyer: boolean; isMaker: boolean;
}

/** errors.md: code and the documented message. */
export const ERRORS = {
  disconnected: { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' },
  unexpectedResp: { code: -1006, msg: 'An unexpected response was received from the message bus. Execution status unknown.' },
  timeout: { code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' },
  tooMuchWeight: { code: -1003, msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.' },
  unsupported: { code: -1020, msg: 'This operation is not supported.' },
  recvWindow: { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' },
  ahead: { code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time." },
  signature: { code: -1022, msg: 'Signature for this request is not valid.' },
  badSymbol: { code: -1121, msg: 'Invalid symbol.' },
  mandatory: { code: -1102, msg: 'A mandatory parameter was not sent, was empty/null, or malformed.' },
  duplicate: { code: -2010, msg: 'Duplicate order sent.' },
  wouldMatch: { code: -2010, msg: 'Order would immediately match and take.' },
  ocoBadPrices: { code: -2010, msg: 'The relationship of the prices for the orders is not correct.' },
  ocoType: { code: -1158, msg: 'Order type not supported in OCO.' },
  wouldTrigger: { code: -2010, msg: 'Order would trigger immediately.' },
  cancelUnknown: { code: -2011, msg: 'Unknown order sent.' },
  noSuchOrder: { code: -2013, msg: 'Order does not exist.' },
  apiKey: { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' },
} as const;

const orderBase = (o: FakeOrder) => ({
  symbol: o.symbol, orderId: o.orderId, orderListId: o.orderListId ?? -1, clientOrderId: o.clientOrderId, price: f8(o.price), origQty: f8(o.origQty),
  executedQty: f8(o.executedQty), origQuoteOrderQty: '0.000000', cummulativeQuoteQty: f8(o.cummulativeQuoteQty), status: o.status,
  timeInForce: o.timeInForce, type: o.type, side: o.side, selfTradePreventionMode: 'NONE',
});

/** rest-api.md "New order (TRADE)", Response - FULL. */
export const newOrderFull = (o: FakeOrder, fills: FakeTrade[]) => ({
  ...orderBase(o), transactTime: o.time, workingTime: o.time,
  fills: fills.map((t) => ({ price: f8(t.price), qty: f8(t.qty), commission: f8(t.commission), commissionAsset: t.commissionAsset, tradeId: t.id })),
});

/** rest-api.md "Query order (USER_DATA)" and "Current open orders". */
export const queryOrder = (o: FakeOrder) => ({
  ...orderBase(o), stopPrice: '0.00000000', icebergQty: '0.00000000', time: o.time, updateTime: o.updateTime,
  isWorking: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED', workingTime: o.time,
});

/** rest-api.md "Cancel order (TRADE)". */
export const canceledOrder = (o: FakeOrder, cancelId: string, at: number) => ({ ...orderBase(o), origClientOrderId: o.clientOrderId, clientOrderId: cancelId, transactTime: at });

/** rest-api.md "Account trade list (USER_DATA)". */
export const myTrade = (t: FakeTrade) => ({
  symbol: t.symbol, id: t.id, orderId: t.orderId, orderListId: -1, price: f8(t.price), qty: f8(t.qty), quoteQty: f8(t.price * t.qty),
  commission: f8(t.commission), commissionAsset: t.commissionAsset, time: t.time, isBuyer: t.isBuyer, isMaker: t.isMaker, isBestMatch: true,
});

/** user-data-stream.md "Order Update" (the event inside {subscriptionId, event}). */
export function executionReport(o: FakeOrder, x: string, at: number, executionId: number, extra: { trade?: FakeTrade; cancelId?: string; expiryReason?: string } = {}) {
  const t = extra.trade;
  return {
    e: 'executionReport', E: at, s: o.symbol, c: extra.cancelId ?? o.clientOrderId, S: o.side, o: o.type, f: o.timeInForce, q: f8(o.origQty), p: f8(o.price),
    P: '0.00000000', F: '0.00000000', g: o.orderListId ?? -1, C: extra.cancelId ? o.clientOrderId : '', x, X: o.status, r: 'NONE', i: o.orderId,
    l: f8(t?.qty ?? 0), z: f8(o.executedQty), L: f8(t?.price ?? 0), n: t ? f8(t.commission) : '0', N: t ? t.commissionAsset : null,
    T: t?.time ?? at, t: t?.id ?? -1, I: executionId, w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED', m: t?.isMaker ?? false, M: false,
    O: o.time, Z: f8(o.cummulativeQuoteQty), Y: f8(t ? t.qty * t.price : 0), Q: '0.00000000', W: o.time, V: 'NONE',
    ...(extra.expiryReason ? { eR: extra.expiryReason } : {}),
  };
}

export interface FakeSymbol { symbol: string; baseAsset: string; quoteAsset: string; tickSize: number; stepSize: number; minQty: number; maxQty: number; minNotional: number; maxNotional: number; status?: string }

/** rest-api.md "Exchange information" with filters.md's PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL. */
export const exchangeInfo = (symbols: FakeSymbol[], now: number) => ({
  timezone: 'UTC', serverTime: now,
  rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }],
  exchangeFilters: [],
  symbols: symbols.map((s) => ({
    symbol: s.symbol, status: s.status ?? 'TRADING', baseAsset: s.baseAsset, baseAssetPrecision: 8, quoteAsset: s.quoteAsset, quotePrecision: 8, quoteAssetPrecision: 8,
    baseCommissionPrecision: 8, quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true, ocoAllowed: true, otoAllowed: true, quoteOrderQtyMarketAllowed: true, allowTrailingStop: true, cancelReplaceAllowed: true,
    isSpotTradingAllowed: true, isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: f8(s.tickSize), maxPrice: '1000000.00000000', tickSize: f8(s.tickSize) },
      { filterType: 'LOT_SIZE', minQty: f8(s.minQty), maxQty: f8(s.maxQty), stepSize: f8(s.stepSize) },
      { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: f8(s.maxQty / 10), stepSize: '0.00000000' },
      { filterType: 'NOTIONAL', minNotional: f8(s.minNotional), applyMinToMarket: true, maxNotional: f8(s.maxNotional), applyMaxToMarket: false, avgPriceMins: 5 },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
    ],
    permissions: [], permissionSets: [['SPOT']], defaultSelfTradePreventionMode: 'EXPIRE_MAKER', allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  })),
});

export interface Top { bid: number; bidQty: number; ask: number; askQty: number; updateId: number }
/** rest-api.md "Symbol order book ticker". */
export const bookTicker = (symbol: string, t: Top) => ({ symbol, bidPrice: f8(t.bid), bidQty: f8(t.bidQty), askPrice: f8(t.ask), askQty: f8(t.askQty) });
/** web-socket-streams.md "Individual Symbol Book Ticker Streams". */
export const bookTickerEvent = (symbol: string, t: Top) => ({ u: t.updateId, s: symbol, b: f8(t.bid), B: f8(t.bidQty), a: f8(t.ask), A: f8(t.askQty) });
/** rest-api.md "Kline/Candlestick data": one 1m row. */
export const kline1m = (openTime: number, open: number) => [openTime, f8(open), f8(open), f8(open), f8(open), '1.00000000', openTime + 59_999, f8(open), 1, '0.50000000', f8(open / 2), '0'];

/** rest-api.md "New Order list - OCO", Response (orderReports as for newOrderRespType FULL). */
export const orderListAnswer = (l: FakeOrderList, legs: FakeOrder[]) => ({
  orderListId: l.orderListId, contingencyType: 'OCO', listStatusType: 'EXEC_STARTED', listOrderStatus: 'EXECUTING', listClientOrderId: l.listClientOrderId,
  transactionTime: l.transactionTime, symbol: l.symbol,
  orders: legs.map((o) => ({ symbol: o.symbol, orderId: o.orderId, clientOrderId: o.clientOrderId })),
  orderReports: legs.map((o) => ({ ...newOrderFull(o, []), ...(o.stopPrice !== undefined ? { stopPrice: f8(o.stopPrice) } : {}) })),
});

/** user-data-stream.md "Order Update": the ListStatus event sent besides the legs' executionReports. */
export const listStatusEvent = (l: FakeOrderList, legs: FakeOrder[], at: number) => ({
  e: 'listStatus', E: at, s: l.symbol, g: l.orderListId, c: 'OCO', l: l.status === 'ALL_DONE' ? 'ALL_DONE' : 'EXEC_STARTED', L: l.status, r: 'NONE',
  C: l.listClientOrderId, T: at, O: legs.map((o) => ({ s: o.symbol, i: o.orderId, c: o.clientOrderId })),
});
