// A local Binance spot venue for tests, built from the official documentation (binance-spot-api-docs),
// never from the connector: signed REST (rest-api.md "SIGNED Endpoint security", "Timing security"),
// request weights and 429/Retry-After ("LIMITS"), the order endpoints with open-order-only id
// uniqueness, myTrades, exchangeInfo, book tickers and klines; user data only over the WebSocket API
// (the REST listen key is retired: POST /api/v3/userDataStream has no route here), and the unknown
// outcome window: a submit can reach the matching engine seconds after the client gave up on it. OCO
// order lists (POST /api/v3/orderList/oco) with their listStatus events; the submit faults apply to them too.
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { FakeVenueControls } from '../../helpers/connectorSuiteTypes.ts';
import { createExchange, type Commission, type OcoLeg, type OcoRequest, type PlaceRequest, type Report } from './exchange.ts';
import * as P from './payloads.ts';
import { createFakeSockets } from './sockets.ts';

export type DelayedAnswer = 'none' | { status: number; code: -1006 | -1007 };
export interface BinanceFakeKnobs {
  /** The next submit reaches the matching engine `ms` later; its answer never comes ('none') or says "status unknown". */
  delayNextSubmit(ms: number, answer: DelayedAnswer): void;
  setCommission(c: Partial<Commission>): void;
  /** New best bid/ask for a venue symbol, pushed on its bookTicker stream. */
  setTop(venueSymbol: string, bid: number, ask: number, qty?: number): void;
  terminateSubscriptions(): void;
  serverShutdown(): void;
  /** Requests received per "METHOD /path", and the weight used this minute. */
  requests(key: string): number;
  weightUsed(): number;
  sockets(): { subscribeRequests: number; refusedSubscriptions: number; activeSubscriptions: number; marketConnections: number };
  ordersWithId(clientOrderId: string): P.FakeOrder[];
  trades(venueSymbol: string): P.FakeTrade[];
  bnbPriceAt(at: number): number;
  /** The next OCO request reaches the matching engine `ms` later; its answer never comes ('none') or says "status unknown". */
  delayNextOco(ms: number, answer: DelayedAnswer): void;
  /** OCO order lists placed so far (their legs by client order id, above first). */
  orderLists(): P.FakeOrderList[];
  /** A resting STOP_LOSS leg reaches its trigger: it trades, and the venue expires its OCO sibling. */
  trigger(clientOrderId: string): void;
}
export interface BinanceFake { url: string; wsApiUrl: string; streamUrl: string; controls: FakeVenueControls; knobs: BinanceFakeKnobs; stop(): Promise<void> }

/** How long after a 429 a read still counts as sent before the client could know (see the onRequest hook). */
const IN_FLIGHT_MS = 100;

const SYMBOLS: P.FakeSymbol[] = [
  { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', tickSize: 0.01, stepSize: 0.00001, minQty: 0.00001, maxQty: 9000, minNotional: 5, maxNotional: 9_000_000 },
  { symbol: 'ETHUSDT', baseAsset: 'ETH', quoteAsset: 'USDT', tickSize: 0.01, stepSize: 0.0001, minQty: 0.0001, maxQty: 9000, minNotional: 5, maxNotional: 9_000_000 },
  { symbol: 'SOLUSDT', baseAsset: 'SOL', quoteAsset: 'USDT', tickSize: 0.01, stepSize: 0.001, minQty: 0.001, maxQty: 90000, minNotional: 5, maxNotional: 9_000_000 },
  { symbol: 'BNBUSDT', baseAsset: 'BNB', quoteAsset: 'USDT', tickSize: 0.01, stepSize: 0.001, minQty: 0.001, maxQty: 90000, minNotional: 5, maxNotional: 9_000_000 },
];
// rest-api.md, each endpoint's "Weight".
const weightOf = (method: string, path: string, q: Record<string, string>): number => {
  switch (`${method} ${path}`) {
    case 'GET /api/v3/order': return 4;
    case 'GET /api/v3/openOrders': return q.symbol ? 6 : 80;
    case 'GET /api/v3/myTrades': return q.orderId ? 5 : 20;
    case 'GET /api/v3/exchangeInfo': return 20;
    case 'GET /api/v3/ticker/bookTicker': return q.symbol ? 2 : 4;
    case 'GET /api/v3/klines': return 2;
    default: return 1;
  }
};

export async function startBinanceFake(o: { apiKey: string; secretKey: string; pingMs?: number; weightLimit?: number }): Promise<BinanceFake> {
  const f = {
    timeoutNext: false, failNext: null as { status: number; created: boolean } | null, delayNext: null as { ms: number; answer: DelayedAnswer } | null,
    delayNextOco: null as { ms: number; answer: DelayedAnswer } | null, rateLimitNext: null as number | null, blockedUntil: 0, blockedAt: 0, violations: 0, outage: false, skewMs: 0,
  };
  const now = () => Date.now() + f.skewMs; // the venue's clock: what our timestamps are checked against
  const sockets = createFakeSockets({ apiKey: o.apiKey, secretKey: o.secretKey, now, pingMs: o.pingMs ?? 20_000 });
  const submits = new Map<string, number>();
  const counts = new Map<string, number>();
  const lastEvent = new Map<string, Record<string, unknown>>();
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let executionId = 71_124_000;
  let weight = { minute: 0, used: 0 };

  const exchange = createExchange({
    now, symbols: SYMBOLS,
    onReport(r: Report) {
      const event = P.executionReport(r.order, r.x, now(), executionId++, r);
      lastEvent.set(r.order.clientOrderId, event);
      sockets.pushUserEvent(event);
    },
    onListStatus: (l, legs) => sockets.pushUserEvent(P.listStatusEvent(l, legs, now())),
  });
  for (const [s, bid, ask] of [['BTCUSDT', 64990, 65000], ['ETHUSDT', 3490, 3491], ['SOLUSDT', 140, 140.05], ['BNBUSDT', 600, 600.1]] as const) exchange.setTop(s, { bid, ask, bidQty: 5, askQty: 5 });

  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const fail = (reply: FastifyReply, status: number, body: { code: number; msg: string }) => reply.code(status).send(body);
  const rawQuery = (req: FastifyRequest) => (req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
  const paramsOf = (req: FastifyRequest) => Object.fromEntries(new URLSearchParams(`${rawQuery(req)}&${typeof req.body === 'string' ? req.body : ''}`));

  /** The signature covers the query string followed by the body; then timestamp against recvWindow. */
  const verify = (req: FastifyRequest): { ok: true; p: Record<string, string> } | { ok: false; status: number; body: { code: number; msg: string } } => {
    if (req.headers['x-mbx-apikey'] !== o.apiKey) return { ok: false, status: 401, body: P.ERRORS.apiKey };
    const strip = (s: string) => s.split('&').filter((x) => x && !x.startsWith('signature=')).join('&');
    const p = paramsOf(req);
    const expected = createHmac('sha256', o.secretKey).update(strip(rawQuery(req)) + strip(typeof req.body === 'string' ? req.body : '')).digest('hex');
    if ((p.signature ?? '').toLowerCase() !== expected) return { ok: false, status: 400, body: P.ERRORS.signature };
    const ts = Number(p.timestamp);
    const window = Number(p.recvWindow ?? 5000);
    if (!(ts < now() + 1000)) return { ok: false, status: 400, body: P.ERRORS.ahead };
    if (!(now() - ts <= window)) return { ok: false, status: 400, body: P.ERRORS.recvWindow };
    return { ok: true, p };
  };
  const signed = (handler: (p: Record<string, string>, reply: FastifyReply) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    const v = verify(req);
    return v.ok ? handler(v.p, reply) : fail(reply, v.status, v.body);
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    counts.set(`${req.method} ${path}`, (counts.get(`${req.method} ${path}`) ?? 0) + 1);
    if (Date.now() < f.blockedUntil) {
      // Not backing off is a violation. A read the client had sent before our 429 reached it is not: in
      // the tests the connector and this server share one event loop, so such a request can be parsed
      // here just after the 429 went out. A new order is a violation whenever it comes.
      const inFlight = Date.now() - f.blockedAt < IN_FLIGHT_MS && !(req.method === 'POST' && path === '/api/v3/order');
      if (!inFlight) f.violations += 1;
    }
    if (f.outage) return fail(reply, 503, P.ERRORS.disconnected);
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== weight.minute) weight = { minute, used: 0 };
    weight.used += weightOf(req.method, path, Object.fromEntries(new URLSearchParams(rawQuery(req))));
    reply.header('x-mbx-used-weight-1m', String(weight.used));
    if (weight.used > (o.weightLimit ?? 6000)) {
      const wait = Math.ceil(((minute + 1) * 60_000 - Date.now()) / 1000);
      f.blockedUntil = Math.max(f.blockedUntil, Date.now() + wait * 1000);
      f.blockedAt = Date.now();
      reply.header('retry-after', String(wait));
      return fail(reply, 429, P.ERRORS.tooMuchWeight);
    }
  });

  app.get('/api/v3/time', async () => ({ serverTime: now() }));
  app.get('/api/v3/ping', async () => ({}));
  app.get('/api/v3/exchangeInfo', async (req) => {
    const wanted = (req.query as { symbols?: string; symbol?: string });
    const names = wanted.symbols ? JSON.parse(wanted.symbols) as string[] : wanted.symbol ? [wanted.symbol] : null;
    return P.exchangeInfo(exchange.symbols().filter((s) => !names || names.includes(s.symbol)), now());
  });
  app.get('/api/v3/ticker/bookTicker', async (req, reply) => {
    const q = req.query as { symbols?: string; symbol?: string };
    const names = q.symbols ? JSON.parse(q.symbols) as string[] : q.symbol ? [q.symbol] : exchange.symbols().map((s) => s.symbol);
    const rows = names.map((s) => [s, exchange.top(s)] as const);
    if (rows.some(([, t]) => !t)) return fail(reply, 400, P.ERRORS.badSymbol);
    const out = rows.map(([s, t]) => P.bookTicker(s, t!));
    return q.symbol ? out[0] : out;
  });
  app.get('/api/v3/klines', async (req, reply) => {
    const q = req.query as Record<string, string>;
    if (q.symbol !== 'BNBUSDT') return exchange.symbols().some((s) => s.symbol === q.symbol) ? [] : fail(reply, 400, P.ERRORS.badSymbol);
    const at = Number(q.endTime ?? q.startTime ?? Date.now());
    const open = Math.floor(at / 60_000) * 60_000;
    return [P.kline1m(open, exchange.bnbPriceAt(open))];
  });

  function placeRequest(p: Record<string, string>): PlaceRequest {
    return { symbol: p.symbol, side: p.side, type: p.type, quantity: Number(p.quantity), price: p.price ? Number(p.price) : null, timeInForce: p.timeInForce ?? null, newClientOrderId: p.newClientOrderId ?? `x-${executionId}`,
      stopPrice: p.stopPrice ? Number(p.stopPrice) : null, trailingDelta: p.trailingDelta ? Number(p.trailingDelta) : null };
  }
  const placedAnswer = (reply: FastifyReply, r: ReturnType<typeof exchange.place>) => (r.ok ? P.newOrderFull(r.order, r.fills) : fail(reply, 400, r.error));

  app.post('/api/v3/order', signed((p, reply) => {
    const cid = p.newClientOrderId ?? '';
    submits.set(cid, (submits.get(cid) ?? 0) + 1);
    if (f.rateLimitNext !== null) {
      f.blockedUntil = Date.now() + f.rateLimitNext * 1000;
      f.blockedAt = Date.now();
      reply.header('retry-after', String(f.rateLimitNext));
      f.rateLimitNext = null;
      return fail(reply, 429, P.ERRORS.tooMuchWeight);
    }
    const delay = f.delayNext;
    f.delayNext = null;
    if (delay) {
      // Accepted by the API, applied when the matching engine gets to it; the client hears nothing useful.
      const req = placeRequest(p);
      const t = setTimeout(() => { timers.delete(t); exchange.place(req); }, delay.ms);
      timers.add(t);
      if (delay.answer === 'none') { reply.hijack(); held.add(reply.raw); return reply; }
      return fail(reply, delay.answer.status, delay.answer.code === -1007 ? P.ERRORS.timeout : P.ERRORS.unexpectedResp);
    }
    const fault = f.failNext;
    f.failNext = null;
    if (fault && !fault.created) return fail(reply, fault.status, P.ERRORS.disconnected);
    const r = exchange.place(placeRequest(p));
    if (fault) return fail(reply, fault.status, P.ERRORS.unexpectedResp);
    if (f.timeoutNext) { f.timeoutNext = false; reply.hijack(); held.add(reply.raw); return reply; }
    return placedAnswer(reply, r);
  }));
  const ocoLeg = (p: Record<string, string>, at: 'above' | 'below'): OcoLeg => {
    const n = (k: string) => (p[`${at}${k}`] ? Number(p[`${at}${k}`]) : null);
    return { type: p[`${at}Type`] ?? '', clientOrderId: p[`${at}ClientOrderId`] ?? `x-${at}-${executionId}`, price: n('Price'), stopPrice: n('StopPrice'), trailingDelta: n('TrailingDelta'), timeInForce: p[`${at}TimeInForce`] ?? null };
  };
  // rest-api.md "New Order list - OCO"; the same timeout fault as a single submit, and its own delay.
  app.post('/api/v3/orderList/oco', signed((p, reply) => {
    const req: OcoRequest = { symbol: p.symbol, side: p.side, quantity: Number(p.quantity), listClientOrderId: p.listClientOrderId ?? `list-${executionId}`, above: ocoLeg(p, 'above'), below: ocoLeg(p, 'below') };
    const delay = f.delayNextOco;
    f.delayNextOco = null;
    if (delay) {
      const t = setTimeout(() => { timers.delete(t); exchange.placeOco(req); }, delay.ms);
      timers.add(t);
      if (delay.answer === 'none') { reply.hijack(); held.add(reply.raw); return reply; }
      return fail(reply, delay.answer.status, delay.answer.code === -1007 ? P.ERRORS.timeout : P.ERRORS.unexpectedResp);
    }
    const r = exchange.placeOco(req);
    if (f.timeoutNext) { f.timeoutNext = false; reply.hijack(); held.add(reply.raw); return reply; }
    return r.ok ? P.orderListAnswer(r.list, r.legs) : fail(reply, 400, r.error);
  }));
  app.get('/api/v3/order', signed((p, reply) => {
    const order = exchange.query(p.symbol, p.origClientOrderId);
    return order ? P.queryOrder(order) : fail(reply, 400, P.ERRORS.noSuchOrder);
  }));
  app.delete('/api/v3/order', signed((p, reply) => {
    const cancelId = p.newClientOrderId ?? `cancel-${executionId}`;
    const order = exchange.cancel(p.symbol, p.origClientOrderId, cancelId);
    return order ? P.canceledOrder(order, cancelId, now()) : fail(reply, 400, P.ERRORS.cancelUnknown);
  }));
  app.get('/api/v3/openOrders', signed((p) => exchange.open(p.symbol).map(P.queryOrder)));
  app.get('/api/v3/myTrades', signed((p) => exchange.trades(p.symbol, p.orderId ? Number(p.orderId) : undefined).map(P.myTrade)));

  app.server.on('upgrade', (req, socket, head) => {
    if (f.outage || !sockets.upgrade(req, socket, head)) socket.destroy();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;

  const controls: FakeVenueControls = {
    symbol: 'BTCUSD', quantity: 0.01,
    async restingBuyPrice() { return 64250; },
    async timeoutNextSubmit() { f.timeoutNext = true; },
    async failNextSubmit(status, isCreated) { f.failNext = { status, created: isCreated }; },
    async rateLimitNextSubmit(seconds) { f.rateLimitNext = seconds; },
    async rateLimitViolations() { return f.violations; },
    // The venue's clock jumps ahead of ours: every signed request fails -1021 until the client re-learns it.
    clockSkewNextSubmit: async () => { f.skewMs += 20_000; },
    async setOutage(on) { f.outage = on; if (on) sockets.dropAll(); },
    async setStreamSilent(on) { sockets.setSilent(on); },
    async ordersCreated(cid) { return exchange.createdCount(cid); },
    async submitsReceived(cid) { return submits.get(cid) ?? 0; },
    async fill(cid, quantity) {
      const t = exchange.fill(cid, quantity);
      return { ref: String(t.id), price: t.price };
    },
    async repeatLastEvent(cid) { const e = lastEvent.get(cid); if (e) sockets.pushUserEvent(e); },
    async correctFill(_cid, ref, price) { exchange.correct(Number(ref), price); },
    async bustFill(_cid, ref) { exchange.bust(Number(ref)); },
  };

  const knobs: BinanceFakeKnobs = {
    delayNextSubmit(ms, answer) { f.delayNext = { ms, answer }; },
    setCommission: (c) => exchange.setCommission(c),
    setTop(s, bid, ask, qty = 1) {
      const t = exchange.setTop(s, { bid, ask, bidQty: qty, askQty: qty });
      sockets.pushMarket(`${s.toLowerCase()}@bookTicker`, P.bookTickerEvent(s, t));
    },
    terminateSubscriptions: () => sockets.terminateSubscriptions(),
    serverShutdown: () => sockets.serverShutdown(),
    requests: (key) => counts.get(key) ?? 0,
    weightUsed: () => weight.used,
    sockets: () => sockets.stats(),
    ordersWithId: (cid) => exchange.ordersWithId(cid),
    trades: (s) => exchange.trades(s),
    bnbPriceAt: (at) => exchange.bnbPriceAt(at),
    delayNextOco(ms, answer) { f.delayNextOco = { ms, answer }; },
    orderLists: () => exchange.orderLists(),
    trigger: (cid) => { exchange.trigger(cid); },
  };

  return {
    url: `http://127.0.0.1:${port}`, wsApiUrl: `ws://127.0.0.1:${port}/ws-api/v3`, streamUrl: `ws://127.0.0.1:${port}/ws`, controls, knobs,
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const r of held) r.destroy();
      sockets.close();
      await app.close();
    },
  };
}
