// VenueClient for Alpaca's Trading API. REST for orders (client_order_id is the idempotency key; a
// duplicate answers 422, which we turn into the existing order), the account's FILL activities as the
// fill statement (one journal per account, activities.ts), the trade_updates WebSocket for pushes,
// assets for instrument rules and the market-data latest quotes (market.ts). A bracket's exit pair goes
// as ONE order of class `oco` (the take-profit, with the stop-loss as its leg), which Alpaca resolves
// itself. Every request passes the rate gate; keys travel only in the APCA headers and never appear in a
// message or a log line.
import type { Logger } from 'pino';
import { z } from 'zod';
import { createRateGate, venueFetch, VenueError, type CallContext } from '../http.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { AlpacaConfig } from './config.ts';
import type { InstrumentSource, NativeOco, OcoLegs } from '../venueCapabilities.ts';
import { createActivityJournal, ACTIVITY_PAGE } from './activities.ts';
import { alpacaError, AlpacaOutcomeUnknown } from './errors.ts';
import { createAlpacaMarket } from './market.ts';
import { activitySchema, eventFromTradeUpdate, orderSchema, orderState, stateWithActivities, tradeUpdateSchema, type AlpacaOrder } from './parse.ts';
import { alpacaOcoBody, alpacaOcoSupported, alpacaOrderBody } from './orderBody.ts';
import { isCrypto, toVenue } from './symbols.ts';

export interface AlpacaClientDeps { log?: Logger; clock?: () => number }

export type AlpacaClient = VenueClient & InstrumentSource & NativeOco & { quotes(symbols: string[]): Promise<import('../venue.ts').VenueQuote[]> };

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

  // The stop leg of an OCO carries a client order id Alpaca makes up; ours is known only here: from the
  // pair we sent or looked up, or from the leg's Alpaca id that `executions` holds since its ACK.
  const pairOfStop = new Map<string, string>(); // our stop-loss cid → our take-profit cid
  const legOfStop = new Map<string, string>(); // our stop-loss cid → Alpaca's id of the leg
  const stopOfLeg = new Map<string, string>(); // Alpaca's id of the leg → our stop-loss cid
  const bounded = (m: Map<string, string>) => { if (m.size > 100_000) m.delete(m.keys().next().value!); };
  const learnLeg = (stopCid: string, legId: string) => {
    legOfStop.set(stopCid, legId); stopOfLeg.set(legId, stopCid); bounded(legOfStop); bounded(stopOfLeg);
  };
  const ours = (s: VenueOrderState): VenueOrderState => {
    const stopCid = stopOfLeg.get(s.venueOrderId);
    return stopCid === undefined ? s : { ...s, clientOrderId: stopCid };
  };

  // Ids this process has posted. A resend follows an unknown outcome, and its refusal may come from what
  // the first attempt placed (the shares it holds: "insufficient qty available"; a stop the market has
  // since passed): it proves nothing, so it stays unknown until a look-up finds the order.
  const posted = new Set<string>();
  async function post(operation: string, body: Record<string, unknown>, clientOrderId: string): Promise<AlpacaOrder> {
    const again = posted.has(clientOrderId);
    posted.add(clientOrderId);
    if (posted.size > 100_000) posted.delete(posted.values().next().value!);
    try {
      return await must(operation, 'POST', '/v2/orders', orderSchema, { body, clientOrderId });
    } catch (e) {
      if (again && e instanceof VenueError && e.code === 'VENUE_REJECTED') throw new AlpacaOutcomeUnknown(venue, clientOrderId, e, 'a resend was refused, and the first attempt may hold what it lacks');
      throw e;
    }
  }

  /** The order's state with its fills; `as` names a leg with our id. */
  async function stateOf(o: AlpacaOrder, fetchedAt: number, as = o.client_order_id): Promise<VenueOrderState> {
    journal.track(o);
    const s = o.filled_qty > 0 ? stateWithActivities(o, await journal.fillsOf(o, fetchedAt)) : orderState(o, [], true);
    return as === o.client_order_id ? s : { ...s, clientOrderId: as };
  }

  const byClientId = (clientOrderId: string) =>
    request('lookup', 'GET', `/v2/orders:by_client_order_id?${new URLSearchParams({ client_order_id: clientOrderId })}`, orderSchema, { clientOrderId, notFoundIsNull: true });
  const byId = (id: string, clientOrderId: string, nested: boolean) =>
    request('lookup', 'GET', `/v2/orders/${encodeURIComponent(id)}${nested ? '?nested=true' : ''}`, orderSchema, { clientOrderId, notFoundIsNull: true });

  /** The stop leg of an OCO parent ("nested": the take-profit is the parent, the stop-loss its child). */
  async function legOf(parent: AlpacaOrder, takeProfitCid: string): Promise<AlpacaOrder | null> {
    const nested = parent.legs?.length ? parent : await byId(parent.id, takeProfitCid, true);
    return nested?.legs?.find((l) => l.id !== parent.id) ?? null;
  }

  async function lookup(clientOrderId: string, _symbol?: string, venueOrderId?: string | null): Promise<VenueOrderState | null> {
    const fetchedAt = clock();
    const o = await byClientId(clientOrderId);
    if (o) return stateOf(o, fetchedAt);
    // Not listed under our id: a stop leg of an OCO is listed under Alpaca's.
    const legId = legOfStop.get(clientOrderId) ?? venueOrderId ?? null;
    if (legId !== null) {
      const leg = await byId(legId, clientOrderId, false);
      if (leg === null || (leg.client_order_id !== clientOrderId && leg.order_class !== 'oco')) return null;
      if (leg.client_order_id !== clientOrderId) learnLeg(clientOrderId, leg.id);
      return stateOf(leg, fetchedAt, clientOrderId);
    }
    const takeProfitCid = pairOfStop.get(clientOrderId);
    if (takeProfitCid === undefined) return null;
    const parent = await byClientId(takeProfitCid);
    if (parent === null || parent.order_class !== 'oco') return null;
    const leg = await legOf(parent, takeProfitCid);
    if (leg === null) return null;
    learnLeg(clientOrderId, leg.id);
    return stateOf(leg, fetchedAt, clientOrderId);
  }

  /** Both legs of a pair: the take-profit by its id; the stop-loss as its OCO leg, or by its own id if it went alone. */
  async function lookupOco(legs: OcoLegs): Promise<{ takeProfit: VenueOrderState | null; stopLoss: VenueOrderState | null }> {
    const tpCid = legs.takeProfit.clientOrderId;
    const slCid = legs.stopLoss.clientOrderId;
    pairOfStop.set(slCid, tpCid);
    bounded(pairOfStop);
    const fetchedAt = clock();
    const parent = await byClientId(tpCid);
    if (parent === null || parent.order_class !== 'oco') {
      return { takeProfit: parent === null ? null : await stateOf(parent, fetchedAt), stopLoss: await lookup(slCid) };
    }
    const leg = await legOf(parent, tpCid);
    // The parent is listed before its leg: the pair is out, its stop not readable yet. Never "absent".
    if (leg === null) throw new AlpacaOutcomeUnknown(venue, slCid, new Error('the OCO is listed without its stop leg'));
    learnLeg(slCid, leg.id);
    return { takeProfit: await stateOf(parent, fetchedAt), stopLoss: await stateOf(leg, fetchedAt, slCid) };
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
    const order = parsed.data.data.order;
    // A stop leg of an OCO not named yet (sent before a restart): the next reconciliation looks it up by
    // the id `executions` holds, and names it from then on.
    const stopLeg = order.group_role === 'stop_loss' || (order.order_class === 'oco' && order.type !== 'limit');
    if (stopLeg && !stopOfLeg.has(order.id)) {
      log?.debug({ venue, venueOrderId: order.id }, 'update of an OCO stop leg not named yet; left to the reconciliation');
      return;
    }
    journal.track(order);
    const event = eventFromTradeUpdate(parsed.data);
    const named = event.kind === 'order' ? { ...event, order: ours(event.order) } : event;
    for (const l of listeners) l(named);
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
        const placed = await post('submit', body, order.clientOrderId);
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
    ocoSupported: alpacaOcoSupported,
    async submitOco(legs) {
      const tpCid = legs.takeProfit.clientOrderId;
      const slCid = legs.stopLoss.clientOrderId;
      pairOfStop.set(slCid, tpCid);
      bounded(pairOfStop);
      try {
        const placed = await post('submitOco', alpacaOcoBody(legs), tpCid);
        journal.track(placed);
        const leg = await legOf(placed, tpCid);
        if (leg === null) throw new AlpacaOutcomeUnknown(venue, slCid, new Error('the OCO was accepted without a readable stop leg'));
        journal.track(leg);
        learnLeg(slCid, leg.id);
        return { takeProfit: orderState(placed, [], false), stopLoss: { ...orderState(leg, [], false), clientOrderId: slCid } };
      } catch (e) {
        // The take-profit's id is taken: an earlier attempt got through (or the take-profit went alone).
        if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
          const found = await lookupOco(legs);
          if (found.takeProfit && found.stopLoss) return { takeProfit: found.takeProfit, stopLoss: found.stopLoss };
          throw new AlpacaOutcomeUnknown(venue, tpCid, e);
        }
        throw e;
      }
    },
    lookupOco,
    async cancel(clientOrderId, _symbol, venueOrderId) {
      // Either leg of an OCO cancels both ("any remaining open order in the group is canceled").
      const found = await lookup(clientOrderId, undefined, venueOrderId);
      if (!found) throw new VenueError('VENUE_NOT_FOUND', `${venue} cancel ${clientOrderId}: no such order`, { venue, operation: 'cancel', clientOrderId });
      if (found.status === 'NEW' || found.status === 'PARTIALLY_FILLED') {
        await request('cancel', 'DELETE', `/v2/orders/${encodeURIComponent(found.venueOrderId)}`, null, { clientOrderId });
      }
      return (await lookup(clientOrderId, undefined, venueOrderId)) ?? found;
    },
    lookup,
    async openOrders() {
      // The start of every reconciliation round: the account's fills are read here, once, for the
      // look-ups that follow. Nested, so an OCO's stop leg comes with its parent: named ours when known, else
      // left out (the parent stands for the pair; the runtime looks our stop up by the id its ACK holds).
      await journal.refresh();
      const orders = await must('openOrders', 'GET', '/v2/orders?status=open&limit=500&direction=asc&nested=true', ordersSchema);
      const all = new Map<string, AlpacaOrder>();
      for (const o of orders) {
        all.set(o.id, o);
        for (const leg of o.legs ?? []) if (stopOfLeg.has(leg.id)) all.set(leg.id, leg);
      }
      for (const o of all.values()) journal.track(o);
      return [...all.values()].map((o) => ours(orderState(o, [], false)));
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
