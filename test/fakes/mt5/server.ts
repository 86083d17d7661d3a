// A local stand-in for a MetaApi MT5 account: fastify on 127.0.0.1 serving the provisioning account
// record and the client REST API, written from MetaApi's documentation (client/restApi, client/models)
// and the MQL5 trade return codes, never from connectors/mt5. What it holds to:
// - Trade (POST …/trade, model MetatraderTrade → MetatraderTradeResponse): market and limit orders,
//   POSITION_CLOSE_ID / POSITION_PARTIAL by position id, POSITION_MODIFY (stop-loss/take-profit, sltp.ts),
//   ORDER_CANCEL; success codes 10008-10010 (and 10025 for a modify that changes nothing); no idempotency
//   key of any kind: every request that reaches the terminal trades again.
// - Account information carries `marginMode`; positions follow it (terminal.ts).
// - History by time range ("Read deals by time range", "Read history orders by time range"): start
//   inclusive, end exclusive, `offset` (default 0) and `limit` (default 1000, max 1000) page the answer.
// - Symbol specification and current price (tickSize, min/max volume, volumeStep, contractSize,
//   tradeMode; bid/ask/time).
// - Errors {id, error, message, metadata?}; 429 TooManyRequestsError with metadata.recommendedRetryTime.
// Tests switch faults on through terminal.faults and drive fills, amendments and cancels below.
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createSltp } from './sltp.ts';
import { createTerminal, type MarginMode, type TermDeal, type TermOrder, type TermPosition } from './terminal.ts';

export interface FakeMt5Options { accountId?: string; token?: string; suffix?: string; marginMode?: MarginMode; clock?: () => number }

const isoOf = (ms: number) => new Date(ms).toISOString();
const brokerTime = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');

const orderJson = (o: TermOrder) => ({
  id: o.id, type: o.type, state: o.state, magic: o.magic, time: isoOf(o.time), brokerTime: brokerTime(o.time),
  ...(o.doneTime === null ? {} : { doneTime: isoOf(o.doneTime), doneBrokerTime: brokerTime(o.doneTime) }),
  symbol: o.symbol, ...(o.openPrice === null ? {} : { openPrice: o.openPrice }), volume: o.volume, currentVolume: o.currentVolume,
  positionId: o.positionId ?? o.id, comment: o.comment, platform: 'mt5', reason: `ORDER_REASON_${o.reason}`,
  fillingMode: 'ORDER_FILLING_FOK', expirationType: 'ORDER_TIME_GTC', accountCurrencyExchangeRate: 1,
});
const dealJson = (d: TermDeal) => ({
  id: d.id, type: d.type, entryType: d.entryType, symbol: d.symbol, magic: d.magic, time: isoOf(d.time), brokerTime: brokerTime(d.time),
  volume: d.volume, price: d.price, commission: d.commission, swap: 0, profit: 0, positionId: d.positionId, orderId: d.orderId,
  comment: d.comment, platform: 'mt5', reason: `DEAL_REASON_${d.reason}`, accountCurrencyExchangeRate: 1,
  ...(d.stopLoss === undefined ? {} : { stopLoss: d.stopLoss }), ...(d.takeProfit === undefined ? {} : { takeProfit: d.takeProfit }),
});
const positionJson = (p: TermPosition, price: number) => ({
  id: p.id, type: p.type, symbol: p.symbol, magic: p.magic, time: isoOf(p.time), brokerTime: brokerTime(p.time), updateTime: isoOf(p.updateTime ?? p.time),
  openPrice: p.openPrice, currentPrice: price, currentTickValue: 1, volume: p.volume,
  ...(p.stopLoss === undefined ? {} : { stopLoss: p.stopLoss }), ...(p.takeProfit === undefined ? {} : { takeProfit: p.takeProfit }), swap: 0, profit: 0, commission: 0, comment: p.comment,
  platform: 'mt5', reason: 'POSITION_REASON_EXPERT', accountCurrencyExchangeRate: 1,
});

// MQL5 "Trade Server Return Codes" and MetaApi's two bridge codes (-10, -11).
const RETCODES: Readonly<Record<number, [string, string]>> = {
  [-11]: ['TRADE_RETCODE_DISCONNECTED_DURING_TRADE', 'Connection lost after the request was delivered'],
  [-10]: ['TRADE_RETCODE_DISCONNECTED_BEFORE_TRADE', 'Request not delivered: terminal disconnected'],
  10004: ['TRADE_RETCODE_REQUOTE', 'Requote'], 10006: ['TRADE_RETCODE_REJECT', 'Request rejected'],
  10008: ['TRADE_RETCODE_PLACED', 'Order placed'], 10009: ['TRADE_RETCODE_DONE', 'Request completed'],
  10011: ['TRADE_RETCODE_ERROR', 'Request processing error'], 10012: ['TRADE_RETCODE_TIMEOUT', 'Request canceled by timeout'],
  10013: ['TRADE_RETCODE_INVALID', 'Invalid request'], 10014: ['TRADE_RETCODE_INVALID_VOLUME', 'Invalid volume in the request'],
  10016: ['TRADE_RETCODE_INVALID_STOPS', 'Invalid stops in the request'], 10025: ['TRADE_RETCODE_NO_CHANGES', 'No changes in request'],
  10017: ['TRADE_RETCODE_TRADE_DISABLED', 'Trade is disabled'], 10018: ['TRADE_RETCODE_MARKET_CLOSED', 'Market is closed'],
  10019: ['TRADE_RETCODE_NO_MONEY', 'There is not enough money to complete the request'], 10020: ['TRADE_RETCODE_PRICE_CHANGED', 'Prices changed'],
  10031: ['TRADE_RETCODE_CONNECTION', 'No connection with the trade server'], 10036: ['TRADE_RETCODE_POSITION_CLOSED', 'Position already closed'],
  10038: ['TRADE_RETCODE_INVALID_CLOSE_VOLUME', 'Close volume exceeds the current position volume'],
};
const tradeAnswer = (code: number, order?: TermOrder) => ({
  numericCode: code, stringCode: RETCODES[code]?.[0] ?? `TRADE_RETCODE_${code}`, message: RETCODES[code]?.[1] ?? 'Request failed',
  ...(order ? { orderId: order.id, positionId: order.positionId ?? order.id } : {}),
});

export function createFakeMt5Bridge({ accountId = 'a1b2c3d4-fake-4e5f-mt5', token = 'fake-bridge-token-0123456789abcdef', suffix = '', marginMode = 'ACCOUNT_MARGIN_MODE_RETAIL_NETTING', clock = Date.now }: FakeMt5Options = {}) {
  const term = createTerminal({ clock, suffix, marginMode });
  const sltp = createSltp(term, clock);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const held = new Set<ServerResponse>();
  const base = `/users/current/accounts/${accountId}`;
  let blockedUntil = 0;
  let blockedSince = 0;

  function withhold(reply: FastifyReply): FastifyReply {
    reply.hijack();
    held.add(reply.raw);
    reply.raw.on('close', () => held.delete(reply.raw));
    return reply;
  }
  const error = (reply: FastifyReply, status: number, name: string, message: string) => reply.code(status).send({ id: 1, error: name, message });
  const notFound = (reply: FastifyReply, what: string) => error(reply, 404, 'NotFoundError', `${what} not found`);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    term.counters.requests += 1;
    // Requests already on the wire when the 429 left (a 50 ms grace) are not the client ignoring it.
    if (clock() < blockedUntil && clock() > blockedSince + 50) term.counters.rateLimitViolations += 1;
    if (term.faults.outage) return error(reply, 503, 'InternalError', 'Service unavailable');
    if (req.headers['auth-token'] !== token) return error(reply, 401, 'UnauthorizedError', 'Authorization failed');
    if (!req.url.startsWith(base)) return notFound(reply, 'MetaTrader account');
  });

  app.get(base, async () => ({
    _id: accountId, name: 'order-router demo', type: 'cloud-g2', login: '50123456', server: 'FakeBroker-Demo', platform: 'mt5',
    state: 'DEPLOYED', connectionStatus: term.faults.terminalDisconnected ? 'DISCONNECTED_FROM_BROKER' : 'CONNECTED', region: 'new-york', magic: 0,
  }));
  app.get(`${base}/account-information`, async () => ({
    platform: 'mt5', broker: 'Fake Broker Ltd', currency: 'USD', server: 'FakeBroker-Demo', balance: 100_000, equity: 100_000, margin: 0,
    freeMargin: 100_000, leverage: 100, marginLevel: 0, tradeAllowed: true, marginMode: term.account.marginMode, name: 'Demo', login: 50123456,
    credit: 0, type: 'ACCOUNT_TRADE_MODE_DEMO',
  }));

  app.post<{ Body: Record<string, unknown> }>(`${base}/trade`, async (req, reply) => {
    const b = req.body ?? {};
    const f = term.faults;
    const action = String(b.actionType ?? '');
    term.counters.tradeRequests += 1;
    if (action === 'ORDER_CANCEL') {
      const order = term.orders.get(String(b.orderId ?? ''));
      if (!order || !term.cancel(order)) return tradeAnswer(10013);
      return tradeAnswer(10009, order);
    }
    const comment = typeof b.comment === 'string' ? b.comment : '';
    // MetaApi: comment and clientId together may not exceed 26 characters.
    if (comment.length + (typeof b.clientId === 'string' ? b.clientId.length : 0) > 26) return error(reply, 400, 'ValidationError', 'comment too long');
    term.submits.set(comment, (term.submits.get(comment) ?? 0) + 1);
    if (f.rateLimitTradeSec !== null) {
      blockedSince = clock();
      blockedUntil = blockedSince + f.rateLimitTradeSec * 1000;
      f.rateLimitTradeSec = null;
      return reply.code(429).send({ id: 1, error: 'TooManyRequestsError', message: 'Too many requests', metadata: { recommendedRetryTime: isoOf(blockedUntil) } });
    }
    const fail = f.failTrade;
    f.failTrade = null;
    if (fail && !fail.created) return error(reply, fail.status, 'InternalError', 'Internal error');
    if (f.terminalDisconnected) return tradeAnswer(10031);
    const rc = f.retcodeNext;
    f.retcodeNext = null;
    if (rc && !rc.executed) return tradeAnswer(rc.code);
    const magic = typeof b.magic === 'number' ? b.magic : 0;
    let done: ReturnType<typeof tradeAnswer>;
    if (action === 'POSITION_MODIFY') {
      term.counters.positionModifies += 1;
      const m = sltp.modify(b);
      if (!m.position) return tradeAnswer(m.code);
      done = { ...tradeAnswer(m.code), positionId: m.position.id };
    } else if (action === 'POSITION_CLOSE_ID' || action === 'POSITION_PARTIAL') {
      const p = term.positions.get(String(b.positionId ?? ''));
      if (!p) return tradeAnswer(10036);
      const volume = action === 'POSITION_CLOSE_ID' ? p.volume : typeof b.volume === 'number' ? b.volume : NaN;
      const step = term.symbols.get(p.symbol)!.volumeStep;
      if (!(volume > 0) || Math.abs(volume / step - Math.round(volume / step)) > 1e-6) return tradeAnswer(10014);
      if (volume > p.volume + 1e-9) return tradeAnswer(10038);
      done = tradeAnswer(10009, term.close(p, volume, comment, magic));
    } else {
      const symbol = String(b.symbol ?? '');
      const volume = typeof b.volume === 'number' ? b.volume : NaN;
      const s = term.symbols.get(symbol);
      if (!s) return tradeAnswer(10013);
      if (s.tradeMode === 'SYMBOL_TRADE_MODE_DISABLED') return tradeAnswer(10017);
      if (!(volume >= s.minVolume - 1e-9) || volume > s.maxVolume + 1e-9 || Math.abs(volume / s.volumeStep - Math.round(volume / s.volumeStep)) > 1e-6) return tradeAnswer(10014);
      // MetaTrader 5's pending orders: a limit or a stop rests at openPrice; a stop-limit, on reaching
      // openPrice, places a limit at stopLimitPrice. The fake rests them all and never triggers one.
      const pending = action !== 'ORDER_TYPE_BUY' && action !== 'ORDER_TYPE_SELL';
      const stopLimit = action.endsWith('_STOP_LIMIT');
      if (![
        'ORDER_TYPE_BUY', 'ORDER_TYPE_SELL', 'ORDER_TYPE_BUY_LIMIT', 'ORDER_TYPE_SELL_LIMIT', 'ORDER_TYPE_BUY_STOP', 'ORDER_TYPE_SELL_STOP',
        'ORDER_TYPE_BUY_STOP_LIMIT', 'ORDER_TYPE_SELL_STOP_LIMIT',
      ].includes(action) || (pending && typeof b.openPrice !== 'number') || (stopLimit && typeof b.stopLimitPrice !== 'number')) return tradeAnswer(10013);
      done = tradeAnswer(10009, term.place({ type: action, symbol, volume, openPrice: pending ? (b.openPrice as number) : null, comment, magic }));
    }
    if (rc) return tradeAnswer(rc.code);
    if (fail) return error(reply, fail.status, 'InternalError', 'Internal error');
    if (f.dropTrades > 0) { f.dropTrades -= 1; return withhold(reply); }
    return done;
  });

  const openOrders = () => [...term.orders.values()].filter((o) => term.isOpen(o) && term.visible(o));
  const historyOrders = () => [...term.orders.values()].filter((o) => !term.isOpen(o) && term.visible(o));
  const historyDeals = () => [...term.deals, ...term.repeats].filter(term.visible);

  app.get(`${base}/orders`, async () => openOrders().map(orderJson));
  app.get<{ Params: { id: string } }>(`${base}/orders/:id`, async (req, reply) => {
    const o = openOrders().find((x) => x.id === req.params.id);
    return o ? orderJson(o) : notFound(reply, 'Order');
  });
  app.get(`${base}/positions`, async () => [...term.positions.values()].filter(term.visible).map((p) => positionJson(p, term.symbols.get(p.symbol)!.bid)));
  app.get<{ Params: { id: string } }>(`${base}/positions/:id`, async (req, reply) => {
    const p = term.positions.get(req.params.id);
    return p && term.visible(p) ? positionJson(p, term.symbols.get(p.symbol)!.bid) : notFound(reply, 'Position');
  });
  app.get<{ Params: { ticket: string } }>(`${base}/history-orders/ticket/:ticket`, async (req) => historyOrders().filter((o) => o.id === req.params.ticket).map(orderJson));
  app.get<{ Params: { ticket: string } }>(`${base}/history-deals/ticket/:ticket`, async (req) => historyDeals().filter((d) => d.orderId === req.params.ticket).map(dealJson));
  app.get<{ Params: { id: string } }>(`${base}/history-orders/position/:id`, async (req) => historyOrders().filter((o) => (o.positionId ?? o.id) === req.params.id).map(orderJson));
  app.get<{ Params: { id: string } }>(`${base}/history-deals/position/:id`, async (req) => historyDeals().filter((d) => d.positionId === req.params.id).map(dealJson));

  /** Start inclusive, end exclusive; pages of `limit` (≤ 1000) from `offset`, oldest first. */
  function page<T extends { id: string }>(req: FastifyRequest<{ Params: { from: string; to: string }; Querystring: { offset?: string; limit?: string } }>, reply: FastifyReply,
    rows: T[], timeOf: (x: T) => number, render: (x: T) => unknown) {
    term.counters.historyRequests += 1;
    if (term.faults.historyStalled) return withhold(reply);
    const offset = Number(req.query.offset ?? 0);
    const limit = Number(req.query.limit ?? 1000);
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000) return error(reply, 400, 'ValidationError', 'invalid offset or limit');
    const from = Date.parse(req.params.from);
    const to = Date.parse(req.params.to);
    return rows.filter((x) => timeOf(x) >= from && timeOf(x) < to).sort((a, b) => timeOf(a) - timeOf(b) || Number(a.id) - Number(b.id))
      .slice(offset, offset + limit).map(render);
  }
  app.get<{ Params: { from: string; to: string }; Querystring: { offset?: string; limit?: string } }>(`${base}/history-orders/time/:from/:to`,
    async (req, reply) => page(req, reply, historyOrders(), (o) => o.doneTime ?? o.time, orderJson));
  app.get<{ Params: { from: string; to: string }; Querystring: { offset?: string; limit?: string } }>(`${base}/history-deals/time/:from/:to`,
    async (req, reply) => page(req, reply, historyDeals(), (d) => d.time, dealJson));

  app.get<{ Params: { symbol: string } }>(`${base}/symbols/:symbol/specification`, async (req, reply) => {
    const s = term.symbols.get(req.params.symbol);
    if (!s) return notFound(reply, 'Symbol');
    return {
      symbol: s.symbol, tickSize: s.tickSize, minVolume: s.minVolume, maxVolume: s.maxVolume, volumeStep: s.volumeStep, contractSize: s.contractSize,
      digits: s.digits, point: s.tickSize, fillingModes: ['ORDER_FILLING_FOK', 'ORDER_FILLING_IOC'], executionMode: 'SYMBOL_TRADE_EXECUTION_MARKET',
      tradeMode: s.tradeMode, quoteSessions: {}, tradeSessions: {}, description: s.symbol, baseCurrency: 'USD', profitCurrency: 'USD', marginCurrency: 'USD',
    };
  });
  app.get<{ Params: { symbol: string } }>(`${base}/symbols/:symbol/current-price`, async (req, reply) => {
    const s = term.symbols.get(req.params.symbol);
    if (!s) return notFound(reply, 'Symbol');
    return { symbol: s.symbol, bid: s.bid, ask: s.ask, profitTickValue: 1, lossTickValue: 1, time: isoOf(s.priceTime), brokerTime: brokerTime(s.priceTime) };
  });

  const withComment = (comment: string) => [...term.orders.values()].filter((o) => o.comment === comment);
  const dealOf = (id: string): TermDeal => {
    const d = term.deals.find((x) => x.id === id);
    if (!d) throw new Error(`fake mt5: no deal ${id}`);
    return d;
  };

  return {
    term, accountId, token,
    async start(): Promise<string> {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    async stop(): Promise<void> {
      for (const raw of held) raw.destroy();
      await app.close();
    },
    /** Orders the terminal holds with this comment (the bridge correlates nothing else). */
    ordersWithComment: withComment,
    submitsWithComment: (comment: string) => term.submits.get(comment) ?? 0,
    /** Fills part or all of a resting order, volume in lots. */
    fill(order: TermOrder, lots: number, price?: number) { return term.fill(order, lots, price ?? order.openPrice ?? 100); },
    /** The deal is listed a second time in history. */
    repeatDeal(dealId: string) { term.repeats.push(dealOf(dealId)); },
    /** The broker restates a deal: later reads show the new price or volume. */
    amendDeal(dealId: string, change: { price?: number; volume?: number }) { Object.assign(dealOf(dealId), change); },
    /** The broker cancels a deal: MT5 changes its type (DEAL_TYPE_BUY → DEAL_TYPE_BUY_CANCELED). */
    cancelDeal(dealId: string) {
      const d = dealOf(dealId);
      d.type = d.type === 'DEAL_TYPE_SELL' ? 'DEAL_TYPE_SELL_CANCELED' : 'DEAL_TYPE_BUY_CANCELED';
    },
    /** Someone else's trades (a manual trader, another EA): `n` filled market orders with their deals, at `time`. */
    seedForeign(n: number, symbol = `MSFT${suffix}`) {
      for (let i = 0; i < n; i++) term.place({ type: i % 2 ? 'ORDER_TYPE_SELL' : 'ORDER_TYPE_BUY', symbol, volume: 0.01, openPrice: null, comment: 'manual', magic: 0 });
    },
    /** A new bid/ask; positions of `symbol` whose stop-loss or take-profit it reaches close (the server's orders are returned). */
    setPrice(symbol: string, bid: number, ask: number): TermOrder[] {
      Object.assign(term.symbols.get(symbol)!, { bid, ask, priceTime: clock() });
      return sltp.trigger(symbol);
    },
    /** The position's stop-loss and take-profit (null = none), or null when it is not open. */
    levelsOf: sltp.levelsOf,
    /** Open positions carrying this comment (on a hedging account, the ones orders with it opened). */
    positionsWithComment: (comment: string) => [...term.positions.values()].filter((p) => p.comment === comment),
  };
}

export type FakeMt5Bridge = ReturnType<typeof createFakeMt5Bridge>;
