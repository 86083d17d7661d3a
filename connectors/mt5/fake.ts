// A local stand-in for a MetaApi-style MT5 bridge: fastify on 127.0.0.1 serving both the client API
// (trade, orders, history, positions, account information) and the provisioning account record, in
// the JSON that client.ts reads (see its header). Faults live in state.faults; tests fill, amend and
// cancel deals through the returned object.
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { commentToken } from './ids.ts';
import { createFakeMt5State, VOLUME_STEP, type FakeMt5Deal, type FakeMt5Order } from './fakeState.ts';

export interface FakeMt5Options { accountId?: string; token?: string; magic?: number; suffix?: string; clock?: () => number }

const isoOf = (ms: number) => new Date(ms).toISOString();
const brokerTime = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');

const orderJson = (o: FakeMt5Order) => ({
  id: o.id, type: o.type, state: o.state, magic: o.magic, time: isoOf(o.time), brokerTime: brokerTime(o.time),
  ...(o.doneTime === null ? {} : { doneTime: isoOf(o.doneTime), doneBrokerTime: brokerTime(o.doneTime) }),
  symbol: o.symbol, ...(o.openPrice === null ? {} : { openPrice: o.openPrice }), volume: o.volume, currentVolume: o.currentVolume,
  positionId: o.id, comment: o.comment, platform: 'mt5', reason: 'ORDER_REASON_EXPERT',
  fillingMode: 'ORDER_FILLING_FOK', expirationType: 'ORDER_TIME_GTC', accountCurrencyExchangeRate: 1,
});

const dealJson = (d: FakeMt5Deal) => ({
  id: d.id, type: d.type, entryType: 'DEAL_ENTRY_IN', symbol: d.symbol, magic: d.magic, time: isoOf(d.time), brokerTime: brokerTime(d.time),
  volume: d.volume, price: d.price, commission: d.commission, swap: 0, profit: 0, positionId: d.orderId, orderId: d.orderId,
  comment: d.comment, platform: 'mt5', reason: 'DEAL_REASON_EXPERT', accountCurrencyExchangeRate: 1,
});

const RETCODE_NAMES: Readonly<Record<number, string>> = {
  10004: 'TRADE_RETCODE_REQUOTE', 10006: 'TRADE_RETCODE_REJECT', 10009: 'TRADE_RETCODE_DONE', 10013: 'TRADE_RETCODE_INVALID',
  10014: 'TRADE_RETCODE_INVALID_VOLUME', 10018: 'TRADE_RETCODE_MARKET_CLOSED', 10019: 'TRADE_RETCODE_NO_MONEY', 10031: 'TRADE_RETCODE_CONNECTION',
};
const tradeAnswer = (code: number, orderId?: string) => ({
  numericCode: code, stringCode: RETCODE_NAMES[code] ?? `TRADE_RETCODE_${code}`, message: code === 10009 ? 'Request completed' : 'Request failed',
  ...(orderId ? { orderId, positionId: orderId } : {}),
});

export function createFakeMt5Bridge({ accountId = 'a1b2c3d4-fake-4e5f-mt5', token = 'fake-bridge-token-0123456789abcdef', magic = 770_001, suffix = '', clock = Date.now }: FakeMt5Options = {}) {
  const state = createFakeMt5State(clock, suffix);
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
  const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ id: 1, error: 'NotFoundError', message: `${what} not found` });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    state.counters.requests += 1;
    // Requests already on the wire when the 429 left (a 50 ms grace) are not the client ignoring it.
    if (clock() < blockedUntil && clock() > blockedSince + 50) state.counters.rateLimitViolations += 1;
    if (state.faults.outage) return reply.code(503).send({ id: 1, error: 'InternalError', message: 'Service unavailable' });
    if (req.headers['auth-token'] !== token) return reply.code(401).send({ id: 1, error: 'UnauthorizedError', message: 'Authorization failed' });
    if (!req.url.startsWith(base)) return notFound(reply, 'MetaTrader account');
  });

  app.get(base, async () => ({
    _id: accountId, name: 'order-router demo', type: 'cloud-g2', login: '50123456', server: 'FakeBroker-Demo', platform: 'mt5',
    state: 'DEPLOYED', connectionStatus: state.faults.terminalDisconnected ? 'DISCONNECTED_FROM_BROKER' : 'CONNECTED', region: 'new-york',
  }));
  app.get(`${base}/account-information`, async () => ({
    platform: 'mt5', broker: 'Fake Broker Ltd', currency: 'USD', server: 'FakeBroker-Demo', balance: 100_000, equity: 100_000,
    margin: 0, freeMargin: 100_000, leverage: 100, type: 'ACCOUNT_TRADE_MODE_DEMO', name: 'Demo', login: 50123456, credit: 0,
  }));

  app.post<{ Body: Record<string, unknown> }>(`${base}/trade`, async (req, reply) => {
    const b = req.body ?? {};
    const f = state.faults;
    const action = String(b.actionType ?? '');
    if (action === 'ORDER_CANCEL') {
      const order = state.orders.get(String(b.orderId ?? ''));
      if (!order || !state.cancel(order)) return tradeAnswer(10013);
      return tradeAnswer(10009, order.id);
    }
    const comment = typeof b.comment === 'string' ? b.comment : '';
    state.submits.set(comment, (state.submits.get(comment) ?? 0) + 1);
    if (f.rateLimitTradeSec !== null) {
      blockedSince = clock();
      blockedUntil = blockedSince + f.rateLimitTradeSec * 1000;
      f.rateLimitTradeSec = null;
      return reply.code(429).send({ id: 1, error: 'TooManyRequestsError', message: 'Too many requests', metadata: { recommendedRetryTime: isoOf(blockedUntil) } });
    }
    const fail = f.failTrade;
    f.failTrade = null;
    if (fail && !fail.created) return reply.code(fail.status).send({ id: 1, error: 'InternalError', message: 'Internal error' });
    if (f.terminalDisconnected) return tradeAnswer(10031);
    if (f.retcodeNext !== null) { const code = f.retcodeNext; f.retcodeNext = null; return tradeAnswer(code); }
    const symbol = String(b.symbol ?? '');
    const volume = typeof b.volume === 'number' ? b.volume : NaN;
    const step = VOLUME_STEP[state.bare(symbol)];
    if (step === undefined) return tradeAnswer(10013);
    if (!(volume > 0) || Math.abs(volume / step - Math.round(volume / step)) > 1e-6) return tradeAnswer(10014);
    const limit = action.endsWith('_LIMIT');
    if (!['ORDER_TYPE_BUY', 'ORDER_TYPE_SELL', 'ORDER_TYPE_BUY_LIMIT', 'ORDER_TYPE_SELL_LIMIT'].includes(action) || (limit && typeof b.openPrice !== 'number')) return tradeAnswer(10013);
    const order = state.place({ type: action, symbol, volume, openPrice: limit ? (b.openPrice as number) : null, comment, magic: typeof b.magic === 'number' ? b.magic : 0 });
    if (fail) return reply.code(fail.status).send({ id: 1, error: 'InternalError', message: 'Internal error' });
    if (f.dropTrades > 0) { f.dropTrades -= 1; return withhold(reply); }
    return tradeAnswer(10009, order.id);
  });

  app.get(`${base}/orders`, async () => [...state.orders.values()].filter(state.isOpen).map(orderJson));
  app.get<{ Params: { id: string } }>(`${base}/orders/:id`, async (req, reply) => {
    const o = state.orders.get(req.params.id);
    return o && state.isOpen(o) ? orderJson(o) : notFound(reply, 'Order');
  });
  app.get<{ Params: { ticket: string } }>(`${base}/history-orders/ticket/:ticket`, async (req) => {
    const o = state.orders.get(req.params.ticket);
    return o && !state.isOpen(o) ? [orderJson(o)] : [];
  });
  app.get<{ Params: { ticket: string } }>(`${base}/history-deals/ticket/:ticket`, async (req) => state.dealsOf(req.params.ticket).map(dealJson));

  const inRange = (t: number, from: string, to: string) => t >= Date.parse(from) && t < Date.parse(to);
  app.get<{ Params: { from: string; to: string } }>(`${base}/history-orders/time/:from/:to`, async (req, reply) => {
    if (state.faults.historyStalled) return withhold(reply);
    return [...state.orders.values()].filter((o) => !state.isOpen(o) && inRange(o.doneTime ?? o.time, req.params.from, req.params.to)).map(orderJson);
  });
  app.get<{ Params: { from: string; to: string } }>(`${base}/history-deals/time/:from/:to`, async (req, reply) => {
    if (state.faults.historyStalled) return withhold(reply);
    return [...state.deals, ...state.repeats].filter((d) => inRange(d.time, req.params.from, req.params.to)).map(dealJson);
  });
  app.get(`${base}/positions`, async () => [...state.orders.values()].filter((o) => o.volume > o.currentVolume).map((o) => ({
    id: o.id, type: o.type.includes('SELL') ? 'POSITION_TYPE_SELL' : 'POSITION_TYPE_BUY', symbol: o.symbol, magic: o.magic, time: isoOf(o.time),
    openPrice: state.dealsOf(o.id)[0]?.price ?? 0, currentPrice: state.dealsOf(o.id)[0]?.price ?? 0, volume: Math.round((o.volume - o.currentVolume) * 1e8) / 1e8,
    swap: 0, profit: 0, comment: o.comment, platform: 'mt5',
  })));

  const orderOf = (clientOrderId: string): FakeMt5Order => {
    const t = commentToken(clientOrderId);
    const o = [...state.orders.values()].find((x) => x.comment === t);
    if (!o) throw new Error(`fake mt5: no order for ${clientOrderId}`);
    return o;
  };
  const dealOf = (id: string): FakeMt5Deal => {
    const d = state.deals.find((x) => x.id === id);
    if (!d) throw new Error(`fake mt5: no deal ${id}`);
    return d;
  };

  return {
    state, accountId, token, magic,
    async start(): Promise<string> {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    async stop(): Promise<void> {
      for (const raw of held) raw.destroy();
      await app.close();
    },
    ordersCreated: (clientOrderId: string) => [...state.orders.values()].filter((o) => o.comment === commentToken(clientOrderId)).length,
    submitsReceived: (clientOrderId: string) => state.submits.get(commentToken(clientOrderId)) ?? 0,
    /** Fills part or all of a resting order, volume in lots. */
    fill: (clientOrderId: string, lots: number, price?: number) => { const o = orderOf(clientOrderId); return state.fill(o, lots, price ?? o.openPrice ?? 100); },
    /** The deal is listed a second time in history. */
    repeatDeal(dealId: string) { state.repeats.push(dealOf(dealId)); },
    /** The broker restates a deal: later reads show the new price or volume. */
    amendDeal(dealId: string, change: { price?: number; volume?: number }) {
      const d = dealOf(dealId);
      if (change.price !== undefined) d.price = change.price;
      if (change.volume !== undefined) d.volume = change.volume;
    },
    /** The broker cancels a deal: MT5 changes its type (DEAL_TYPE_BUY → DEAL_TYPE_BUY_CANCELED). */
    cancelDeal(dealId: string) {
      const d = dealOf(dealId);
      d.type = d.type === 'DEAL_TYPE_SELL' ? 'DEAL_TYPE_SELL_CANCELED' : 'DEAL_TYPE_BUY_CANCELED';
    },
    lastDealOf: (clientOrderId: string) => state.dealsOf(orderOf(clientOrderId).id).at(-1) ?? null,
  };
}

export type FakeMt5Bridge = ReturnType<typeof createFakeMt5Bridge>;
