// A local stand-in for the Client Portal gateway (fastify on 127.0.0.1 under /v1/api), written from
// IBKR's Client Portal Web API v1.0 documentation and its published examples, never from
// connectors/ibkr. What it holds to, by documentation section:
// - Session: POST /tickle returns the `session` the websocket wants (ws.ts); /iserver endpoints answer
//   401 without a brokerage session; GET /iserver/accounts must come first in a session ("Please query
//   /accounts first"); a multi-account login starts on its default account and POST /iserver/account
//   {acctId} switches it ("Switch Account"). Live orders and trades are those of the selected account.
// - Place Order: cOID must be unique (24 h): a repeat is refused with an `error` body; questions go
//   through /iserver/reply/{id}; the next order is not to be sent before the previous one is
//   acknowledged (counted in counters.overlappingPlacements). Several lines, each with isSingleGroup,
//   are one OCA group (oca.ts), placed, questioned, refused or dropped as one order would be.
// - Live Orders: the first request of a session starts the gateway's subscription and answers an empty
//   list; later requests list the orders.
// - Market data snapshot and contract rules: market.ts; the websocket and its session: ws.ts.
// Faults live in state.faults; tests drive fills, corrections and busts through the returned object.
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createFakeIbkrState, type FakeIbkrLine, type FakeIbkrOrder, type FakeIbkrTrade, type FakeQuestion } from './fakeState.ts';
import { lineProblem, requestLines, toLine } from './oca.ts';
import { liveRow, statusRow, tradeRow } from './wire.ts';
import { registerFakeIbkrMarket } from './market.ts';
import { createFakeIbkrWs } from './ws.ts';

export interface FakeIbkrOptions {
  /** The account the tests trade; listed by /iserver/accounts. */
  accountId?: string;
  /** Every account of the login, in order; the first is selected when a brokerage session starts. */
  accounts?: string[];
  clock?: () => number;
  heartbeatMs?: number;
}

const UNGUARDED = new Set(['/v1/api/tickle', '/v1/api/iserver/auth/status', '/v1/api/iserver/auth/ssodh/init']);
/** A placement awaiting its replies: one order, or one OCA group. */
interface Parked { lines: FakeIbkrLine[]; questions: FakeQuestion[] }

export function createFakeIbkrGateway({ accountId = 'DU1234567', accounts, clock = Date.now, heartbeatMs = 10_000 }: FakeIbkrOptions = {}) {
  const allAccounts = accounts ?? [accountId];
  const state = createFakeIbkrState(clock, allAccounts, allAccounts[0]);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const ws = createFakeIbkrWs(state, clock);
  const held = new Set<ServerResponse>();
  const parked = new Map<string, Parked>(); // by each line's cOID and by reply id
  let unacknowledged = 0; // order POSTs whose answer has not settled the order yet
  let windowStart = 0, windowCount = 0, nextReply = 0;
  let heartbeat: NodeJS.Timeout | null = null;
  let blockedUntil = 0, blockedSince = 0; // a Retry-After we sent: requests before it are violations
  const lastFrame = new Map<string, { topic: string; frame: string }>(); // by cOID, for repeats
  const selected = (acct: string) => acct === state.session.selected;

  const push = (topic: string, args: unknown, cOID?: string): void => {
    const frame = JSON.stringify({ topic, args });
    if (cOID) lastFrame.set(cOID, { topic, frame });
    ws.send(topic, frame);
  };
  state.onOrder((o) => { if (selected(o.acct)) push('sor', [liveRow(o)], o.cOID); });
  state.onTrade((t) => { if (selected(t.acct)) push('str', [tradeRow(t)], t.cOID); });

  function withhold(reply: FastifyReply): FastifyReply {
    reply.hijack();
    held.add(reply.raw);
    reply.raw.on('close', () => held.delete(reply.raw));
    return reply;
  }
  const acknowledged = () => { unacknowledged = Math.max(0, unacknowledged - 1); };

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

  app.post('/v1/api/tickle', async () => ({ session: state.session.id, ssoExpires: 460311, collission: false, userId: 12345678, hmds: { error: 'no bridge' }, iserver: { authStatus: authStatus() } }));
  app.get('/v1/api/iserver/auth/status', async () => authStatus());
  app.post('/v1/api/iserver/auth/ssodh/init', async () => {
    if (state.faults.sessionExpired && state.faults.reauthAllowed) {
      // A new brokerage session under the same login: it starts over on the default account.
      state.faults.sessionExpired = false;
      Object.assign(state.session, { accountsQueried: false, liveOrdersStarted: false, selected: state.accounts[0] });
      state.session.marketStarted.clear();
    }
    return authStatus();
  });
  app.get('/v1/api/iserver/accounts', async () => {
    state.session.accountsQueried = true;
    return {
      accounts: [...state.accounts], aliases: Object.fromEntries(state.accounts.map((a) => [a, a])), selectedAccount: state.session.selected,
      allowFeatures: { showGFIS: true, allowCrypto: false, allowTypeAhead: true }, groups: [], profiles: [], isFT: false, isPaper: true,
      sessionId: state.session.id.slice(0, 12), serverInfo: { serverName: 'FakeGw', serverVersion: 'Build 10.25.0p' },
    };
  });
  app.post<{ Body: { acctId?: string } }>('/v1/api/iserver/account', async (req, reply) => {
    const acct = req.body?.acctId;
    if (!acct || !state.accounts.includes(acct)) return reply.code(400).send({ error: 'Invalid account' });
    if (acct !== state.session.selected) state.counters.accountSwitches += 1;
    state.session.selected = acct;
    return { set: true, acctId: acct };
  });

  async function answer(reply: FastifyReply, key: string): Promise<unknown> {
    const entry = parked.get(key)!;
    parked.delete(key);
    const q = entry.questions.shift();
    if (q) {
      const id = `${(++nextReply).toString(16).padStart(8, '0')}-fake-reply`;
      parked.set(id, entry);
      for (const l of entry.lines) parked.set(l.cOID, entry);
      return [{ id, message: [q.text], isSuppressed: false, messageIds: q.messageId ? [q.messageId] : [] }];
    }
    unpark(entry);
    const orders = place(entry.lines);
    acknowledged();
    if (state.faults.dropSubmits > 0) { state.faults.dropSubmits -= 1; return withhold(reply); }
    // One element per line, in request order (a group's are its orders in the order they were sent).
    return orders.map((o) => ({ order_id: String(o.orderId), order_status: o.status, encrypt_message: '1' }));
  }
  const place = (lines: FakeIbkrLine[]) => (lines.length === 1 ? [state.create(lines[0])] : state.createGroup(lines));
  const unpark = (entry: Parked) => { for (const l of entry.lines) parked.delete(l.cOID); };

  app.post<{ Params: { acct: string }; Body: { orders?: Record<string, unknown>[] } }>('/v1/api/iserver/account/:acct/orders', async (req, reply) => {
    if (!state.accounts.includes(req.params.acct)) return reply.code(400).send({ error: `Account ${req.params.acct} is not valid` });
    if (!state.session.accountsQueried) return reply.code(400).send({ error: 'Please query /accounts first' });
    const request = requestLines(req.body?.orders);
    if ('error' in request) return reply.code(400).send({ error: request.error });
    const { lines } = request;
    if (unacknowledged > 0) state.counters.overlappingPlacements += 1;
    unacknowledged += 1;
    if (state.faults.placeLatencyMs > 0) await sleep(state.faults.placeLatencyMs);
    for (const { cOID } of lines) state.submits.set(cOID, (state.submits.get(cOID) ?? 0) + 1);
    const f = state.faults;
    const seconds = f.rateLimitSubmitSec;
    if (seconds !== null) {
      acknowledged();
      const now = clock();
      [blockedSince, blockedUntil, f.rateLimitSubmitSec] = [now, now + seconds * 1000, null];
      return reply.code(429).header('retry-after', String(seconds)).send({ error: 'Too Many Requests' });
    }
    const fail = f.failSubmit;
    f.failSubmit = null;
    if (fail && !fail.created) { acknowledged(); return reply.code(fail.status).send({ error: 'Internal Server Error' }); }
    // Any line's cOID taken (or repeated within the group) refuses the whole request: nothing is placed.
    const cOIDs = lines.map((l) => l.cOID);
    const taken = cOIDs.find((c, i) => state.byCoid(c) || parked.has(c) || cOIDs.indexOf(c) !== i);
    if (taken !== undefined) {
      acknowledged();
      return { error: `Order couldn't be submitted: Local order ID=${taken} is already registered.` };
    }
    const problem = lines.map(lineProblem).find((p) => p !== null);
    if (problem) { acknowledged(); return reply.code(400).send({ error: problem }); }
    const parsed = lines.map((l) => toLine(l, req.params.acct));
    if (fail) { place(parsed); acknowledged(); return reply.code(fail.status).send({ error: 'Internal Server Error' }); }
    const entry: Parked = { lines: parsed, questions: state.faults.questions.splice(0) };
    for (const l of parsed) parked.set(l.cOID, entry);
    return answer(reply, parsed[0].cOID);
  });

  app.post<{ Params: { id: string }; Body: { confirmed?: boolean } }>('/v1/api/iserver/reply/:id', async (req, reply) => {
    const entry = parked.get(req.params.id);
    if (!entry || entry.lines.some((l) => l.cOID === req.params.id)) return reply.code(400).send({ error: 'Reply id not found or expired' });
    if (state.faults.placeLatencyMs > 0) await sleep(state.faults.placeLatencyMs);
    if (req.body?.confirmed !== true) {
      // Declining drops the whole placement, a group's every line with it.
      parked.delete(req.params.id);
      unpark(entry);
      acknowledged();
      return [{ error: 'Order was not confirmed' }];
    }
    return answer(reply, req.params.id);
  });

  app.delete<{ Params: { acct: string; orderId: string } }>('/v1/api/iserver/account/:acct/order/:orderId', async (req, reply) => {
    const order = state.orders.get(Number(req.params.orderId));
    if (!order || order.acct !== req.params.acct) return reply.code(400).send({ error: `OrderID ${req.params.orderId} doesn't exist` });
    // Cancels this order only, OCA member or not: the Web API documentation says nothing of a cancel reaching
    // the rest of a group (an old TWS order-type page did), so the caller cancels each. Undocumented: conservative.
    if (!state.cancel(order)) return { error: `OrderID ${order.orderId} can't be cancelled: ${order.status}` };
    return { msg: 'Request was submitted', order_id: order.orderId, conid: -1, account: null };
  });

  app.get<{ Params: { orderId: string } }>('/v1/api/iserver/account/order/status/:orderId', async (req, reply) => {
    const order = state.orders.get(Number(req.params.orderId));
    return order ? statusRow(order) : reply.code(400).send({ error: `OrderID ${req.params.orderId} doesn't exist` });
  });
  app.get('/v1/api/iserver/account/orders', async () => {
    state.counters.liveOrdersCalls += 1;
    if (!state.session.liveOrdersStarted) {
      state.session.liveOrdersStarted = true;
      return { filters: [], orders: [], snapshot: true };
    }
    const visible = (o: FakeIbkrOrder) => selected(o.acct) && clock() - o.createdAt >= state.faults.liveOrdersLagMs;
    return { filters: [], orders: [...state.orders.values()].filter(visible).map(liveRow), snapshot: true };
  });
  app.get('/v1/api/iserver/account/trades', async () => [...state.trades, ...state.repeats].filter((t) => selected(t.acct)).map(tradeRow));

  const market = registerFakeIbkrMarket(app, state, clock);

  app.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/v1/api/ws') || state.faults.outage) { socket.destroy(); return; }
    ws.handleUpgrade(req, socket, head);
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
    /** Market-data and contract-rules counters; `mids` overrides a conid's mid price. */
    market,
    async start(): Promise<string> {
      await app.listen({ port: 0, host: '127.0.0.1' });
      heartbeat = setInterval(() => ws.send('system', JSON.stringify({ topic: 'system', hb: clock() })), heartbeatMs);
      heartbeat.unref();
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/api`;
    },
    async stop(): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      for (const raw of held) raw.destroy();
      ws.close();
      await app.close();
    },
    /**
     * Fills part or all of a resting order (a partial fill when size < remaining). In an OCA group a
     * completing fill cancels the other open orders, a partial one shrinks them (oca.ts); both pushed on `sor`.
     */
    fill: (cOID: string, size: number, price?: number) => state.fill(findOrder(cOID), size, price ?? findOrder(cOID).price ?? 100),
    /** The cOIDs of the order's OCA group in placement order, or null when it is in none. */
    ocaGroupOf(cOID: string): string[] | null {
      const group = state.byCoid(cOID)?.ocaGroup;
      return group == null ? null : state.groupOf(group).map((o) => o.cOID);
    },
    /** The gateway lists an execution a second time (and pushes it again on `str`). */
    repeatTrade(executionId: string) {
      const t = findTrade(executionId);
      state.repeats.push(t);
      push('str', [tradeRow(t)]);
    },
    /** A later /trades shows the execution with another price or size; nothing is pushed. */
    correctTrade(executionId: string, change: { price?: number; size?: number }) {
      const t = findTrade(executionId);
      if (change.price !== undefined) t.price = change.price;
      if (change.size !== undefined) t.size = change.size;
    },
    dropWebsockets() { ws.terminateAll(); },
    /** Every request answers 503 and the websocket drops (and is refused) while on. */
    setOutage(on: boolean) {
      state.faults.outage = on;
      if (on) ws.terminateAll();
    },
    /** The order's last `sor`/`str` frame, delivered again. */
    repeatLastEvent(cOID: string) {
      const last = lastFrame.get(cOID);
      if (last) ws.send(last.topic, last.frame);
    },
    bustTrade(executionId: string) {
      if (!state.bust(executionId)) throw new Error(`fake ibkr: no trade ${executionId}`);
    },
    /** The brokerage session ends; with `reauth`, POST /iserver/auth/ssodh/init brings it back. */
    expireSession(opts: { reauth?: boolean } = {}) {
      state.faults.sessionExpired = true;
      state.faults.reauthAllowed = opts.reauth ?? false;
      ws.broadcast(JSON.stringify({ topic: 'sts', args: { authenticated: false } }));
    },
    /** Someone logged in again: a new session (new /tickle session, default account, no pre-flight yet). */
    login() {
      state.faults.sessionExpired = false;
      state.newSession();
      state.session.selected = state.accounts[0];
    },
    authorisedSockets: () => ws.authorisedCount(),
  };
}

export type FakeIbkrGateway = ReturnType<typeof createFakeIbkrGateway>;
