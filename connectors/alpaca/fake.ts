// Test support: a local server speaking Alpaca's Trading API wire format (REST + the trade_updates
// WebSocket), built from the recorded-style payloads in fixtures/, with the faults the connector suite
// drives (FakeVenueControls). Orders rest until a test fills them; nothing here is a matching engine.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeVenueControls } from '../../test/helpers/connectorSuite.ts';
import { createSubmitLedger, type SubmitSummary } from '../submitLedger.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const ORDER = fixture('order');
const ACCOUNT = fixture('account');

type Order = Record<string, unknown> & { id: string; client_order_id: string; qty: string; filled_qty: string; status: string; limit_price: string | null };
interface Activity { id: string; activity_type: 'FILL'; transaction_time: string; type: string; price: string; qty: string; side: string; symbol: string; order_id: string; cum_qty: string; leaves_qty: string }

const OPEN = new Set(['new', 'accepted', 'pending_new', 'partially_filled']);
const iso = (t = Date.now()) => new Date(t).toISOString();
const stamp = (t: string) => t.replace(/[-:TZ.]/g, '').slice(0, 17);

export interface AlpacaFake {
  url: string;
  controls: FakeVenueControls;
  /** Submits that reached the books and look-ups by client order id, in arrival order: resends and blind resends. */
  submits(): SubmitSummary;
  stop(): Promise<void>;
}

export async function startAlpacaFake(o: { keyId: string; secretKey: string; symbol?: string }): Promise<AlpacaFake> {
  const symbol = o.symbol ?? 'AAPL';
  const orders = new Map<string, Order>();
  const byCid = new Map<string, Order[]>();
  const activities: Activity[] = [];
  const submits = new Map<string, number>();
  const ledger = createSubmitLedger();
  let arrival = 0;
  const lastEvent = new Map<string, string>();
  const sockets = new Set<WebSocket>();
  const held = new Set<ServerResponse>();
  const f = { timeoutNext: false, failNext: null as { status: number; created: boolean } | null, rateLimitNext: null as number | null, blockedUntil: 0, violations: 0, outage: false, silent: false };
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const wss = new WebSocketServer({ noServer: true, autoPong: false });

  const push = (order: Order, event: string, extra: Record<string, unknown> = {}) => {
    const msg = JSON.stringify({ stream: 'trade_updates', data: { event, execution_id: randomUUID(), timestamp: iso(), ...extra, order } });
    lastEvent.set(order.client_order_id, msg);
    // The paper stream sends binary frames; so does this one, to keep the client honest.
    if (!f.silent) for (const s of sockets) s.send(Buffer.from(msg), { binary: true });
  };
  const filledAvg = (order: Order) => {
    const mine = activities.filter((a) => a.order_id === order.id);
    const qty = mine.reduce((s, a) => s + Number(a.qty), 0);
    order.filled_qty = String(qty);
    order.filled_avg_price = qty > 0 ? String(mine.reduce((s, a) => s + Number(a.qty) * Number(a.price), 0) / qty) : null;
    order.updated_at = iso();
  };
  const ratelimitHeaders = (reply: { header(k: string, v: string): unknown }) => {
    reply.header('x-ratelimit-limit', '200');
    reply.header('x-ratelimit-remaining', '199');
    reply.header('x-ratelimit-reset', String(Math.ceil(Date.now() / 1000) + 60));
  };

  app.addHook('onRequest', async (req, reply) => {
    if (Date.now() < f.blockedUntil) f.violations += 1;
    if (f.outage) return reply.code(503).send({ code: 50300000, message: 'service unavailable' });
    if (req.headers['apca-api-key-id'] !== o.keyId || req.headers['apca-api-secret-key'] !== o.secretKey) {
      return reply.code(401).send({ code: 40110000, message: 'request is not authorized' });
    }
    ratelimitHeaders(reply);
  });

  app.post<{ Body: Record<string, string> }>('/v2/orders', async (req, reply) => {
    const b = req.body;
    const cid = b.client_order_id;
    submits.set(cid, (submits.get(cid) ?? 0) + 1);
    if (f.rateLimitNext !== null) {
      f.blockedUntil = Date.now() + f.rateLimitNext * 1000;
      reply.header('retry-after', String(f.rateLimitNext)).header('x-ratelimit-remaining', '0')
        .header('x-ratelimit-reset', String(Math.ceil(f.blockedUntil / 1000)));
      f.rateLimitNext = null;
      return reply.code(429).send(fixture('error_rate_limit'));
    }
    const fail = f.failNext;
    f.failNext = null;
    if (fail && !fail.created) return reply.code(fail.status).send({ code: 50010000, message: 'internal server error' });
    if (!cid || !b.symbol || !(Number(b.qty) > 0) || !['buy', 'sell'].includes(b.side)) return reply.code(422).send({ code: 40010000, message: 'invalid order request' });
    ledger.record(cid, 'submit', ++arrival);
    if (byCid.has(cid)) return reply.code(422).send(fixture('error_duplicate'));
    const now = iso();
    const order: Order = {
      ...ORDER, id: randomUUID(), client_order_id: cid, symbol: b.symbol, qty: b.qty, side: b.side, type: b.type, order_type: b.type,
      time_in_force: b.time_in_force, limit_price: b.limit_price ?? null, filled_qty: '0', filled_avg_price: null, status: 'new',
      created_at: now, submitted_at: now, updated_at: now,
    };
    orders.set(order.id, order);
    byCid.set(cid, [order]);
    push(order, 'new');
    if (fail) return reply.code(fail.status).send({ code: 50010000, message: 'internal server error' });
    if (f.timeoutNext) { f.timeoutNext = false; reply.hijack(); held.add(reply.raw); return reply; }
    return order;
  });
  app.get<{ Querystring: { client_order_id?: string } }>('/v2/orders::by_client_order_id', async (req, reply) => {
    if (req.query.client_order_id) ledger.record(req.query.client_order_id, 'lookup', ++arrival);
    const order = byCid.get(req.query.client_order_id ?? '')?.[0];
    return order ?? reply.code(404).send(fixture('error_not_found'));
  });
  app.get<{ Querystring: { status?: string } }>('/v2/orders', async (req) =>
    [...orders.values()].filter((x) => req.query.status !== 'open' || OPEN.has(x.status)));
  app.get<{ Params: { id: string } }>('/v2/orders/:id', async (req, reply) => orders.get(req.params.id) ?? reply.code(404).send(fixture('error_not_found')));
  app.delete<{ Params: { id: string } }>('/v2/orders/:id', async (req, reply) => {
    const order = orders.get(req.params.id);
    if (!order) return reply.code(404).send(fixture('error_not_found'));
    if (!OPEN.has(order.status)) return reply.code(422).send({ code: 42210000, message: 'order is not cancelable' });
    order.status = 'canceled';
    order.canceled_at = order.updated_at = iso();
    push(order, 'canceled');
    return reply.code(204).send();
  });
  app.get<{ Querystring: { after?: string; page_size?: string; page_token?: string } }>('/v2/account/activities/FILL', async (req) => {
    const after = req.query.after ? Date.parse(req.query.after) : 0;
    const size = Number(req.query.page_size ?? 100);
    let list = activities.filter((a) => Date.parse(a.transaction_time) > after);
    if (req.query.page_token) list = list.slice(list.findIndex((a) => a.id === req.query.page_token) + 1);
    return list.slice(0, size);
  });
  app.get('/v2/account', async () => ACCOUNT);

  wss.on('connection', (ws) => {
    ws.on('ping', (data) => { if (!f.silent) ws.pong(data); });
    ws.on('message', (raw) => {
      if (f.silent) return;
      const msg = JSON.parse(String(raw)) as { action?: string; key?: string; secret?: string };
      if (msg.action === 'auth') {
        const ok = msg.key === o.keyId && msg.secret === o.secretKey;
        ws.send(JSON.stringify({ stream: 'authorization', data: { action: 'authenticate', status: ok ? 'authorized' : 'unauthorized' } }));
        if (!ok) ws.close();
      } else if (msg.action === 'listen') {
        sockets.add(ws);
        ws.send(JSON.stringify({ stream: 'listening', data: { streams: ['trade_updates'] } }));
      }
    });
    ws.on('close', () => sockets.delete(ws));
  });
  app.server.on('upgrade', (req, socket, head) => {
    if (f.outage || req.url !== '/stream') { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const orderOf = (cid: string) => {
    const order = byCid.get(cid)?.[0];
    if (!order) throw new Error(`alpaca fake: no order ${cid}`);
    return order;
  };

  const controls: FakeVenueControls = {
    symbol, quantity: 5,
    async restingBuyPrice() { return 175.5; },
    async timeoutNextSubmit() { f.timeoutNext = true; },
    async failNextSubmit(status, created) { f.failNext = { status, created }; },
    async rateLimitNextSubmit(seconds) { f.rateLimitNext = seconds; },
    async rateLimitViolations() { return f.violations; },
    clockSkewNextSubmit: null,
    async setOutage(on) {
      f.outage = on;
      if (on) for (const s of sockets) s.terminate();
    },
    async setStreamSilent(on) { f.silent = on; },
    async ordersCreated(cid) { return byCid.get(cid)?.length ?? 0; },
    async submitsReceived(cid) { return submits.get(cid) ?? 0; },
    async fill(cid, quantity) {
      const order = orderOf(cid);
      const price = Number(order.limit_price ?? 175.5);
      const executionId = randomUUID();
      const time = iso();
      const cum = Number(order.filled_qty) + quantity;
      const done = cum >= Number(order.qty);
      activities.push({ id: `${stamp(time)}::${executionId}`, activity_type: 'FILL', transaction_time: time, type: done ? 'fill' : 'partial_fill',
        price: String(price), qty: String(quantity), side: String(order.side), symbol: String(order.symbol), order_id: order.id,
        cum_qty: String(cum), leaves_qty: String(Number(order.qty) - cum) });
      filledAvg(order);
      order.status = done ? 'filled' : 'partially_filled';
      if (done) order.filled_at = time;
      push(order, done ? 'fill' : 'partial_fill', { execution_id: executionId, timestamp: time, price: String(price), qty: String(quantity) });
      return { ref: executionId, price };
    },
    async repeatLastEvent(cid) {
      const msg = lastEvent.get(cid);
      if (msg && !f.silent) for (const s of sockets) s.send(Buffer.from(msg), { binary: true });
    },
    // Alpaca documents no push for amended fills: they show in the account's FILL activities.
    async correctFill(cid, ref, price) {
      const a = activities.find((x) => x.id.endsWith(`::${ref}`));
      if (!a) throw new Error(`alpaca fake: no fill ${ref}`);
      a.price = String(price);
      filledAvg(orderOf(cid));
    },
    async bustFill(cid, ref) {
      const i = activities.findIndex((x) => x.id.endsWith(`::${ref}`));
      if (i < 0) throw new Error(`alpaca fake: no fill ${ref}`);
      activities.splice(i, 1);
      filledAvg(orderOf(cid));
    },
  };

  return {
    url, controls,
    submits: () => ledger.summary(),
    async stop() {
      for (const s of wss.clients) s.terminate();
      for (const r of held) r.destroy();
      wss.close();
      await app.close();
    },
  };
}
