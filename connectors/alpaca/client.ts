// VenueClient for Alpaca's Trading API. REST for orders (client_order_id is the idempotency key; a
// duplicate answers 422, which we turn into the existing order), account activities for the fill
// statement, and the trade_updates WebSocket for pushes. Every request passes the rate gate; keys
// travel only in the APCA headers and never appear in a message or a log line.
import type { Logger } from 'pino';
import { z } from 'zod';
import { createRateGate, venueFetch, VenueError, type CallContext } from '../http.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { AlpacaConfig } from './config.ts';
import { alpacaError } from './errors.ts';
import { activitySchema, eventFromTradeUpdate, orderSchema, orderState, stateWithActivities, tradeUpdateSchema, type AlpacaOrder } from './parse.ts';
import { isCrypto, toVenue } from './symbols.ts';

export interface AlpacaClientDeps { log?: Logger; clock?: () => number }

const ordersSchema = z.array(orderSchema);
const activitiesSchema = z.array(activitySchema);
const PAGE = 100;

export function createAlpacaClient(config: AlpacaConfig, { log, clock = Date.now }: AlpacaClientDeps = {}): VenueClient {
  const venue = config.venue;
  const gate = createRateGate({ clock, limit: config.requestsPerMinute });
  const listeners = new Set<(e: VenueEvent) => void>();
  let stream: WsStream | null = null;

  async function request<S extends z.ZodType>(operation: string, method: string, path: string, schema: S | null,
    opts: { body?: unknown; clientOrderId?: string; notFoundIsNull?: boolean } = {}): Promise<z.output<S> | null> {
    const c: CallContext = { venue, operation, clientOrderId: opts.clientOrderId, timeoutMs: config.timeoutMs };
    await gate.take();
    const res = await venueFetch(`${config.baseUrl}${path}`, {
      method,
      headers: {
        'APCA-API-KEY-ID': config.keyId.reveal(), 'APCA-API-SECRET-KEY': config.secretKey.reveal(), accept: 'application/json',
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }, c);
    const remaining = Number(res.headers.get('x-ratelimit-remaining'));
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (res.headers.has('x-ratelimit-remaining') && Number.isFinite(remaining)) gate.observeRemaining(remaining, Number.isFinite(reset) ? reset * 1000 : null);
    if (res.status === 404 && opts.notFoundIsNull) return null;
    if (res.status >= 400) {
      const err = alpacaError(res.status, res.json, res.headers, c, clock());
      if (err.code === 'VENUE_RATE_LIMITED') gate.blockFor(err.retryAfterMs ?? 1_000);
      throw err;
    }
    if (schema === null) return null;
    const parsed = schema.safeParse(res.json);
    if (!parsed.success) throw new VenueError('VENUE_BAD_RESPONSE', `${venue} ${operation}: unreadable answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, { ...c, status: res.status });
    return parsed.data;
  }

  async function must<S extends z.ZodType>(...args: Parameters<typeof request<S>>): Promise<z.output<S>> {
    const v = await request(...args);
    if (v === null) throw new Error('unreachable: empty answer');
    return v;
  }

  async function fillActivities(o: AlpacaOrder) {
    // The order's fills are among the account's fills since it was submitted; page until exhausted.
    const after = new Date((o.submitted_at ?? o.created_at) - 1_000).toISOString();
    const out: z.output<typeof activitiesSchema> = [];
    let token: string | null = null;
    for (let page = 0; page < 50; page++) {
      const q = new URLSearchParams({ after, direction: 'asc', page_size: String(PAGE), ...(token ? { page_token: token } : {}) });
      const batch = await must('activities', 'GET', `/v2/account/activities/FILL?${q}`, activitiesSchema, { clientOrderId: o.client_order_id });
      out.push(...batch);
      if (batch.length < PAGE) break;
      token = batch[batch.length - 1].id;
    }
    return out;
  }

  async function lookup(clientOrderId: string): Promise<VenueOrderState | null> {
    const q = new URLSearchParams({ client_order_id: clientOrderId });
    const o = await request('lookup', 'GET', `/v2/orders:by_client_order_id?${q}`, orderSchema, { clientOrderId, notFoundIsNull: true });
    if (!o) return null;
    return o.filled_qty > 0 ? stateWithActivities(o, await fillActivities(o)) : orderState(o, [], true);
  }

  function dispatch(text: string, send: (m: unknown) => void, socket: { close(reason: string): void }): void {
    const msg = JSON.parse(text) as { stream?: string; data?: { status?: string; action?: string } };
    if (msg.stream === 'authorization') {
      if (msg.data?.status === 'authorized') send({ action: 'listen', data: { streams: ['trade_updates'] } });
      else socket.close('stream authorization refused');
      return;
    }
    if (msg.stream !== 'trade_updates') return; // listening acks and anything new
    const parsed = tradeUpdateSchema.safeParse(msg);
    if (!parsed.success) { log?.warn({ venue, issue: parsed.error.issues[0]?.message }, 'unreadable trade update skipped'); return; }
    const event = eventFromTradeUpdate(parsed.data);
    for (const l of listeners) l(event);
  }

  return {
    venue,
    async connect() {
      await must('connect', 'GET', '/v2/account', z.object({ status: z.string() }));
      stream ??= openWsStream({
        venue, url: async () => config.streamUrl, pingMs: config.pingMs, reconnectMs: config.reconnectMs, maxReconnectMs: config.maxReconnectMs, log,
        onOpen: (send) => send({ action: 'auth', key: config.keyId.reveal(), secret: config.secretKey.reveal() }),
        onMessage: dispatch,
      });
    },
    async disconnect() { stream?.stop(); stream = null; },
    async submit(order: VenueOrderRequest) {
      const body = {
        symbol: toVenue(order.symbol), qty: String(order.quantity), side: order.side === 'BUY' ? 'buy' : 'sell',
        type: order.orderType === 'LIMIT' ? 'limit' : 'market',
        // Alpaca has no DAY for crypto; GTC is the nearest it accepts.
        time_in_force: order.timeInForce === 'DAY' && isCrypto(order.symbol) ? 'gtc' : order.timeInForce.toLowerCase(),
        ...(order.orderType === 'LIMIT' && order.limitPrice !== null ? { limit_price: String(order.limitPrice) } : {}),
        client_order_id: order.clientOrderId,
      };
      try {
        return orderState(await must('submit', 'POST', '/v2/orders', orderSchema, { body, clientOrderId: order.clientOrderId }), [], false);
      } catch (e) {
        // The id is taken: an earlier attempt got through. That order is the answer, not a rejection.
        if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
          const existing = await lookup(order.clientOrderId);
          if (existing) return existing;
        }
        throw e;
      }
    },
    async cancel(clientOrderId) {
      const found = await lookup(clientOrderId);
      if (!found) throw new VenueError('VENUE_NOT_FOUND', `${venue} cancel ${clientOrderId}: no such order`, { venue, operation: 'cancel', clientOrderId });
      if (found.status === 'NEW' || found.status === 'PARTIALLY_FILLED') {
        await request('cancel', 'DELETE', `/v2/orders/${encodeURIComponent(found.venueOrderId)}`, null, { clientOrderId });
      }
      return (await lookup(clientOrderId)) ?? found;
    },
    lookup,
    async openOrders() {
      const orders = await must('openOrders', 'GET', '/v2/orders?status=open&limit=500&direction=asc', ordersSchema);
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
        await must('health', 'GET', '/v2/account', z.object({ status: z.string() }));
        return { up: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, detail: null };
      } catch (e) {
        return { up: false, latencyMs: null, detail: e instanceof VenueError ? `${e.code}: ${e.message}` : String(e) };
      }
    },
  };
}
