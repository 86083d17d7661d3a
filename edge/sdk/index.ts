// The strategy SDK: `submit` signs a signal as POST /signals expects and retries it safely (same body,
// same idempotency key, so a retry can never become a second order); `connect` opens /v1/stream, emits
// typed events and, when the connection drops, reconnects with resumeFrom so nothing is missed or seen
// twice. Import it as `order-router/sdk`.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import type { ExecutionReport, Order, Quote, RiskDecision } from '../../schemas/types.ts';
import { signatureHeader } from '../auth.ts';
import { CLOSE, helloFrame, requestHeaders, type At, type Offsets, type PositionView, type StreamMessage } from '../stream/protocol.ts';
import type { OrderRow, PositionRow } from '../stream/queries.ts';

export type { ExecutionReport, Order, Quote, RiskDecision } from '../../schemas/types.ts';
export type { At, Offsets, PositionView } from '../stream/protocol.ts';
export type { OrderRow, PositionRow } from '../stream/queries.ts';
export { CLOSE } from '../stream/protocol.ts';

/** The body of POST /signals (see README "Signed signals"); `strategy` is filled in from the credentials. */
export interface SignalInput {
  symbol: string;
  intent: 'delta' | 'target' | 'flat';
  side?: 'buy' | 'sell';
  quantity?: number;
  target?: number;
  orderType?: 'market' | 'limit';
  limitPrice?: number;
  price?: number;
  time?: string | number;
  /** Set one to make retries across restarts of your own code idempotent; otherwise a new UUID per call. */
  idempotencyKey?: string;
}

export interface Credentials { url: string; strategy: string; secret: string }

export interface SubmitOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First backoff; doubled per attempt up to 5 s (default 200 ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
  clock?: () => number;
}

export class SdkError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly field: string | undefined;
  constructor(code: string, message: string, status: number | null, field?: string) {
    super(message);
    this.name = 'SdkError';
    this.code = code;
    this.status = status;
    this.field = field;
  }
}

const httpUrl = (base: string, path: string): string => new URL(path, base.replace(/^ws/, 'http')).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function errorOf(res: Response): Promise<SdkError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string } } | null;
  return new SdkError(body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText, res.status, body?.error?.field);
}

/**
 * POST /signals, signed. 202 accepted, 200 a duplicate of one accepted before (same key): both resolve.
 * 503 and network errors are retried with the same body, so the edge's dedupe makes them safe; any
 * other answer is final and rejects with its code and field.
 */
export async function submit(c: Credentials, signal: SignalInput, o: SubmitOptions = {}): Promise<{ signalId: string; duplicate: boolean }> {
  const doFetch = o.fetch ?? fetch;
  const clock = o.clock ?? Date.now;
  const attempts = o.attempts ?? 5;
  const body = JSON.stringify({ ...signal, strategy: c.strategy, idempotencyKey: signal.idempotencyKey ?? randomUUID() });
  const key = (JSON.parse(body) as { idempotencyKey: string }).idempotencyKey;
  let last: unknown = null;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(Math.min((o.backoffMs ?? 200) * 2 ** (i - 1), 5_000));
    let res: Response;
    try {
      // Signed afresh each time: the timestamp must stay within the edge's clock tolerance.
      res = await doFetch(httpUrl(c.url, '/signals'), {
        method: 'POST', body,
        headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-signature': signatureHeader(c.secret, Math.floor(clock() / 1000), body) },
      });
    } catch (e) {
      last = e;
      continue;
    }
    if (res.status === 200 || res.status === 202) return (await res.json()) as { signalId: string; duplicate: boolean };
    last = await errorOf(res);
    if (res.status !== 503) throw last;
  }
  throw last instanceof SdkError ? last : new SdkError('UNAVAILABLE', `not accepted after ${attempts} attempts: ${String(last)}`, null);
}

async function signedGet<T>(c: Credentials, path: string, o: { fetch?: typeof fetch; clock?: () => number }): Promise<T> {
  const res = await (o.fetch ?? fetch)(httpUrl(c.url, path), { headers: requestHeaders(c.secret, c.strategy, (o.clock ?? Date.now)(), 'GET', path) });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** REST only, no stream: what a backtest or a script needs. */
export function createClient(c: Credentials, o: { fetch?: typeof fetch; clock?: () => number } = {}) {
  return {
    submit: (signal: SignalInput, so: SubmitOptions = {}) => submit(c, signal, { fetch: o.fetch, clock: o.clock, ...so }),
    positions: () => signedGet<{ account: string; positions: PositionRow[] }>(c, '/v1/positions', o),
    orders: (q: { status?: 'open' | 'closed' | 'all'; limit?: number } = {}) => {
      const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();
      return signedGet<{ orders: OrderRow[] }>(c, `/v1/orders${qs ? `?${qs}` : ''}`, o);
    },
    order: (id: string) => signedGet<{ order: OrderRow; trail: unknown }>(c, `/v1/orders/${encodeURIComponent(id)}`, o),
  };
}

/** Each event's payload, with where it sits in Kafka. */
export interface StrategyEvents {
  ready: [{ strategy: string; account: string; from: Offsets }];
  decision: [RiskDecision, At];
  order: [Order, At];
  /** Every execution report of the strategy's orders (acks, rejects, cancels, fills, amendments). */
  execution: [ExecutionReport, At];
  /** Fills, corrections and busts only. */
  fill: [ExecutionReport, At];
  /** The account's position after one of the strategy's fills, as the projection booked it. */
  position: [PositionView, At];
  quote: [Quote, At];
  /** The connection closed; `reconnecting` says whether the SDK will try again. */
  disconnected: [{ code: number; reason: string; reconnecting: boolean }];
  error: [Error];
}

export interface ConnectOptions extends Credentials {
  /** Symbols whose quotes to receive. */
  symbols?: string[];
  /** Where to start: the `cursor()` of an earlier connection. Default: live, from now. */
  resumeFrom?: Offsets;
  /** Reconnect after a drop (default true); never after UNAUTHORIZED or BAD_REQUEST. */
  reconnect?: boolean;
  /** Backoff bounds for reconnection (default 250 ms to 10 s). */
  backoffMs?: { min: number; max: number };
  clock?: () => number;
  fetch?: typeof fetch;
}

const FINAL = new Set<number>([CLOSE.UNAUTHORIZED, CLOSE.BAD_REQUEST, CLOSE.RESUME_UNAVAILABLE]);

export class StrategyClient extends EventEmitter<StrategyEvents> {
  private readonly o: ConnectOptions;
  private readonly position: Offsets = {};
  private ws: WebSocket | null = null;
  private closedByUser = false;
  private attempt = 0;
  private readonly rest: ReturnType<typeof createClient>;

  constructor(o: ConnectOptions) {
    super();
    this.o = o;
    for (const [t, ps] of Object.entries(o.resumeFrom ?? {})) this.position[t] = { ...ps };
    this.rest = createClient(o, { fetch: o.fetch, clock: o.clock });
    this.open();
  }

  /** The last offset seen per topic and partition: pass as `resumeFrom` to continue elsewhere. */
  cursor(): Offsets {
    return Object.fromEntries(Object.entries(this.position).map(([t, ps]) => [t, { ...ps }]));
  }

  submit(signal: SignalInput, o: SubmitOptions = {}) { return this.rest.submit(signal, o); }
  positions() { return this.rest.positions(); }
  orders(q: { status?: 'open' | 'closed' | 'all'; limit?: number } = {}) { return this.rest.orders(q); }
  order(id: string) { return this.rest.order(id); }

  /** Closes the stream for good. */
  close(): void {
    this.closedByUser = true;
    this.ws?.close(1000, 'bye');
  }

  private open(): void {
    const url = new URL('/v1/stream', this.o.url.replace(/^http/, 'ws')).toString();
    const ws = new WebSocket(url);
    this.ws = ws;
    const resume = Object.keys(this.position).length > 0 ? this.cursor() : undefined;
    ws.on('open', () => {
      ws.send(helloFrame(this.o.secret, (this.o.clock ?? Date.now)(), { type: 'subscribe', strategy: this.o.strategy, symbols: this.o.symbols ?? [], resumeFrom: resume }));
    });
    ws.on('message', (data) => {
      let m: StreamMessage;
      try {
        m = JSON.parse(String(data)) as StreamMessage;
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      this.attempt = 0;
      // A handler that throws is reported, never allowed to take the connection down with it.
      try { this.deliver(m); } catch (e) { this.fail(e as Error); }
    });
    // A failed connection is followed by 'close', which reconnects: the error itself is only reported.
    ws.on('error', (e) => this.fail(e));
    ws.on('close', (code, reason) => {
      const reconnecting = !this.closedByUser && this.o.reconnect !== false && !FINAL.has(code);
      this.emit('disconnected', { code, reason: reason.toString(), reconnecting });
      if (!reconnecting) return;
      const b = this.o.backoffMs ?? { min: 250, max: 10_000 };
      const wait = Math.min(b.min * 2 ** this.attempt++, b.max);
      setTimeout(() => { if (!this.closedByUser) this.open(); }, wait);
    });
  }

  private fail(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  private deliver(m: StreamMessage): void {
    if (m.type === 'ready') {
      for (const [t, ps] of Object.entries(m.from)) this.position[t] = { ...ps, ...Object.fromEntries(Object.entries(this.position[t] ?? {}).filter(([p]) => p in ps)) };
      this.emit('ready', { strategy: m.strategy, account: m.account, from: m.from });
      return;
    }
    const at: At = { topic: m.topic, partition: m.partition, offset: m.offset };
    // Before the handlers run: a handler that throws must not make the record come round again.
    (this.position[m.topic] ??= {})[String(m.partition)] = m.offset;
    switch (m.type) {
      case 'decision': this.emit('decision', m.decision, at); break;
      case 'order': this.emit('order', m.order, at); break;
      case 'execution': {
        this.emit('execution', m.execution, at);
        const t = m.execution.type;
        if (t === 'FILL' || t === 'PARTIAL_FILL' || t === 'CORRECTION' || t === 'BUST') this.emit('fill', m.execution, at);
        if (m.position !== null) this.emit('position', m.position, at);
        break;
      }
      case 'quote': this.emit('quote', m.quote, at); break;
      default: {
        const never: never = m;
        throw new Error(`unhandled message ${String((never as { type: unknown }).type)}`);
      }
    }
  }
}

/** Opens the stream; events start after `ready`. */
export const connect = (o: ConnectOptions): StrategyClient => new StrategyClient(o);
