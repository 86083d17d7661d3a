// A local stand-in for the Client Portal gateway: fastify on 127.0.0.1 under /v1/api, speaking the
// same JSON as client.ts expects (see its header), plus the websocket /v1/api/ws with `sor`/`str`
// topics and a `system` heartbeat. Faults live in state.faults; tests drive fills and corrections
// through the returned object, never over HTTP.
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { createFakeIbkrState, type FakeIbkrOrder, type FakeIbkrTrade, type FakeQuestion } from './fakeState.ts';

export interface FakeIbkrOptions { accountId?: string; clock?: () => number; heartbeatMs?: number }

const liveRow = (o: FakeIbkrOrder, acct: string) => ({
  acct, conidex: String(o.conid), conid: o.conid, orderId: o.orderId, cashCcy: 'USD', sizeAndFills: `${o.filled}/${o.totalSize}`,
  orderDesc: `${o.side === 'BUY' ? 'Buy' : 'Sell'} ${o.totalSize} ${o.orderType === 'MKT' ? 'Market' : `Limit ${o.price}`}, ${o.tif}`,
  ticker: String(o.conid), secType: 'STK', remainingQuantity: o.totalSize - o.filled, filledQuantity: o.filled, totalSize: o.totalSize,
  status: o.status, order_ccp_status: o.status, avgPrice: o.filled > 0 ? (o.notional / o.filled).toFixed(4) : '', origOrderType: o.orderType === 'MKT' ? 'MARKET' : 'LIMIT',
  orderType: o.orderType === 'MKT' ? 'Market' : 'Limit', order_ref: o.cOID, timeInForce: o.tif, lastExecutionTime_r: o.updatedAt, side: o.side,
  ...(o.price === null ? {} : { price: String(o.price) }),
});

const statusRow = (o: FakeIbkrOrder, acct: string) => ({
  sub_type: null, request_id: '209', order_id: o.orderId, conidex: String(o.conid), conid: o.conid, side: o.side === 'BUY' ? 'B' : 'S',
  size: (o.totalSize - o.filled).toFixed(1), total_size: o.totalSize.toFixed(1), currency: 'USD', account: acct,
  order_type: o.orderType === 'MKT' ? 'MARKET' : 'LIMIT', cum_fill: o.filled.toFixed(1), order_status: o.status,
  order_status_description: o.status === 'Filled' ? 'Order Filled' : o.status, tif: o.tif,
  average_price: o.filled > 0 ? (o.notional / o.filled).toFixed(4) : '', order_time: compact(o.updatedAt),
});

const tradeRow = (t: FakeIbkrTrade, acct: string) => ({
  execution_id: t.executionId, symbol: String(t.conid), side: t.side === 'BUY' ? 'B' : 'S',
  order_description: `${t.side === 'BUY' ? 'Bot' : 'Sold'} ${t.size} @ ${t.price} on ISLAND`, trade_time_r: t.time,
  trade_time: new Date(t.time).toISOString().replace(/[-]/g, '').replace('T', '-').slice(0, 17), size: t.size, price: String(t.price),
  order_ref: t.cOID, submitter: 'fakeuser', exchange: 'ISLAND', commission: t.commission.toFixed(2), net_amount: t.size * t.price,
  account: acct, accountCode: acct, conid: t.conid, conidEx: String(t.conid), clearing_id: 'IB', clearing_name: 'IB', liquidation_trade: '0',
});

function compact(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

const UNGUARDED = new Set(['/v1/api/tickle', '/v1/api/iserver/auth/status', '/v1/api/iserver/auth/ssodh/init']);

export function createFakeIbkrGateway({ accountId = 'DU1234567', clock = Date.now, heartbeatMs = 10_000 }: FakeIbkrOptions = {}) {
  const state = createFakeIbkrState(clock);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Map<WebSocket, Set<string>>();
  const held = new Set<ServerResponse>();
  const parked = new Map<string, { line: Parameters<typeof state.create>[0]; questions: FakeQuestion[] }>();
  let accountsQueried = false;
  let windowStart = 0;
  let windowCount = 0;
  let nextReply = 0;
  let heartbeat: NodeJS.Timeout | null = null;
  let blockedUntil = 0; // a Retry-After we sent: requests before it are violations
  let blockedSince = 0;
  const lastFrame = new Map<string, { topic: string; frame: string }>(); // by cOID, for repeats

  const send = (topic: string, frame: string): void => {
    if (state.faults.silentStream) return;
    // `system` (heartbeats) reaches every socket; order topics only their subscribers.
    for (const [ws, topics] of sockets) if (topic === 'system' || topics.has(topic)) ws.send(frame);
  };
  const push = (topic: string, args: unknown, cOID?: string): void => {
    const frame = JSON.stringify({ topic, args });
    if (cOID) lastFrame.set(cOID, { topic, frame });
    send(topic, frame);
  };
  state.onOrder((o) => push('sor', [liveRow(o, accountId)], o.cOID));
  state.onTrade((t) => push('str', [tradeRow(t, accountId)], t.cOID));

  function withhold(reply: FastifyReply): FastifyReply {
    reply.hijack();
    held.add(reply.raw);
    reply.raw.on('close', () => held.delete(reply.raw));
    return reply;
  }

  const authStatus = () => ({ authenticated: !state.faults.sessionExpired, competing: false, connected: true, message: '', MAC: '00:11:22:33:44:55', serverInfo: { serverName: 'FakeGw', serverVersion: 'Build 10.25.0p' }, fail: '' });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    state.counters.requests += 1;
    // Requests already on the wire when the 429 left (a 50 ms grace) are not the client ignoring it.
    if (clock() < blockedUntil && clock() > blockedSince + 50) state.counters.rateLimitViolations += 1;
    const f = state.faults;
    if (f.outage) return reply.code(503).send({ error: 'Service Unavailable' });
    const path = req.url.split('?')[0];
    const targeted = f.faultPath.test(path);
    if (targeted && f.serverErrors > 0) { f.serverErrors -= 1; return reply.code(503).send({ error: 'Service Unavailable' }); }
    if (targeted && f.rateLimited > 0) { f.rateLimited -= 1; return reply.code(429).header('retry-after', String(f.retryAfterSec)).send({ error: 'Too Many Requests' }); }
    if (f.maxRequestsPerSecond > 0) {
      const now = clock();
      if (now - windowStart >= 1000) { windowStart = now; windowCount = 0; }
      windowCount += 1;
      if (windowCount > f.maxRequestsPerSecond) return reply.code(429).header('retry-after', '1').send({ error: 'Too Many Requests' });
    }
    if (f.sessionExpired && path.startsWith('/v1/api/iserver') && !UNGUARDED.has(path)) return reply.code(401).send({ error: 'not authenticated', statusCode: 401 });
  });

  const acctOk = (req: FastifyRequest<{ Params: { acct: string } }>, reply: FastifyReply) =>
    req.params.acct === accountId ? null : reply.code(400).send({ error: `Account ${req.params.acct} is not valid for this session` });

  app.post('/v1/api/tickle', async () => ({ session: 'fake-session-0f55b6289d70', ssoExpires: 460311, collission: false, userId: 12345678, iserver: { authStatus: authStatus() } }));
  app.get('/v1/api/iserver/auth/status', async () => authStatus());
  app.post('/v1/api/iserver/auth/ssodh/init', async () => {
    if (state.faults.sessionExpired && state.faults.reauthAllowed) { state.faults.sessionExpired = false; accountsQueried = false; }
    return authStatus();
  });
  app.get('/v1/api/iserver/accounts', async () => {
    accountsQueried = true;
    return { accounts: [accountId], selectedAccount: accountId, isPaper: accountId.startsWith('D') };
  });

  function answer(reply: FastifyReply, cOID: string): unknown {
    const entry = parked.get(cOID)!;
    const q = entry.questions.shift();
    if (q) {
      const id = `fake-reply-${++nextReply}`;
      parked.set(id, entry);
      return [{ id, message: [q.text], isSuppressed: false, messageIds: q.messageId ? [q.messageId] : [] }];
    }
    parked.delete(cOID);
    const order = state.create(entry.line);
    if (state.faults.dropSubmits > 0) { state.faults.dropSubmits -= 1; return withhold(reply); }
    return [{ order_id: String(order.orderId), order_status: order.status, encrypt_message: '1' }];
  }

  app.post<{ Params: { acct: string }; Body: { orders?: Record<string, unknown>[] } }>('/v1/api/iserver/account/:acct/orders', async (req, reply) => {
    if (acctOk(req, reply)) return reply;
    if (!accountsQueried) return reply.code(400).send({ error: 'Please query /accounts first' });
    const line = req.body?.orders?.[0];
    const cOID = typeof line?.cOID === 'string' ? line.cOID : '';
    if (!line || !cOID || typeof line.conid !== 'number' || typeof line.quantity !== 'number') return reply.code(400).send({ error: 'Invalid order request' });
    state.submits.set(cOID, (state.submits.get(cOID) ?? 0) + 1);
    const f = state.faults;
    if (f.rateLimitSubmitSec !== null) {
      blockedSince = clock();
      blockedUntil = blockedSince + f.rateLimitSubmitSec * 1000;
      const seconds = f.rateLimitSubmitSec;
      f.rateLimitSubmitSec = null;
      return reply.code(429).header('retry-after', String(seconds)).send({ error: 'Too Many Requests' });
    }
    const fail = f.failSubmit;
    f.failSubmit = null;
    if (fail && !fail.created) return reply.code(fail.status).send({ error: 'Internal Server Error' });
    if (state.byCoid(cOID) || parked.has(cOID)) return reply.code(400).send({ error: `Local order ID=${cOID} is already registered.` });
    const type = line.orderType === 'LMT' ? 'LMT' : 'MKT';
    if (type === 'LMT' && typeof line.price !== 'number') return reply.code(400).send({ error: 'Price is required for limit orders' });
    parked.set(cOID, {
      line: { cOID, conid: line.conid, side: line.side === 'SELL' ? 'SELL' : 'BUY', quantity: line.quantity, orderType: type, price: type === 'LMT' ? (line.price as number) : null, tif: String(line.tif ?? 'DAY') },
      questions: fail ? [] : state.faults.questions.splice(0),
    });
    if (fail) {
      state.create(parked.get(cOID)!.line);
      parked.delete(cOID);
      return reply.code(fail.status).send({ error: 'Internal Server Error' });
    }
    return answer(reply, cOID);
  });

  app.post<{ Params: { id: string }; Body: { confirmed?: boolean } }>('/v1/api/iserver/reply/:id', async (req, reply) => {
    const entry = parked.get(req.params.id);
    if (!entry) return reply.code(400).send({ error: 'Reply id not found or expired' });
    parked.delete(req.params.id);
    if (req.body?.confirmed !== true) { parked.delete(entry.line.cOID); return [{ error: 'Order was not confirmed' }]; }
    return answer(reply, entry.line.cOID);
  });

  app.delete<{ Params: { acct: string; orderId: string } }>('/v1/api/iserver/account/:acct/order/:orderId', async (req, reply) => {
    if (acctOk(req, reply)) return reply;
    const order = state.orders.get(Number(req.params.orderId));
    if (!order) return reply.code(400).send({ error: `OrderID ${req.params.orderId} doesn't exist` });
    if (!state.cancel(order)) return { error: `OrderID ${order.orderId} can't be cancelled: ${order.status}` };
    return { msg: 'Request was submitted', order_id: order.orderId, conid: -1, account: null };
  });

  app.get<{ Params: { orderId: string } }>('/v1/api/iserver/account/order/status/:orderId', async (req, reply) => {
    const order = state.orders.get(Number(req.params.orderId));
    return order ? statusRow(order, accountId) : reply.code(400).send({ error: `OrderID ${req.params.orderId} doesn't exist` });
  });
  app.get('/v1/api/iserver/account/orders', async () => ({ filters: [], orders: [...state.orders.values()].map((o) => liveRow(o, accountId)), snapshot: true }));
  app.get('/v1/api/iserver/account/trades', async () => [...state.trades, ...state.repeats].map((t) => tradeRow(t, accountId)));

  app.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/v1/api/ws') || state.faults.outage) { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(ws, new Set());
      if (!state.faults.silentStream) {
        ws.send(JSON.stringify({ topic: 'system', success: 'fakeuser', isFT: false, isPaper: true }));
        ws.send(JSON.stringify({ topic: 'sts', args: { authenticated: !state.faults.sessionExpired } }));
      }
      ws.on('message', (data) => {
        const text = data.toString();
        const topic = /^(sor|str)\+/.exec(text)?.[1];
        if (topic) sockets.get(ws)?.add(topic);
      });
      ws.on('close', () => sockets.delete(ws));
    });
  });

  const findOrder = (cOID: string): FakeIbkrOrder => {
    const o = state.byCoid(cOID);
    if (!o) throw new Error(`fake ibkr: no order ${cOID}`);
    return o;
  };
  const findTrade = (executionId: string): FakeIbkrTrade => {
    const t = state.trades.find((x) => x.executionId === executionId);
    if (!t) throw new Error(`fake ibkr: no trade ${executionId}`);
    return t;
  };

  return {
    state,
    accountId,
    async start(): Promise<string> {
      await app.listen({ port: 0, host: '127.0.0.1' });
      heartbeat = setInterval(() => send('system', JSON.stringify({ topic: 'system', hb: clock() })), heartbeatMs);
      heartbeat.unref();
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/api`;
    },
    async stop(): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      for (const ws of sockets.keys()) ws.terminate();
      for (const raw of held) raw.destroy();
      wss.close();
      await app.close();
    },
    /** Fills part or all of a resting order (a partial fill when size < remaining). */
    fill: (cOID: string, size: number, price?: number) => state.fill(findOrder(cOID), size, price ?? findOrder(cOID).price ?? 100),
    /** The gateway lists an execution a second time (and pushes it again on `str`). */
    repeatTrade(executionId: string) {
      const t = findTrade(executionId);
      state.repeats.push(t);
      push('str', [tradeRow(t, accountId)]);
    },
    /** A later /trades shows the execution with another price or size; nothing is pushed. */
    correctTrade(executionId: string, change: { price?: number; size?: number }) {
      const t = findTrade(executionId);
      if (change.price !== undefined) t.price = change.price;
      if (change.size !== undefined) t.size = change.size;
    },
    dropWebsockets() { for (const ws of sockets.keys()) ws.terminate(); },
    /** Every request answers 503 and the websocket drops (and is refused) while on. */
    setOutage(on: boolean) {
      state.faults.outage = on;
      if (on) for (const ws of sockets.keys()) ws.terminate();
    },
    /** The order's last `sor`/`str` frame, delivered again. */
    repeatLastEvent(cOID: string) {
      const last = lastFrame.get(cOID);
      if (last) send(last.topic, last.frame);
    },
    bustTrade(executionId: string) {
      if (!state.bust(executionId)) throw new Error(`fake ibkr: no trade ${executionId}`);
    },
    /** The brokerage session ends; with `reauth`, POST /iserver/auth/ssodh/init brings it back. */
    expireSession(opts: { reauth?: boolean } = {}) {
      state.faults.sessionExpired = true;
      state.faults.reauthAllowed = opts.reauth ?? false;
      const frame = JSON.stringify({ topic: 'sts', args: { authenticated: false } });
      for (const ws of sockets.keys()) ws.send(frame);
    },
    /** Someone logged in again: a new session, which wants /iserver/accounts before orders. */
    login() {
      state.faults.sessionExpired = false;
      accountsQueried = false;
    },
  };
}

export type FakeIbkrGateway = ReturnType<typeof createFakeIbkrGateway>;
