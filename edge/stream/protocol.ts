// The strategy stream's protocol, pure: the signed hello that opens a stream, the request signature of
// the REST routes, where each partition starts (resumeFrom), which records a strategy may see, and the
// close codes. The shell (session.ts, routes.ts) does the I/O around these.
import { z } from 'zod';
import type { ExecutionReport, Order, Quote, RiskDecision } from '../../schemas/types.ts';
import { verifySignature, signatureHeader } from '../auth.ts';
import type { StrategyConfig } from '../config.ts';

/** Close codes of /v1/stream. The reason is the key's name and, for BAD_REQUEST only, the field. */
export const CLOSE = {
  GOING_AWAY: 1001,
  INTERNAL: 1011,
  /** Bad, late, missing or unknown: no detail is given. */
  UNAUTHORIZED: 4001,
  /** The authenticated hello names a field that is wrong. */
  BAD_REQUEST: 4002,
  /** The send buffer stayed above its limit: the client does not read fast enough. */
  SLOW_CLIENT: 4008,
  /** A resumeFrom offset is older than the topic still holds. */
  RESUME_UNAVAILABLE: 4010,
  TOO_MANY_STREAMS: 4029,
} as const;
export type CloseName = keyof typeof CLOSE;

/** Topic → partition → the last offset the client has seen (as a string, like Kafka offsets). */
export type Offsets = Record<string, Record<string, string>>;

export interface StreamTopics { riskDecisions: string; orders: string; executions: string; quotes: string }

/** What a stream sends, one JSON text frame each. */
export interface At { topic: string; partition: number; offset: string }
export interface PositionView {
  account: string; symbol: string; venue: string; quantity: number; avgPrice: number; realizedPnl: number; fees: number;
  fillCount: number; quantityDelta: number; realizedPnlDelta: number; feesDelta: number; bookedAt: string;
}
export type StreamMessage =
  | { type: 'ready'; strategy: string; account: string; from: Offsets }
  | ({ type: 'decision'; decision: RiskDecision } & At)
  | ({ type: 'order'; order: Order } & At)
  /** `position`: the account's position after this execution as the projection booked it; null when it changed none, or was not booked within the wait. */
  | ({ type: 'execution'; execution: ExecutionReport; position: PositionView | null } & At)
  | ({ type: 'quote'; quote: Quote } & At);

// Partition numbers and offsets as decimal strings; offsets may be -1 (nothing seen yet).
const offset = z.string().regex(/^(-1|\d{1,19})$/, 'must be an offset: a decimal string, -1 or more');
const partitionKey = z.string().regex(/^\d{1,6}$/, 'must be a partition number');

const helloSchema = z.strictObject({
  type: z.literal('subscribe'),
  strategy: z.string().min(1).max(64),
  symbols: z.array(z.string().min(1).max(64).transform((s) => s.toUpperCase())).max(500).default([]),
  resumeFrom: z.record(z.string().min(1).max(249), z.record(partitionKey, offset)).optional(),
});
export type Hello = z.output<typeof helloSchema>;
export type HelloInput = z.input<typeof helloSchema>;

export const MAX_HELLO_BYTES = 64 * 1024;

/**
 * The first frame a client sends: the signature header, a newline, then the JSON body it signs, as
 * POST /signals signs its body (`t=<unix>,v1=<hex>` over `t + "." + body`).
 */
export function helloFrame(secret: string, nowMs: number, hello: HelloInput): string {
  const body = JSON.stringify(hello);
  return `${signatureHeader(secret, Math.floor(nowMs / 1000), body)}\n${body}`;
}

export type HelloCheck =
  | { ok: true; strategy: StrategyConfig; hello: Hello }
  | { ok: false; close: 'UNAUTHORIZED'; reason: string }
  | { ok: false; close: 'BAD_REQUEST'; reason: string; field: string };

export interface AuthContext {
  strategies: ReadonlyMap<string, StrategyConfig>;
  /** Compared against when the strategy is unknown, so timing does not tell which ids exist. */
  decoy: readonly string[];
  maxClockSkewSec: number;
}

/** Authenticates the hello frame, then validates it. `reason` is for our log; the client sees only the close code. */
export function checkHello(frame: string, nowMs: number, ctx: AuthContext): HelloCheck {
  if (frame.length > MAX_HELLO_BYTES) return { ok: false, close: 'UNAUTHORIZED', reason: 'TOO_LARGE' };
  const nl = frame.indexOf('\n');
  if (nl < 0) return { ok: false, close: 'UNAUTHORIZED', reason: 'MALFORMED' };
  const header = frame.slice(0, nl);
  const body = frame.slice(nl + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, close: 'UNAUTHORIZED', reason: 'MALFORMED' };
  }
  const id = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).strategy : undefined;
  const strategy = typeof id === 'string' ? ctx.strategies.get(id) : undefined;
  const sig = verifySignature({ header, rawBody: body, secrets: strategy?.secrets ?? ctx.decoy, nowMs, maxSkewSec: ctx.maxClockSkewSec });
  if (!sig.ok) return { ok: false, close: 'UNAUTHORIZED', reason: sig.reason };
  if (strategy === undefined) return { ok: false, close: 'UNAUTHORIZED', reason: 'UNKNOWN_STRATEGY' };
  const r = helloSchema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.length ? issue.path.join('.') : 'body';
    return { ok: false, close: 'BAD_REQUEST', reason: issue.message, field };
  }
  return { ok: true, strategy, hello: r.data };
}

/**
 * REST requests carry no body to sign: the signed bytes are `<METHOD> <path and query as sent>`, with
 * the same header and clock tolerance as POST /signals, and the strategy in X-Strategy.
 */
export const requestPayload = (method: string, url: string): string => `${method.toUpperCase()} ${url}`;

export function requestHeaders(secret: string, strategy: string, nowMs: number, method: string, url: string): Record<string, string> {
  return { 'x-strategy': strategy, 'x-signature': signatureHeader(secret, Math.floor(nowMs / 1000), requestPayload(method, url)) };
}

export function checkRequest(
  h: { strategy: string | undefined; signature: string | undefined; method: string; url: string }, nowMs: number, ctx: AuthContext,
): { ok: true; strategy: StrategyConfig } | { ok: false; reason: string } {
  const strategy = h.strategy === undefined ? undefined : ctx.strategies.get(h.strategy);
  const sig = verifySignature({ header: h.signature, rawBody: requestPayload(h.method, h.url), secrets: strategy?.secrets ?? ctx.decoy, nowMs, maxSkewSec: ctx.maxClockSkewSec });
  if (!sig.ok) return { ok: false, reason: sig.reason };
  if (strategy === undefined) return { ok: false, reason: 'UNKNOWN_STRATEGY' };
  return { ok: true, strategy };
}

export interface PartitionEnds { partition: number; low: string; high: string }

export type StartPlan =
  | { ok: true; starts: Map<string, Map<number, bigint>>; from: Offsets }
  | { ok: false; close: 'BAD_REQUEST' | 'RESUME_UNAVAILABLE'; field: string };

/**
 * Where each partition starts. Named in resumeFrom: the offset after the one last seen, which must not
 * lie past the end, nor before the log's start (compacted `quotes` excepted: only the latest per key is
 * kept, so a resume there starts at the oldest kept). Not named: at the end, live. `from` is what the
 * `ready` message reports: the offset before each start, so a client's cursor covers every partition.
 */
export function planStarts(ends: ReadonlyMap<string, readonly PartitionEnds[]>, resumeFrom: Offsets | undefined, compacted: ReadonlySet<string>): StartPlan {
  for (const topic of Object.keys(resumeFrom ?? {})) {
    if (!ends.has(topic)) return { ok: false, close: 'BAD_REQUEST', field: `resumeFrom.${topic}` };
  }
  const starts = new Map<string, Map<number, bigint>>();
  const from: Offsets = {};
  for (const [topic, parts] of ends) {
    const m = new Map<number, bigint>();
    from[topic] = {};
    const named = resumeFrom?.[topic] ?? {};
    for (const p of Object.keys(named)) {
      if (!parts.some((x) => x.partition === Number(p))) return { ok: false, close: 'BAD_REQUEST', field: `resumeFrom.${topic}.${p}` };
    }
    for (const p of parts) {
      const low = BigInt(p.low), high = BigInt(p.high);
      const last = named[String(p.partition)];
      let start = last === undefined ? high : BigInt(last) + 1n;
      if (start > high) return { ok: false, close: 'BAD_REQUEST', field: `resumeFrom.${topic}.${p.partition}` };
      if (start < low) {
        if (!compacted.has(topic)) return { ok: false, close: 'RESUME_UNAVAILABLE', field: `resumeFrom.${topic}.${p.partition}` };
        start = low;
      }
      m.set(p.partition, start);
      from[topic][String(p.partition)] = String(start - 1n);
    }
    starts.set(topic, m);
  }
  return { ok: true, starts, from };
}

/** Whether a strategy sees a record. An execution carries the strategy of its order (the connector copies it from the order). */
export type Owned =
  | { kind: 'decision'; value: RiskDecision }
  | { kind: 'order'; value: Order }
  | { kind: 'execution'; value: ExecutionReport }
  | { kind: 'quote'; value: Quote };

export function visibleTo(strategy: string, symbols: ReadonlySet<string>, r: Owned): boolean {
  switch (r.kind) {
    case 'decision': return r.value.strategy === strategy;
    case 'order': return r.value.strategy === strategy;
    case 'execution': return r.value.strategy === strategy;
    case 'quote': return symbols.has(r.value.symbol);
    default: {
      const never: never = r;
      throw new Error(`unhandled record ${String(never)}`);
    }
  }
}

/** Executions that may move a position, so the stream looks up the projection's booking for them. */
export const movesPosition = (e: ExecutionReport): boolean =>
  e.type === 'CORRECTION' || e.type === 'BUST' || ((e.type === 'FILL' || e.type === 'PARTIAL_FILL') && e.lastQty > 0);

/** A WebSocket close reason is at most 123 bytes. */
export const closeReason = (name: CloseName, field?: string): string => (field ? `${name} ${field}` : name).slice(0, 123);
