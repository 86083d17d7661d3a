// VenueClient for the paper venue over its HTTP wire format (see server.ts). Requests go over node:http
// with keep-alive and a deadline (request.ts); the push stream is SSE read with fetch and a small line
// reader, resumed with `since=` after any drop so no event is lost while the runtime is disconnected.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { unsupported, type NativeOrders } from '../orderTypes.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState, VenueQuote } from '../venue.ts';
import type { InstrumentSource, VenueInstrument } from '../venueCapabilities.ts';
import { PaperVenueError } from './errors.ts';
import { createRequester, RequestTimeout } from './request.ts';
import { fromVenue, toVenue } from './symbols.ts';

export interface PaperClientOptions {
  baseUrl: string;
  venue?: string;
  timeoutMs?: number;
  /** First reconnect delay of the event stream; doubles up to 5 s. */
  reconnectMs?: number;
  /** A stream silent this long (the server pings every 15 s) is treated as dead and reopened. */
  streamIdleMs?: number;
  log?: Logger;
}

const fillSchema = z.object({ tradeId: z.string(), quantity: z.number(), price: z.number(), fee: z.number(), venueTime: z.number() });
const orderSchema = z.object({
  clientOrderId: z.string(),
  venueOrderId: z.string(),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL']),
  quantity: z.number(),
  status: z.enum(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']),
  filledQty: z.number(),
  fills: z.array(fillSchema),
  rejectReason: z.string().nullable(),
  venueTime: z.number(),
});
const eventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('order'), order: orderSchema }),
  z.object({
    kind: z.literal('correction'), clientOrderId: z.string(), tradeId: z.string(),
    quantity: z.number(), price: z.number(), fee: z.number(), venueTime: z.number(),
  }),
  z.object({ kind: z.literal('bust'), clientOrderId: z.string(), tradeId: z.string(), venueTime: z.number() }),
]);
const ordersSchema = z.array(orderSchema);
const quoteSchema = z.object({ symbol: z.string(), bid: z.number(), ask: z.number(), bidSize: z.number(), askSize: z.number(), venueTime: z.number() });
const quotesSchema = z.array(quoteSchema);
const instrumentsSchema = z.array(z.object({
  symbol: z.string(), trading: z.boolean(), lotSize: z.number(), tickSize: z.number(), minQty: z.number(), maxQty: z.number(), minNotional: z.number(),
}));
const healthSchema = z.object({ status: z.string(), eventSeq: z.number().int() });
const errorBodySchema = z.object({ code: z.string(), message: z.string().optional(), field: z.string().nullable().optional() });

const MAX_RECONNECT_MS = 5_000;

const toDomain = (order: z.output<typeof orderSchema>): VenueOrderState => ({ ...order, symbol: fromVenue(order.symbol) });

interface Frame {
  id: string | null;
  event: string;
  data: string;
}

/** Reads an SSE body frame by frame (fields id / event / data; comments and retry ignored). */
async function readFrames(body: ReadableStream<Uint8Array>, onFrame: (frame: Frame) => void, onChunk: () => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let frame: Frame = { id: null, event: 'message', data: '' };
  let dataLines: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk();
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line === '') {
        if (dataLines.length > 0 || frame.id !== null) onFrame({ ...frame, data: dataLines.join('\n') });
        frame = { id: null, event: 'message', data: '' };
        dataLines = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') dataLines.push(value);
    }
  }
}


/** Order types sent natively; the rest are refused (connectors/orderTypes.ts). */
const ALL_TIF = ['IOC', 'GTC', 'DAY', 'FOK'] as const;
const PAPER_ORDERS: NativeOrders = { types: { MARKET: ALL_TIF, LIMIT: ALL_TIF, STOP: ALL_TIF, STOP_LIMIT: ALL_TIF, TRAILING_STOP: ALL_TIF } };
export function createPaperClient({
  baseUrl, venue = 'paper', timeoutMs = 5_000, reconnectMs = 200, streamIdleMs = 45_000, log,
}: PaperClientOptions): VenueClient & InstrumentSource {
  const root = baseUrl.replace(/\/+$/, '');
  const subscriptions = new Set<AbortController>();
  // The venue's event sequence when we connected: streams opened later replay from here, so an event
  // raised between connect() and the stream being established is not lost.
  let connectedAtSeq: number | null = null;
  // Bytes on the event stream (events or the server's pings): the runtime's evidence the stream is alive.
  let lastActivity: number | null = null;
  const requester = createRequester(root, timeoutMs);

  async function call<S extends z.ZodType>(
    operation: string, method: string, path: string, schema: S,
    opts: { body?: unknown; clientOrderId?: string; notFoundIsNull?: boolean } = {},
  ): Promise<z.output<S> | null> {
    const about = opts.clientOrderId ? `${venue} ${operation} ${opts.clientOrderId}` : `${venue} ${operation}`;
    const context = { venue, operation, clientOrderId: opts.clientOrderId ?? null };
    let status: number;
    let text: string;
    let retryAfterHeader: string | null;
    try {
      const res = await requester.request(method, path, opts.body);
      status = res.status;
      retryAfterHeader = res.retryAfter;
      text = res.text;
    } catch (err) {
      if (err instanceof RequestTimeout) {
        throw new PaperVenueError('VENUE_TIMEOUT', `${about}: no answer within ${timeoutMs} ms`, { ...context, cause: err });
      }
      const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      throw new PaperVenueError('VENUE_UNAVAILABLE', `${about}: cannot reach venue (${reason})`, { ...context, cause: err });
    }
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (status === 404 && opts.notFoundIsNull) return null;
    if (status >= 400) {
      const body = errorBodySchema.safeParse(json);
      const venueCode = body.success ? body.data.code : null;
      const detail = body.success ? `${body.data.code}${body.data.message ? `: ${body.data.message}` : ''}` : 'no error body';
      const code = status >= 500 || status === 429 ? 'VENUE_UNAVAILABLE' : 'VENUE_REJECTED';
      const field = body.success ? (body.data.field ?? null) : null;
      const error = new PaperVenueError(code, `${about}: HTTP ${status} (${detail})`, { ...context, status, venueCode, field });
      // The runtime holds every call back for a venue's Retry-After (see VenueClient).
      const retryAfter = Number(retryAfterHeader);
      if (status === 429 && retryAfter > 0) Object.assign(error, { retryAfterMs: retryAfter * 1000 });
      throw error;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new PaperVenueError('VENUE_BAD_RESPONSE', `${about}: unreadable answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, { ...context, status });
    }
    return parsed.data;
  }

  // A null from `call` is only possible with notFoundIsNull; this keeps the other call sites typed.
  async function must<S extends z.ZodType>(...args: Parameters<typeof call<S>>): Promise<z.output<S>> {
    const result = await call(...args);
    if (result === null) throw new Error('unreachable: null answer without notFoundIsNull');
    return result;
  }

  function dispatch(frame: Frame, listener: (event: VenueEvent) => void): void {
    let parsed: z.output<typeof eventSchema>;
    try {
      parsed = eventSchema.parse(JSON.parse(frame.data));
    } catch (err) {
      log?.warn({ err, venue, eventId: frame.id }, 'unreadable venue event skipped');
      return;
    }
    const event: VenueEvent = parsed.kind === 'order' ? { kind: 'order', order: toDomain(parsed.order) } : parsed;
    try {
      listener(event);
    } catch (err) {
      // The listener's failure is the caller's to handle; it must not tear down the stream.
      log?.error({ err, venue, eventId: frame.id }, 'venue event listener threw');
    }
  }

  function subscribe(listener: (event: VenueEvent) => void): () => void {
    const stop = new AbortController();
    subscriptions.add(stop);
    let last: number | null = connectedAtSeq;
    let delay = reconnectMs;
    const run = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        const idle = new AbortController();
        let idleTimer = setTimeout(() => idle.abort(), streamIdleMs);
        const touch = (): void => {
          lastActivity = Date.now();
          clearTimeout(idleTimer);
          idleTimer = setTimeout(() => idle.abort(), streamIdleMs);
        };
        try {
          const query = last === null ? '' : `?since=${last}`;
          const res = await fetch(`${root}/v1/events${query}`, {
            headers: { accept: 'text/event-stream' },
            signal: AbortSignal.any([stop.signal, idle.signal]),
          });
          if (!res.ok || !res.body) {
            await res.body?.cancel();
            throw new Error(`event stream answered HTTP ${res.status}`);
          }
          delay = reconnectMs;
          await readFrames(res.body, (frame) => {
            if (frame.event !== 'ready') dispatch(frame, listener);
            const id = frame.id === null ? NaN : Number(frame.id);
            if (Number.isInteger(id)) last = id;
          }, touch);
        } catch (err) {
          if (!stop.signal.aborted) log?.warn({ err, venue, since: last }, 'venue event stream dropped; reconnecting');
        } finally {
          clearTimeout(idleTimer);
        }
        if (stop.signal.aborted) return;
        try {
          await sleep(delay, undefined, { signal: stop.signal });
        } catch {
          return;
        }
        delay = Math.min(delay * 2, MAX_RECONNECT_MS);
      }
    };
    void run();
    return () => {
      stop.abort();
      subscriptions.delete(stop);
    };
  }

  const client: VenueClient & InstrumentSource = {
    venue,
    async connect() {
      const health = await must('connect', 'GET', '/v1/health', healthSchema);
      connectedAtSeq = health.eventSeq;
    },
    async disconnect() {
      for (const sub of subscriptions) sub.abort();
      subscriptions.clear();
      requester.close();
    },
    async submit(order: VenueOrderRequest) {
      const refusal = unsupported(venue, PAPER_ORDERS, order);
      if (refusal) throw refusal;
      const body = {
        clientOrderId: order.clientOrderId, symbol: toVenue(order.symbol), side: order.side, quantity: order.quantity,
        type: order.orderType, timeInForce: order.timeInForce,
        limitPrice: order.orderType === 'LIMIT' || order.orderType === 'STOP_LIMIT' ? order.limitPrice : null,
        stopPrice: order.orderType === 'STOP' || order.orderType === 'STOP_LIMIT' ? order.stopPrice ?? null : null,
        trailAmount: order.orderType === 'TRAILING_STOP' ? order.trailAmount ?? null : null,
        trailPercent: order.orderType === 'TRAILING_STOP' ? order.trailPercent ?? null : null,
      };
      return toDomain(await must('submit', 'POST', '/v1/orders', orderSchema, { body, clientOrderId: order.clientOrderId }));
    },
    async cancel(clientOrderId) {
      const path = `/v1/orders/${encodeURIComponent(clientOrderId)}`;
      return toDomain(await must('cancel', 'DELETE', path, orderSchema, { clientOrderId }));
    },
    async lookup(clientOrderId) {
      const path = `/v1/orders/${encodeURIComponent(clientOrderId)}`;
      const order = await call('lookup', 'GET', path, orderSchema, { clientOrderId, notFoundIsNull: true });
      return order === null ? null : toDomain(order);
    },
    async openOrders() {
      return (await must('openOrders', 'GET', '/v1/orders?status=open', ordersSchema)).map(toDomain);
    },
    onEvent: subscribe,
    lastStreamActivity: () => lastActivity,
    async quotes(symbols: string[]): Promise<VenueQuote[]> {
      if (symbols.length === 0) return [];
      const list = encodeURIComponent(symbols.map(toVenue).join(','));
      const quotes = await must('quotes', 'GET', `/v1/quotes?symbols=${list}`, quotesSchema);
      return quotes.map((q) => ({ ...q, symbol: fromVenue(q.symbol) }));
    },
    /** The venue's rules (InstrumentSource, connectors/venueCapabilities.ts): read on start and daily, published to `instruments`. */
    async instruments(symbols?: string[]): Promise<VenueInstrument[]> {
      const query = symbols === undefined ? '' : `?symbols=${symbols.map((s) => encodeURIComponent(toVenue(s))).join(',')}`;
      const rules = await must('instruments', 'GET', `/v1/instruments${query}`, instrumentsSchema);
      return rules.map((r) => ({ ...r, symbol: fromVenue(r.symbol), venueSymbol: r.symbol }));
    },
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        await must('health', 'GET', '/v1/health', healthSchema);
        return { up: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, detail: null };
      } catch (err) {
        return { up: false, latencyMs: null, detail: err instanceof PaperVenueError ? `${err.code}: ${err.message}` : String(err) };
      }
    },
  };
  return client;
}
