// Test support: a local server speaking Binance spot's wire format (signed REST + the user-data
// stream), built from the recorded-style payloads in fixtures/. It checks signatures and recvWindow
// against its own clock, reports request weight, and has the faults the connector suite drives.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeVenueControls } from '../../test/helpers/connectorSuite.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const ORDER = fixture('order');
const REPORT = fixture('execution_report_new');

interface Order { symbol: string; orderId: number; clientOrderId: string; price: string; origQty: string; executedQty: string; cummulativeQuoteQty: string; status: string; timeInForce: string; type: string; side: string; time: number; updateTime: number }
interface Trade { symbol: string; id: number; orderId: number; price: string; qty: string; quoteQty: string; commission: string; commissionAsset: string; time: number; isBuyer: boolean; isMaker: boolean }

const OPEN = new Set(['NEW', 'PARTIALLY_FILLED']);
const f8 = (x: number) => x.toFixed(8);
const WEIGHTS: Record<string, number> = { 'POST /api/v3/order': 1, 'GET /api/v3/order': 4, 'DELETE /api/v3/order': 1, 'GET /api/v3/openOrders': 80, 'GET /api/v3/myTrades': 20 };

export interface BinanceFake { url: string; streamUrl: string; controls: FakeVenueControls; stop(): Promise<void> }

export async function startBinanceFake(o: { apiKey: string; secretKey: string }): Promise<BinanceFake> {
  const orders = new Map<string, Order>(); // by clientOrderId
  const created = new Map<string, number>();
  const submits = new Map<string, number>();
  const trades: Trade[] = [];
  const lastEvent = new Map<string, string>();
  const sockets = new Set<WebSocket>();
  const listenKeys = new Set<string>();
  const held = new Set<ServerResponse>();
  const f = { timeoutNext: false, failNext: null as { status: number; created: boolean } | null, rateLimitNext: null as number | null, blockedUntil: 0, violations: 0, outage: false, silent: false, skewMs: 0 };
  let nextOrderId = 28_457_000;
  let nextTradeId = 3_391_000;
  let weight = { minute: 0, used: 0 };
  const now = () => Date.now() + f.skewMs; // the fake's own clock: what our timestamps are checked against
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const wss = new WebSocketServer({ noServer: true, autoPong: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const fail = (reply: FastifyReply, status: number, body: Record<string, unknown>) => reply.code(status).send(body);
  const push = (order: Order, x: string, trade?: Trade) => {
    const msg = JSON.stringify({
      ...REPORT, E: now(), s: order.symbol, c: order.clientOrderId, C: x === 'CANCELED' ? order.clientOrderId : '', S: order.side, q: order.origQty, p: order.price,
      x, X: order.status, i: order.orderId, l: trade?.qty ?? '0.00000000', z: order.executedQty, L: trade?.price ?? '0.00000000',
      n: trade?.commission ?? '0', N: trade?.commissionAsset ?? null, T: trade?.time ?? now(), t: trade?.id ?? -1, Z: order.cummulativeQuoteQty,
    });
    lastEvent.set(order.clientOrderId, msg);
    if (!f.silent) for (const s of sockets) s.send(msg);
  };
  const refresh = (order: Order) => {
    const mine = trades.filter((t) => t.orderId === order.orderId);
    order.executedQty = f8(mine.reduce((s, t) => s + Number(t.qty), 0));
    order.cummulativeQuoteQty = f8(mine.reduce((s, t) => s + Number(t.qty) * Number(t.price), 0));
    order.updateTime = now();
  };
  /** Signature over query + body (signature itself removed), and the timestamp within recvWindow. */
  type Verified = { ok: true; p: Record<string, string> } | { ok: false; status: number; body: Record<string, unknown> };
  const verify = (req: FastifyRequest): Verified => {
    const rawQuery = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const rawBody = typeof req.body === 'string' ? req.body : '';
    const strip = (s: string) => s.split('&').filter((p) => p && !p.startsWith('signature=')).join('&');
    const params = Object.fromEntries(new URLSearchParams(`${rawQuery}&${rawBody}`));
    const expected = createHmac('sha256', o.secretKey).update(strip(rawQuery) + strip(rawBody)).digest('hex');
    if (params.signature !== expected) return { ok: false, status: 400, body: { code: -1022, msg: 'Signature for this request is not valid.' } };
    const ts = Number(params.timestamp);
    const window = Number(params.recvWindow ?? 5000);
    if (!(ts < now() + 1000 && now() - ts <= window)) return { ok: false, status: 400, body: fixture('error_1021') };
    return { ok: true, p: params };
  };

  app.addHook('onRequest', async (req, reply) => {
    if (Date.now() < f.blockedUntil) f.violations += 1;
    if (f.outage) return fail(reply, 503, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    if (req.url.startsWith('/api/v3/') && !['/api/v3/time', '/api/v3/ping'].includes(req.url) && req.headers['x-mbx-apikey'] !== o.apiKey) {
      return fail(reply, 401, { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
    }
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== weight.minute) weight = { minute, used: 0 };
    weight.used += WEIGHTS[`${req.method} ${req.url.split('?')[0]}`] ?? 1;
    reply.header('x-mbx-used-weight-1m', String(weight.used));
  });

  app.get('/api/v3/time', async () => ({ serverTime: now() }));
  app.get('/api/v3/ping', async () => ({}));
  app.post('/api/v3/userDataStream', async () => { const k = randomBytes(32).toString('hex'); listenKeys.add(k); return { listenKey: k }; });
  app.put('/api/v3/userDataStream', async () => ({}));

  app.post('/api/v3/order', async (req, reply) => {
    const v = verify(req);
    if (!v.ok) return fail(reply, v.status, v.body);
    const { p } = v;
    const cid = p.newClientOrderId;
    submits.set(cid, (submits.get(cid) ?? 0) + 1);
    if (f.rateLimitNext !== null) {
      f.blockedUntil = Date.now() + f.rateLimitNext * 1000;
      reply.header('retry-after', String(f.rateLimitNext));
      f.rateLimitNext = null;
      return fail(reply, 429, fixture('error_rate_limit'));
    }
    const fault = f.failNext;
    f.failNext = null;
    if (fault && !fault.created) return fail(reply, fault.status, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    const existing = orders.get(cid);
    // A client order id is unique among open orders only: a finished order's id may be used again.
    if (existing && OPEN.has(existing.status)) return fail(reply, 400, fixture('error_duplicate'));
    const t = now();
    const order: Order = {
      ...(ORDER as unknown as Order), symbol: p.symbol, orderId: nextOrderId++, clientOrderId: cid, price: f8(Number(p.price ?? 0)), origQty: f8(Number(p.quantity)),
      executedQty: f8(0), cummulativeQuoteQty: f8(0), status: 'NEW', timeInForce: p.timeInForce ?? 'GTC', type: p.type, side: p.side, time: t, updateTime: t,
    };
    orders.set(cid, order);
    created.set(cid, (created.get(cid) ?? 0) + 1);
    push(order, 'NEW');
    if (fault) return fail(reply, fault.status, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    if (f.timeoutNext) { f.timeoutNext = false; reply.hijack(); held.add(reply.raw); return reply; }
    return { ...order, transactTime: t, fills: [] };
  });
  app.get('/api/v3/order', async (req, reply) => {
    const v = verify(req);
    if (!v.ok) return fail(reply, v.status, v.body);
    const { p } = v;
    const order = orders.get(p.origClientOrderId);
    return order && order.symbol === p.symbol ? order : fail(reply, 400, fixture('error_2013'));
  });
  app.delete('/api/v3/order', async (req, reply) => {
    const v = verify(req);
    if (!v.ok) return fail(reply, v.status, v.body);
    const { p } = v;
    const order = orders.get(p.origClientOrderId);
    if (!order || !OPEN.has(order.status)) return fail(reply, 400, { code: -2011, msg: 'Unknown order sent.' });
    order.status = 'CANCELED';
    order.updateTime = now();
    push(order, 'CANCELED');
    return order;
  });
  app.get('/api/v3/openOrders', async (req, reply) => {
    const v = verify(req);
    if (!v.ok) return fail(reply, v.status, v.body);
    const { p } = v;
    return [...orders.values()].filter((x) => OPEN.has(x.status) && (!p.symbol || x.symbol === p.symbol));
  });
  app.get('/api/v3/myTrades', async (req, reply) => {
    const v = verify(req);
    if (!v.ok) return fail(reply, v.status, v.body);
    const { p } = v;
    return trades.filter((t) => t.symbol === p.symbol && (!p.orderId || t.orderId === Number(p.orderId)));
  });

  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('ping', (data) => { if (!f.silent) ws.pong(data); });
    ws.on('close', () => sockets.delete(ws));
  });
  app.server.on('upgrade', (req, socket, head) => {
    const key = req.url?.startsWith('/ws/') ? req.url.slice(4) : '';
    if (f.outage || !listenKeys.has(key)) { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const orderOf = (cid: string) => {
    const order = orders.get(cid);
    if (!order) throw new Error(`binance fake: no order ${cid}`);
    return order;
  };

  const controls: FakeVenueControls = {
    symbol: 'BTCUSD', quantity: 0.01,
    async restingBuyPrice() { return 64250; },
    async timeoutNextSubmit() { f.timeoutNext = true; },
    async failNextSubmit(status, isCreated) { f.failNext = { status, created: isCreated }; },
    async rateLimitNextSubmit(seconds) { f.rateLimitNext = seconds; },
    async rateLimitViolations() { return f.violations; },
    // The venue's clock jumps ahead of ours: every signed request fails -1021 until the client re-learns it.
    clockSkewNextSubmit: async () => { f.skewMs += 20_000; },
    async setOutage(on) {
      f.outage = on;
      if (on) for (const s of sockets) s.terminate();
    },
    async setStreamSilent(on) { f.silent = on; },
    async ordersCreated(cid) { return created.get(cid) ?? 0; },
    async submitsReceived(cid) { return submits.get(cid) ?? 0; },
    async fill(cid, quantity) {
      const order = orderOf(cid);
      const price = Number(order.price);
      const trade: Trade = {
        symbol: order.symbol, id: nextTradeId++, orderId: order.orderId, price: f8(price), qty: f8(quantity), quoteQty: f8(price * quantity),
        commission: f8(price * quantity * 0.001), commissionAsset: 'USDT', time: now(), isBuyer: order.side === 'BUY', isMaker: true,
      };
      trades.push(trade);
      refresh(order);
      order.status = Number(order.executedQty) >= Number(order.origQty) - 1e-12 ? 'FILLED' : 'PARTIALLY_FILLED';
      push(order, 'TRADE', trade);
      return { ref: String(trade.id), price };
    },
    async repeatLastEvent(cid) {
      const msg = lastEvent.get(cid);
      if (msg && !f.silent) for (const s of sockets) s.send(msg);
    },
    // Spot has no amendment event: a restated trade only shows in myTrades, for reconciliation to find.
    async correctFill(cid, ref, price) {
      const t = trades.find((x) => String(x.id) === ref);
      if (!t) throw new Error(`binance fake: no trade ${ref}`);
      t.price = f8(price);
      t.commission = f8(price * Number(t.qty) * 0.001);
      refresh(orderOf(cid));
    },
    async bustFill(cid, ref) {
      const i = trades.findIndex((x) => String(x.id) === ref);
      if (i < 0) throw new Error(`binance fake: no trade ${ref}`);
      trades.splice(i, 1);
      refresh(orderOf(cid));
    },
  };

  return {
    url: `http://127.0.0.1:${port}`, streamUrl: `ws://127.0.0.1:${port}/ws`, controls,
    async stop() {
      for (const s of wss.clients) s.terminate();
      for (const r of held) r.destroy();
      wss.close();
      await app.close();
    },
  };
}
