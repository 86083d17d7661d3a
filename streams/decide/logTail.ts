// Tails topics from the beginning with a private group (no committed offsets, read_committed) and
// remembers how far it has handed records over, so the processor can wait until its state holds
// every record committed before a given moment: at start (`caughtUp`) and after taking over a
// partition (`barrier`), when what the previous owner committed must be known before deciding.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { topicEnds } from '../runtime/consume.ts';
import { FETCH_MAX_WAIT_MS } from '../runtime/kafka.ts';

export interface LogTail {
  /** Every record the topics held when the tail started has been handed over. */
  caughtUp: Promise<void>;
  /** Resolves once every record committed to `topics` before the call has been handed over. */
  barrier(topics: string[], onWait?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

interface Waiter { pending: Map<string, bigint>; resolve(): void; reject(e: Error): void }

const WAIT_TICK_MS = 500;

/** Last offset per `topic:partition` (high watermark − 1) of the partitions that hold anything. */
async function lastOffsets(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await topicEnds(admin, topic)) {
      if (BigInt(p.high) > BigInt(p.low)) out.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
    }
  }
  return out;
}

export async function startLogTail(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage) => Promise<void> | void, log: Logger,
): Promise<LogTail> {
  const admin = kafka.admin();
  await admin.connect();
  // Offsets reported at the end of a batch include transaction markers and aborted records, so a
  // partition whose last record is a commit marker still counts as read through.
  const handed = new Map<string, bigint>();
  const waiters = new Set<Waiter>();

  const settle = (w: Waiter) => {
    for (const [key, target] of w.pending) if ((handed.get(key) ?? -1n) >= target) w.pending.delete(key);
    if (w.pending.size === 0) {
      waiters.delete(w);
      w.resolve();
    }
  };
  const wait = (pending: Map<string, bigint>): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = { pending, resolve, reject };
      waiters.add(w);
      settle(w);
    });

  const initial = await lastOffsets(admin, topics);
  const consumer = kafka.consumer({ groupId: `tail-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = `${payload.topic}:${payload.partition}`;
    const last = BigInt(payload.lastOffset);
    if (last > (handed.get(key) ?? -1n)) handed.set(key, last);
    for (const w of [...waiters]) settle(w);
  });
  const caughtUp = wait(initial);
  caughtUp.catch(() => {}); // stopped before catching up: the awaiting caller sees the rejection
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) await onMessage(batch.topic, m);
    },
  });

  return {
    caughtUp,
    async barrier(barrierTopics, onWait) {
      const done = wait(await lastOffsets(admin, barrierTopics));
      const started = Date.now();
      for (;;) {
        const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), WAIT_TICK_MS).unref());
        if ((await Promise.race([done.then(() => 'done' as const), tick])) === 'done') return;
        // Another member's open transaction holds the stable offset back until it commits, aborts or
        // is fenced; meanwhile the caller keeps its group membership alive.
        await onWait?.();
        if (Date.now() - started > 10_000) log.warn({ topics: barrierTopics, waitedMs: Date.now() - started }, 'still waiting for the state to catch up');
      }
    },
    async stop() {
      // A wait cut short must not pass for caught up: whoever waited gives up its batch.
      for (const w of waiters) w.reject(new Error('state tail stopped'));
      waiters.clear();
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
