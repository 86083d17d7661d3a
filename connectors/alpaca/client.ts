// VenueClient for Alpaca's Trading API. REST for orders (client_order_id is the idempotency key; a
// duplicate answers 422, which we turn into the existing order), the account's FILL activities as the
// fill statement (one journal per account, activities.ts), the trade_updates WebSocket for pushes,
// assets for instrument rules and the market-data latest quotes (market.ts). Every request passes the
// rate gate; keys travel only in the APCA headers and never appear in a message or a log line.
import type { Logger } from 'pino';
import { z } from 'zod';
import { createRateGate, venueFetch, VenueError, type CallContext } from '../http.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { AlpacaConfig } from './config.ts';
import type { InstrumentSource } from '../venueCapabilities.ts';
import { createActivityJournal, ACTIVITY_PAGE } from './activities.ts';
import { alpacaError, AlpacaOutcomeUnknown } from './errors.ts';
import { createAlpacaMarket } from './market.ts';
import { activitySchema, eventFromTradeUpdate, orderSchema, orderState, stateWithActivities, tradeUpdateSchema } from './parse.ts';
import { alpacaOrderBody } from './orderBody.ts';
import { isCrypto, toVenue } from './symbols.ts';

export interface AlpacaClientDeps { log?: Logger; clock?: () => number }

export type AlpacaClient = VenueClient & InstrumentSource & { quotes(symbols: string[]): Promise<import('../venue.ts').VenueQuote[]> };

const ordersSchema = z.array(orderSchema);
const activitiesSchema = z.array(activitySchema);

export function createAlpacaClient(config: AlpacaConfig, { log, clock = Date.now }: AlpacaClientDeps = {}): AlpacaClient {
  const venue = config.venue;
  const gate = createRateGate({ clock, limit: config.requestsPerMinute });
  // The market-data API counts its own requests (its own 200 a minute on the basic plan).
  const dataGate = createRateGate({ clock, limit: config.requestsPerMinute });
  const listeners = new Set<(e: VenueEvent) => void>();
  let stream: WsStream | null = null;

  async function request<S extends z.ZodType>(operation: string, method: string, path: string, schema: S | null,
    opts: { body?: unknown; clientOrderId?: string; notFoundIsNull?: boolean; api?: 'trading' | 'data' } = {}): Promise<z.output<S> | null> {
    const c: CallContext = { venue, operation, clientOrderId: opts.clientOrderId, timeoutMs: config.timeoutMs };
    const g = opts.api === 'data' ? dataGate : gate;
    await g.take();
    const res = await venueFetch(`${opts.api === 'data' ? config.dataUrl : config.baseUrl}${path}`, {
      method,
      headers: {
        'APCA-API-KEY-ID': config.keyId.reveal(), 'APCA-API-SECRET-KEY': config.secretKey.reveal(), accept: 'application/json',
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }, c);
    const remaining = Number(res.headers.get('x-ratelimit-remaining'));
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (res.headers.has('x-ratelimit-remaining') && Number.isFinite(remaining)) g.observeRemaining(remaining, Number.isFinite(reset) ? reset * 1000 : null);
    if (res.status === 404 && opts.notFoundIsNull) return null;
    if (res.status >= 400) {
      const err = alpacaError(res.status, res.json, res.headers, c, clock());
      if (err.code === 'VENUE_RATE_LIMITED') g.blockFor(err.retryAfterMs ?? 1_000);
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

  const journal = createActivityJournal({
    clock, log, lookbackMs: config.activityLookbackMs, rescanMs: config.activityRescanMs, overlapMs: config.activityOverlapMs,
    readPage: (after, token) => {
      const q = new URLSearchParams({ after, direction: 'asc', page_size: String(ACTIVITY_PAGE), ...(token ? { page_token: token } : {}) });
      return must('activities', 'GET', `/v2/account/activities/FILL?${q}`, activitiesSchema);
    },
  });
  const market = createAlpacaMarket(config, {
    clock, log,
    get: (operation, path, schema, api) => request(operation, 'GET', path, schema, { notFoundIsNull: true, api }),
  });

  async function lookup(clientOrderId: string): Promise<VenueOrderState | null> {
    const q = new URLSearchParams({ client_order_id: clientOrderId });
    const fetchedAt = clock();
    const o = await request('lookup', 'GET', `/v2/orders:by_client_order_id?${q}`, orderSchema, { clientOrderId, notFoundIsNull: true });
    if (!o) return null;
    journal.track(o);
    return o.filled_qty > 0 ? stateWithActivities(o, await journal.fillsOf(o, fetchedAt)) : orderState(o, [], true);
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
    journal.track(parsed.data.data.order);
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
      const body = alpacaOrderBody(venue, order);
      try {
        const placed = await must('submit', 'POST', '/v2/orders', orderSchema, { body, clientOrderId: order.clientOrderId });
        journal.track(placed);
        return orderState(placed, [], false);
      } catch (e) {
        // The id is taken: an earlier attempt got through. That order is the answer, not a rejection.
        if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
          const existing = await lookup(order.clientOrderId);
          if (existing) return existing;
          // Taken, yet not listed (yet): the order may well be live. Never a REJECT; look again later.
          throw new AlpacaOutcomeUnknown(venue, order.clientOrderId, e);
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
      // The start of every reconciliation round: the account's fills are read here, once, for the
      // look-ups that follow.
      await journal.refresh();
      const orders = await must('openOrders', 'GET', '/v2/orders?status=open&limit=500&direction=asc', ordersSchema);
      for (const o of orders) journal.track(o);
      return orders.map((o) => orderState(o, [], false));
    },
    instruments: (symbols) => market.instruments(symbols),
    quotes: (symbols) => market.quotes(symbols),
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
