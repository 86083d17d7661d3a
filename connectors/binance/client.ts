// VenueClient for Binance spot. Signed REST (HMAC-SHA256 over query string + body, with timestamp and
// recvWindow, X-MBX-APIKEY header) for orders keyed by newClientOrderId, myTrades as the fill
// statement, and the user-data stream (listen key + WebSocket) for executionReport pushes. The server
// clock offset is learnt at connect and again after every -1021; request weight is paced from the
// X-MBX-USED-WEIGHT-1M header so we slow down before the limit, not after the ban.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createRateGate, venueFetch, VenueError, type CallContext } from '../http.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { BinanceConfig } from './config.ts';
import { binanceError } from './errors.ts';
import { eventFromExecutionReport, executionReportSchema, orderSchema, orderState, stateFromPlacement, stateWithTrades, tradeSchema } from './parse.ts';
import { toVenue } from './symbols.ts';

export interface BinanceClientDeps { log?: Logger; clock?: () => number }

type Params = Record<string, string | number>;
const fmt = (x: number) => x.toFixed(8).replace(/\.?0+$/, '');
const encode = (p: Params) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();

export function createBinanceClient(config: BinanceConfig, { log, clock = Date.now }: BinanceClientDeps = {}): VenueClient {
  const venue = config.venue;
  const gate = createRateGate({ clock, limit: config.weightPerMinute });
  const listeners = new Set<(e: VenueEvent) => void>();
  const symbolOf = new Map<string, string>(); // clientOrderId → venue symbol, for look-ups without one
  let offsetMs = 0;
  let stream: WsStream | null = null;
  let keepAlive: NodeJS.Timeout | null = null;
  let listenKey: string | null = null;

  const sign = (query: string, body: string) => createHmac('sha256', config.secretKey.reveal()).update(query + body).digest('hex');

  async function call<S extends z.ZodType>(operation: string, method: string, path: string, schema: S,
    o: { params?: Params; signed?: boolean; weight?: number; clientOrderId?: string; notFoundIsNull?: boolean } = {}): Promise<z.output<S> | null> {
    const c: CallContext = { venue, operation, clientOrderId: o.clientOrderId, timeoutMs: config.timeoutMs };
    await gate.take(o.weight ?? 1);
    let params = { ...o.params };
    if (o.signed) params = { ...params, recvWindow: config.recvWindowMs, timestamp: Math.round(clock() + offsetMs) };
    // POST parameters travel in the body, the rest in the query; the signature covers both.
    const inBody = method === 'POST' && o.signed;
    let query = inBody ? '' : encode(params);
    let body = inBody ? encode(params) : '';
    if (o.signed) {
      const signature = sign(query, body);
      if (inBody) body += `&signature=${signature}`; else query += `&signature=${signature}`;
    }
    const res = await venueFetch(`${config.baseUrl}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: { 'X-MBX-APIKEY': config.apiKey.reveal(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: body || undefined,
    }, c);
    const used = Number(res.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && res.headers.has('x-mbx-used-weight-1m')) gate.observeUsed(used);
    if (res.status >= 400) {
      const err = binanceError(res.status, res.json, res.headers, c, clock());
      if (err.code === 'VENUE_RATE_LIMITED') gate.blockFor(err.retryAfterMs ?? 1_000);
      if (err.code === 'VENUE_NOT_FOUND' && o.notFoundIsNull) return null;
      if (err.code === 'VENUE_CLOCK_SKEW') await syncTime().catch(() => {}); // the retry then carries a good timestamp
      throw err;
    }
    const parsed = schema.safeParse(res.json);
    if (!parsed.success) throw new VenueError('VENUE_BAD_RESPONSE', `${venue} ${operation}: unreadable answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, { ...c, status: res.status });
    return parsed.data;
  }

  async function must<S extends z.ZodType>(...args: Parameters<typeof call<S>>): Promise<z.output<S>> {
    const v = await call(...args);
    if (v === null) throw new Error('unreachable: empty answer');
    return v;
  }

  async function syncTime(): Promise<void> {
    const before = clock();
    const { serverTime } = await must('time', 'GET', '/api/v3/time', z.object({ serverTime: z.number() }));
    const after = clock();
    offsetMs = serverTime - Math.round((before + after) / 2);
    log?.debug({ venue, offsetMs }, 'server time offset learnt');
  }

  const venueSymbol = (clientOrderId: string, symbol: string | undefined, operation: string): string => {
    const s = symbol ? toVenue(symbol) : symbolOf.get(clientOrderId);
    if (!s) throw new VenueError('VENUE_REJECTED', `${venue} ${operation} ${clientOrderId}: Binance needs the symbol to find an order`, { venue, operation, clientOrderId });
    return s;
  };

  async function lookup(clientOrderId: string, symbol?: string): Promise<VenueOrderState | null> {
    const s = venueSymbol(clientOrderId, symbol, 'lookup');
    const o = await call('lookup', 'GET', '/api/v3/order', orderSchema, { params: { symbol: s, origClientOrderId: clientOrderId }, signed: true, weight: 4, clientOrderId, notFoundIsNull: true });
    if (!o) return null;
    if (!(o.executedQty > 0)) return orderState(o, [], true);
    const trades = await must('myTrades', 'GET', '/api/v3/myTrades', z.array(tradeSchema), { params: { symbol: s, orderId: o.orderId }, signed: true, weight: 20, clientOrderId });
    return stateWithTrades(o, trades);
  }

  function dispatch(text: string, _send: unknown, socket: { close(reason: string): void }): void {
    const msg = JSON.parse(text) as { e?: string };
    if (msg.e === 'listenKeyExpired') { listenKey = null; socket.close('listen key expired'); return; }
    if (msg.e !== 'executionReport') return; // balance and account updates are not ours to record
    const parsed = executionReportSchema.safeParse(msg);
    if (!parsed.success) { log?.warn({ venue, issue: parsed.error.issues[0]?.message }, 'unreadable executionReport skipped'); return; }
    const event = eventFromExecutionReport(parsed.data);
    for (const l of listeners) l(event);
  }

  const newListenKey = async () => {
    const { listenKey: key } = await must('listenKey', 'POST', '/api/v3/userDataStream', z.object({ listenKey: z.string() }), { weight: 2 });
    listenKey = key;
    return key;
  };

  return {
    venue,
    async connect() {
      await syncTime();
      if (stream) return;
      stream = openWsStream({
        venue, url: async () => `${config.streamUrl}/${await newListenKey()}`,
        pingMs: config.pingMs, reconnectMs: config.reconnectMs, maxReconnectMs: config.maxReconnectMs, log, onMessage: dispatch,
      });
      keepAlive = setInterval(() => {
        if (!listenKey) return;
        call('keepAlive', 'PUT', '/api/v3/userDataStream', z.unknown(), { params: { listenKey }, weight: 2 })
          .catch((e) => log?.warn({ venue, err: e instanceof Error ? e.message : String(e) }, 'listen key keep-alive failed'));
      }, config.keepAliveMs);
      keepAlive.unref();
    },
    async disconnect() {
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
      stream?.stop();
      stream = null;
    },
    async submit(order: VenueOrderRequest) {
      const s = toVenue(order.symbol);
      symbolOf.set(order.clientOrderId, s);
      const params: Params = {
        symbol: s, side: order.side, type: order.orderType, quantity: fmt(order.quantity), newClientOrderId: order.clientOrderId, newOrderRespType: 'FULL',
        // Spot has no DAY: a crypto market never closes, GTC is the nearest.
        ...(order.orderType === 'LIMIT' ? { timeInForce: order.timeInForce === 'IOC' ? 'IOC' : 'GTC', price: fmt(order.limitPrice ?? 0) } : {}),
      };
      try {
        return stateFromPlacement(await must('submit', 'POST', '/api/v3/order', orderSchema, { params, signed: true, weight: 1, clientOrderId: order.clientOrderId }));
      } catch (e) {
        // The id is taken by an order still open: an earlier attempt got through. That is the answer.
        if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
          const existing = await lookup(order.clientOrderId, order.symbol);
          if (existing) return existing;
        }
        throw e;
      }
    },
    async cancel(clientOrderId, symbol) {
      const s = venueSymbol(clientOrderId, symbol, 'cancel');
      await call('cancel', 'DELETE', '/api/v3/order', z.unknown(), { params: { symbol: s, origClientOrderId: clientOrderId }, signed: true, weight: 1, clientOrderId });
      const state = await lookup(clientOrderId, symbol);
      if (!state) throw new VenueError('VENUE_NOT_FOUND', `${venue} cancel ${clientOrderId}: no such order`, { venue, operation: 'cancel', clientOrderId });
      return state;
    },
    lookup,
    async openOrders() {
      const orders = await must('openOrders', 'GET', '/api/v3/openOrders', z.array(orderSchema), { signed: true, weight: 80 });
      return orders.map((o) => orderState(o, [], false));
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    lastStreamActivity: () => stream?.lastActivity() ?? null,
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        await must('health', 'GET', '/api/v3/ping', z.object({}).passthrough());
        return { up: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, detail: null };
      } catch (e) {
        return { up: false, latencyMs: null, detail: e instanceof VenueError ? `${e.code}: ${e.message}` : String(e) };
      }
    },
  };
}
