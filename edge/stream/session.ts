// One authenticated stream: a private Kafka consumer (read_committed, never committed) that starts each
// partition where the plan says (protocol.ts), hands the strategy's own records to the socket in offset
// order, and waits for the socket to drain before reading on. A client that does not drain within the
// limit is cut off, so what the process holds for it is bounded by the buffer limit plus one fetch.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Codec } from '../../schemas/codec.ts';
import { topicEnds } from '../../streams/runtime/consume.ts';
import type { StrategyConfig } from '../config.ts';
import { CLOSE, closeReason, movesPosition, planStarts, visibleTo, type CloseName, type Hello, type Owned, type PartitionEnds, type StreamMessage, type StreamTopics } from './protocol.ts';
import type { PositionLookup } from './queries.ts';

export interface SessionLimits {
  /** Above this many bytes queued on the socket, the stream stops reading Kafka until it drains. */
  maxBufferedBytes: number;
  /** A socket still above the limit after this long is closed with SLOW_CLIENT. */
  slowClientMs: number;
  /** Largest fetch per partition: with the buffer limit, what a stream can hold. */
  maxFetchBytes: number;
}

export interface SessionDeps {
  kafka: Kafka; codec: Codec; topics: StreamTopics; positions: PositionLookup; log: Logger; limits: SessionLimits;
  /** Test-only: the start plan is shifted by one record (a gap), to see the resume check fail. */
  skipOnResume?: boolean;
  /** Told once, with the reason the stream ended. */
  onClose?: (name: CloseName) => void;
}

export interface Session {
  readonly strategy: string;
  /** Largest socket buffer seen, in bytes. */
  maxBuffered(): number;
  close(name: CloseName, field?: string): Promise<void>;
  done: Promise<void>;
}

export async function startSession(ws: WebSocket, strategy: StrategyConfig, hello: Hello, deps: SessionDeps): Promise<Session> {
  const { topics, codec, limits } = deps;
  const log = deps.log.child({ strategy: strategy.id });
  const symbols = new Set(hello.symbols);
  const names = [topics.riskDecisions, topics.orders, topics.executions, topics.quotes];
  let consumer: Consumer | null = null;
  let closed = false;
  let peak = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => { finish = r; });

  const close = async (name: CloseName, field?: string) => {
    if (closed) return;
    closed = true;
    deps.onClose?.(name);
    if (name !== 'GOING_AWAY') log.info({ close: name, field }, 'stream closed');
    try { ws.close(CLOSE[name], closeReason(name, field)); } catch { /* already gone */ }
    // A client that never reads never completes the closing handshake: do not wait for it for ever (one
    // that reads again within the delay still gets the close code behind what was queued).
    const kill = setTimeout(() => ws.terminate(), 5_000);
    kill.unref();
    const c = consumer;
    consumer = null;
    await c?.disconnect().catch((e) => log.warn({ err: e }, 'stream consumer disconnect failed'));
    finish();
  };
  ws.on('close', () => { void close('GOING_AWAY'); });

  const admin = deps.kafka.admin();
  await admin.connect();
  const ends = new Map<string, PartitionEnds[]>();
  try {
    for (const t of names) ends.set(t, (await topicEnds(admin, t)).map((p) => ({ partition: p.partition, low: p.low, high: p.high })));
  } finally {
    await admin.disconnect();
  }
  const plan = planStarts(ends, hello.resumeFrom, new Set([topics.quotes]));
  if (!plan.ok) {
    await close(plan.close, plan.field);
    return { strategy: strategy.id, maxBuffered: () => peak, close, done };
  }
  if (deps.skipOnResume && hello.resumeFrom) {
    for (const [t, m] of plan.starts) for (const [p, s] of m) if (hello.resumeFrom[t]?.[String(p)] !== undefined) m.set(p, s + 1n);
  }

  /** Resolves once the socket's queue is under the limit; false when the client was cut off instead. */
  async function drained(heartbeat: () => Promise<void>): Promise<boolean> {
    peak = Math.max(peak, ws.bufferedAmount);
    if (ws.bufferedAmount <= limits.maxBufferedBytes) return !closed;
    const until = Date.now() + limits.slowClientMs;
    while (!closed && ws.bufferedAmount > limits.maxBufferedBytes / 2) {
      if (Date.now() > until) { void close('SLOW_CLIENT'); return false; }
      await new Promise((r) => setTimeout(r, 20));
      await heartbeat().catch(() => {});
    }
    return !closed;
  }

  const send = (m: StreamMessage) => { if (!closed) ws.send(JSON.stringify(m)); };

  async function decode(topic: string, m: KafkaMessage): Promise<Owned | null> {
    if (m.value === null) return null;
    if (topic === topics.riskDecisions) return { kind: 'decision', value: await codec.decode('RiskDecision', m.value) };
    if (topic === topics.orders) return { kind: 'order', value: await codec.decode('Order', m.value) };
    if (topic === topics.executions) return { kind: 'execution', value: await codec.decode('ExecutionReport', m.value) };
    return { kind: 'quote', value: await codec.decode('Quote', m.value) };
  }

  send({ type: 'ready', strategy: strategy.id, account: strategy.account, from: plan.from });
  const c = deps.kafka.consumer({
    groupId: `stream-${strategy.id}-${randomUUID()}`, readUncommitted: false, maxBytesPerPartition: limits.maxFetchBytes, maxBytes: limits.maxFetchBytes * 4, maxWaitTimeInMs: 100,
  });
  await c.connect();
  await c.subscribe({ topics: names, fromBeginning: true });
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      const next = plan.starts.get(batch.topic);
      const start = next?.get(batch.partition) ?? 0n;
      const owned: { m: KafkaMessage; r: Owned }[] = [];
      for (const m of batch.messages) {
        if (closed) return;
        // Fetched before the seek took effect, or again after the consumer restarted: already handled.
        if (BigInt(m.offset) < start) continue;
        let r: Owned | null;
        try {
          r = await decode(batch.topic, m);
        } catch (e) {
          // A record we cannot decode is skipped, not sent half-made; the processors dead-letter it.
          log.warn({ err: e, topic: batch.topic, partition: batch.partition, offset: m.offset }, 'stream: record skipped');
          continue;
        }
        if (r !== null && visibleTo(strategy.id, symbols, r)) owned.push({ m, r });
      }
      const fills = owned.flatMap(({ r }) => (r.kind === 'execution' && movesPosition(r.value) ? [r.value.executionId] : []));
      const booked = fills.length > 0
        ? await deps.positions.booked(batch.partition, BigInt(owned[owned.length - 1].m.offset), fills).catch((e) => {
          log.warn({ err: e }, 'stream: positions not read');
          return new Map();
        })
        : new Map();
      for (const { m, r } of owned) {
        const at = { topic: batch.topic, partition: batch.partition, offset: m.offset };
        switch (r.kind) {
          case 'decision': send({ type: 'decision', ...at, decision: r.value }); break;
          case 'order': send({ type: 'order', ...at, order: r.value }); break;
          case 'execution': send({ type: 'execution', ...at, execution: r.value, position: booked.get(r.value.executionId) ?? null }); break;
          case 'quote': send({ type: 'quote', ...at, quote: r.value }); break;
          default: {
            const never: never = r;
            throw new Error(`unhandled record ${String(never)}`);
          }
        }
        next?.set(batch.partition, BigInt(m.offset) + 1n);
        if (!(await drained(heartbeat))) return;
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last && BigInt(last.offset) + 1n > (next?.get(batch.partition) ?? 0n)) next?.set(batch.partition, BigInt(last.offset) + 1n);
    },
  });
  // The group never commits: a consumer that restarts after a crash rejoins at the topics' start, so it
  // is put back where this stream had got to (and anything before that is skipped above in any case).
  c.on(c.events.GROUP_JOIN, () => {
    for (const [topic, m] of plan.starts) for (const [partition, offset] of m) c.seek({ topic, partition, offset: offset.toString() });
  });
  for (const [topic, m] of plan.starts) for (const [partition, offset] of m) c.seek({ topic, partition, offset: offset.toString() });
  // Closed while the consumer was starting: close() could not reach it.
  if (closed) await c.disconnect();
  else consumer = c;
  c.on(c.events.CRASH, ({ payload }) => {
    if (!payload.restart) { log.warn({ err: payload.error }, 'stream consumer crashed'); void close('INTERNAL'); }
  });
  return { strategy: strategy.id, maxBuffered: () => peak, close, done };
}
