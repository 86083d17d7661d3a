// A local server speaking Alpaca's Trading API (REST + the trade_updates WebSocket) and the latest-quotes
// part of its Market Data API, written from Alpaca's documentation and the official SDK's models
// (alpaca-py), never from connectors/alpaca. What it holds to:
// - Orders: client_order_id is unique per account (422 "client_order_id must be unique"); GET
//   /v2/orders:by_client_order_id; DELETE answers 204 or 422 when not cancelable.
//   Order terms (types, prices, time in force) are checked as documented, in orderTerms.ts.
// - Account activities (FILL): ids read `<time>::<uuid>` and the uuid is the activity's own, not the
//   trade update's execution_id; rows carry order_id, qty, price, cum_qty, leaves_qty, side, symbol,
//   type fill/partial_fill; `after`/`until`, `direction` (default desc), `page_size` (default and
//   max 100), `page_token` (the last id of the previous page: asc starts after it, desc ends before it).
// - trade_updates: authorize, listen, then {event, execution_id, timestamp, price, qty, position_qty,
//   order} with the order as it stands after the event; binary frames, as the paper stream sends.
// - Rate limit: 200 requests a minute per account, x-ratelimit-* headers, 429 beyond (opt-in here,
//   `rateLimitPerMinute`, so load tests that run several instances against one fake are unaffected).
// - Assets: status, tradable, fractionable, min_order_size / min_trade_increment / price_increment.
// - OCO (order_class "oco", "OCO Orders"; its two orders "work exactly the same way as the two legs of
//   the bracket orders"): an exit pair of one side, the take-profit (type limit, limit_price from
//   take_profit) as the parent and the stop-loss (stop, or stop_limit when stop_loss has a limit_price) as
//   its leg, `held`, with a client_order_id Alpaca makes; time_in_force day or gtc, no extended hours, no
//   crypto (422 40010000); the stop at least $0.01 below (sell; above for buy) the take-profit's limit and
//   the latest quote (422 42210000); exit only (403 40310000). The POST answers the parent with `legs`;
//   GET /v2/orders and /v2/orders/{id} with nested=true list the leg under its parent, else every order
//   stands alone with legs null. "Once one of the exit orders is filled, the other is canceled", a
//   partially filled take-profit leaves the stop the remaining quantity, a cancel of either cancels both.
// - Shares held for orders: while open orders that close a position hold some of it, an order closing more
//   than the rest is refused (403 40310000, "insufficient qty available for order").
// The account itself (orders, fills, positions, OCO groups and what fills and cancels do to them) is
// book.ts. Orders rest until a test fills them; nothing here is a matching engine. Submits and look-ups are
// also counted per client order id in arrival order (connectors/submitLedger.ts) for the reliability
// checks: resends and blind resends.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { createSubmitLedger, type SubmitSummary } from '../../../connectors/submitLedger.ts';
import type { FakeVenueControls } from '../../helpers/connectorSuiteTypes.ts';
import { createAlpacaBook, iso, OPEN } from './book.ts';
import { ACCOUNT, ASSETS, orderJson, type Activity, type Order } from './payloads.ts';
import { ocoTerms, orderTermsProblem, stopThresholdProblem } from './orderTerms.ts';


export interface AlpacaFakeKnobs {
  /** A new order is listed by GET (by id, by client order id, lists) only this long after it was accepted. */
  listLagMs: number;
  /** A DELETE is accepted (204) and the order stays `pending_cancel` this long before it is canceled. */
  cancelLagMs: number;
  /** Requests to the FILL activities endpoint, every request, and OCO submits that reached the books, so far. */
  readonly counters: { activityRequests: number; requests: number; rateLimited: number; ocoSubmits: number };
  /** Latest quote a test sets for a symbol (Alpaca's form: `AAPL`, `BTC/USD`). */
  setQuote(symbol: string, q: { bp: number; bs: number; ap: number; as: number; t?: string }): void;
  /** The client_order_id Alpaca gave the stop-loss leg of an OCO whose take-profit is this id; null if none. */
  legOf(parentClientOrderId: string): string | null;
}

export interface AlpacaFake {
  url: string;
  controls: FakeVenueControls;
  knobs: AlpacaFakeKnobs;
  /** Submits that reached the books and look-ups by client order id, in arrival order: resends and blind resends. */
  submits(): SubmitSummary;
  /** The FILL activities of an order, as the endpoint lists them. */
  activitiesOf(clientOrderId: string): Activity[];
  stop(): Promise<void>;
}

export async function startAlpacaFake(o: { keyId: string; secretKey: string; symbol?: string; rateLimitPerMinute?: number }): Promise<AlpacaFake> {
  const symbol = o.symbol ?? 'AAPL';
  const submits = new Map<string, number>();
  const quotes = new Map<string, { bp: number; bs: number; ap: number; as: number; t: string }>();
  const ledger = createSubmitLedger();
  let arrival = 0;
  const lastEvent = new Map<string, string>();
  const sockets = new Set<WebSocket>();
  const held = new Set<ServerResponse>();
  const window: number[] = [];
  const counters = { activityRequests: 0, requests: 0, rateLimited: 0, ocoSubmits: 0 };
  const f = { timeoutNext: false, failNext: null as { status: number; created: boolean } | null, rateLimitNext: null as number | null, blockedUntil: 0, blockedSince: 0, limitedId: null as string | null, violations: 0, outage: false, silent: false, listLagMs: 0, cancelLagMs: 0 };
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const wss = new WebSocketServer({ noServer: true, autoPong: false });

  const push = (order: Order, event: string, extra: Record<string, unknown> = {}) => {
    const msg = JSON.stringify({ stream: 'trade_updates', data: { event, execution_id: randomUUID(), timestamp: iso(), ...extra, order } });
    lastEvent.set(order.client_order_id, msg);
    if (!f.silent) for (const s of sockets) s.send(Buffer.from(msg), { binary: true });
  };
  const book = createAlpacaBook(push);
  const { orders, byCid, activities, listed, positionQty, nested } = book;

  app.addHook('onRequest', async (req, reply) => {
    counters.requests += 1;
    // Requests already on the wire when the 429 left (a 50 ms grace) are not the client ignoring it.
    if (Date.now() < f.blockedUntil && Date.now() > f.blockedSince + 50) f.violations += 1;
    if (f.outage) return reply.code(503).send({ code: 50300000, message: 'service unavailable' });
    if (req.headers['apca-api-key-id'] !== o.keyId || req.headers['apca-api-secret-key'] !== o.secretKey) {
      return reply.code(401).send({ code: 40110000, message: 'request is not authorized' });
    }
    const now = Date.now();
    while (window.length > 0 && window[0] <= now - 60_000) window.shift();
    window.push(now);
    const limit = o.rateLimitPerMinute ?? 200;
    const reset = Math.ceil(((window[0] ?? now) + 60_000) / 1000);
    // Without the opt-in limit the fake says it has room, so no client waits on a budget nobody enforces.
    const remaining = o.rateLimitPerMinute === undefined ? limit - 1 : Math.max(0, limit - window.length);
    reply.header('x-ratelimit-limit', String(limit)).header('x-ratelimit-remaining', String(remaining)).header('x-ratelimit-reset', String(reset));
    if (o.rateLimitPerMinute !== undefined && window.length > o.rateLimitPerMinute) {
      counters.rateLimited += 1;
      return reply.code(429).send({ code: 42910000, message: 'rate limit exceeded' });
    }
  });

  // An OCO's take_profit / stop_loss are objects; every other field of the body is a string.
  app.post<{ Body: Record<string, string> }>('/v2/orders', async (req, reply) => {
    const b = req.body;
    const cid = b.client_order_id;
    submits.set(cid, (submits.get(cid) ?? 0) + 1);
    // A resubmit of the refused order cannot have been on the wire before the 429: no grace for it.
    if (cid === f.limitedId && Date.now() < f.blockedUntil && Date.now() <= f.blockedSince + 50) f.violations += 1;
    if (f.rateLimitNext !== null) {
      f.blockedSince = Date.now();
      f.blockedUntil = f.blockedSince + f.rateLimitNext * 1000;
      f.limitedId = cid;
      reply.header('retry-after', String(f.rateLimitNext)).header('x-ratelimit-remaining', '0').header('x-ratelimit-reset', String(Math.ceil(f.blockedUntil / 1000)));
      f.rateLimitNext = null;
      return reply.code(429).send({ code: 42910000, message: 'rate limit exceeded' });
    }
    const fail = f.failNext;
    f.failNext = null;
    if (fail && !fail.created) return reply.code(fail.status).send({ code: 50010000, message: 'internal server error' });
    if (!cid || !b.symbol || !(Number(b.qty) > 0) || !['buy', 'sell'].includes(b.side)) return reply.code(422).send({ code: 40010000, message: 'invalid order request' });
    const oco = b.order_class === 'oco' ? ocoTerms(b) : null;
    const refusal = oco === null ? orderTermsProblem(b) : 'refusal' in oco ? oco.refusal : null;
    if (refusal !== null) return reply.code(422).send({ code: 40010000, message: refusal });
    const terms = oco !== null && 'terms' in oco ? oco.terms : null;
    if (terms !== null) {
      // The base prices: the take-profit's limit, and the market (the bid for a sell, the ask for a buy).
      const q = quotes.get(b.symbol);
      const market = q ? (b.side === 'sell' ? q.bp : q.ap) : 0;
      const low = stopThresholdProblem(b.side, Number(terms.stopPrice), [Number(terms.takeProfitLimit), ...(market > 0 ? [market] : [])]);
      if (low !== null) return reply.code(422).send({ code: 42210000, message: low });
      // "currently only exit order is supported": a sell needs a long position of qty, a buy a short one.
      if ((b.side === 'sell' ? 1 : -1) * positionQty(b.symbol) < Number(b.qty)) return reply.code(403).send({ code: 40310000, message: 'insufficient qty available for order' });
    }
    // "even if you had an open position, you would not be able to submit two conditional closing orders
    // since Alpaca's system would view one of the two orders as exceeding the available position quantity":
    // while open closing orders hold shares, an order that closes more than the rest is refused.
    const reserved = book.heldFor(b.symbol, b.side);
    const closable = (b.side === 'sell' ? 1 : -1) * positionQty(b.symbol);
    if (reserved > 0 && closable > 0 && Number(b.qty) > closable - reserved) {
      return reply.code(403).send({ code: 40310000, message: `insufficient qty available for order (requested: ${b.qty}, available: ${Math.max(0, closable - reserved)})` });
    }
    ledger.record(cid, 'submit', ++arrival);
    if (byCid.has(cid)) return reply.code(422).send({ code: 40010001, message: 'client_order_id must be unique' });
    const now = iso();
    const order: Order = {
      ...orderJson({ id: randomUUID(), cid, symbol: b.symbol, qty: b.qty, side: b.side, type: b.type, tif: b.time_in_force, limit: terms?.takeProfitLimit ?? b.limit_price ?? null, now }),
      stop_price: b.stop_price ?? null, trail_price: b.trail_price ?? null, trail_percent: b.trail_percent ?? null,
    };
    if (terms === null) book.add(order, f.listLagMs);
    else {
      // The stop-loss: its own id and client_order_id, the parent's side, qty and time in force, held.
      const leg: Order = {
        ...orderJson({ id: randomUUID(), cid: randomUUID(), symbol: b.symbol, qty: b.qty, side: b.side, type: terms.stopLimit === null ? 'stop' : 'stop_limit', tif: b.time_in_force, limit: terms.stopLimit, now }),
        stop_price: terms.stopPrice, status: 'held', order_class: 'oco',
      };
      book.addPair(order, leg, f.listLagMs);
      counters.ocoSubmits += 1;
    }
    // A held leg is not routed, so it has no `new` of its own: it rides in its parent's legs.
    push(nested(order), 'new');
    if (fail) return reply.code(fail.status).send({ code: 50010000, message: 'internal server error' });
    if (f.timeoutNext) { f.timeoutNext = false; reply.hijack(); held.add(reply.raw); return reply; }
    return nested(order);
  });
  const notFound = { code: 40410000, message: 'order not found' };
  app.get<{ Querystring: { client_order_id?: string } }>('/v2/orders::by_client_order_id', async (req, reply) => {
    if (req.query.client_order_id) ledger.record(req.query.client_order_id, 'lookup', ++arrival);
    const order = byCid.get(req.query.client_order_id ?? '')?.[0];
    return order && listed(order) ? order : reply.code(404).send(notFound);
  });
  // "Each order of the group is reported as an independent order ... if you specify additional parameter
  // nested=true, the order response will nest the result to include child orders under the parent order";
  // nested, a group is listed (as its parent) when any of its orders passes the status filter.
  app.get<{ Querystring: { status?: string; nested?: string } }>('/v2/orders', async (req) => {
    const passes = (x: Order) => req.query.status !== 'open' || OPEN.has(x.status);
    const all = [...orders.values()].filter(listed);
    if (req.query.nested !== 'true') return all.filter(passes);
    return all.filter((x) => !book.isLeg(x) && book.groupOf(x).some(passes)).map(nested);
  });
  app.get<{ Params: { id: string }; Querystring: { nested?: string } }>('/v2/orders/:id', async (req, reply) => {
    const x = orders.get(req.params.id);
    if (!x || !listed(x)) return reply.code(404).send(notFound);
    return req.query.nested === 'true' ? nested(x) : x;
  });
  app.delete<{ Params: { id: string } }>('/v2/orders/:id', async (req, reply) => {
    const order = orders.get(req.params.id);
    if (!order) return reply.code(404).send(notFound);
    if (!OPEN.has(order.status) || order.status === 'pending_cancel') return reply.code(422).send({ code: 42210000, message: 'order is not cancelable' });
    // "Attempts to cancel an open order. If the order is no longer cancelable, the request will be rejected": accepted, not done.
    if (f.cancelLagMs > 0) book.pendingCancelGroup(order, f.cancelLagMs);
    else book.cancelGroup(order);
    return reply.code(204).send();
  });
  app.get<{ Querystring: { after?: string; until?: string; direction?: string; page_size?: string; page_token?: string } }>('/v2/account/activities/FILL', async (req, reply) => {
    counters.activityRequests += 1;
    const q = req.query;
    const size = Number(q.page_size ?? 100);
    if (!Number.isInteger(size) || size < 1 || size > 100) return reply.code(422).send({ code: 40010001, message: 'page_size must be between 1 and 100' });
    const after = q.after ? Date.parse(q.after) : -Infinity;
    const until = q.until ? Date.parse(q.until) : Infinity;
    const asc = q.direction === 'asc';
    let list = activities.filter((a) => Date.parse(a.transaction_time) > after && Date.parse(a.transaction_time) < until)
      .sort((a, b) => (asc ? 1 : -1) * (Date.parse(a.transaction_time) - Date.parse(b.transaction_time) || a.id.localeCompare(b.id)));
    if (q.page_token) list = list.slice(list.findIndex((a) => a.id === q.page_token) + 1);
    return list.slice(0, size);
  });
  app.get('/v2/account', async () => ACCOUNT);
  app.get<{ Params: { symbol: string } }>('/v2/assets/:symbol', async (req, reply) =>
    ASSETS.find((a) => a.symbol === req.params.symbol) ?? reply.code(404).send({ code: 40410000, message: 'asset not found' }));
  const latest = (symbols: string | undefined) => ({ quotes: Object.fromEntries((symbols ?? '').split(',').flatMap((s) => (quotes.has(s) ? [[s, quotes.get(s)!]] : []))) });
  app.get<{ Querystring: { symbols?: string } }>('/v2/stocks/quotes/latest', async (req) => latest(req.query.symbols));
  app.get<{ Querystring: { symbols?: string } }>('/v1beta3/crypto/us/latest/quotes', async (req) => latest(req.query.symbols));

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
    async fill(cid, quantity) { return book.fill(cid, quantity); },
    async repeatLastEvent(cid) {
      const msg = lastEvent.get(cid);
      if (msg && !f.silent) for (const s of sockets) s.send(Buffer.from(msg), { binary: true });
    },
    // Alpaca documents no push for amended fills: they show in the account's FILL activities.
    async correctFill(cid, ref, price) {
      book.activity(ref).price = String(price);
      book.restate(book.orderOf(cid));
    },
    async bustFill(cid, ref) {
      activities.splice(activities.indexOf(book.activity(ref)), 1);
      book.restate(book.orderOf(cid));
    },
  };

  return {
    url, controls,
    knobs: {
      get listLagMs() { return f.listLagMs; },
      set listLagMs(v: number) { f.listLagMs = v; },
      get cancelLagMs() { return f.cancelLagMs; },
      set cancelLagMs(v: number) { f.cancelLagMs = v; },
      counters,
      setQuote(sym, q) { quotes.set(sym, { ...q, t: q.t ?? iso() }); },
      legOf: (parentCid) => book.legOf(parentCid),
    },
    submits: () => ledger.summary(),
    activitiesOf: (cid) => activities.filter((a) => a.order_id === byCid.get(cid)?.[0]?.id),
    async stop() {
      for (const s of wss.clients) s.terminate();
      for (const r of held) r.destroy();
      wss.close();
      await app.close();
    },
  };
}
