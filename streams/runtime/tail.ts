// Tails topics from the beginning with a private group (no committed offsets, read_committed): state
// that every instance needs in full (control, quotes, executions). It remembers how far it has handed
// records over, so a caller can wait until its state holds what the topics held at a given moment:
// `caughtUp` for the moment the tail started, `sync()` for the moment it is called. Offsets reported at
// the end of a batch include transaction markers and aborted records, so a partition whose last record
// is a commit marker still counts as read through.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from './consume.ts';
import { FETCH_MAX_WAIT_MS, fetchPacer } from './kafka.ts';

export interface Tail {
  /** Every record the topics held when the tail started has been handed to `onMessage`. */
  caughtUp: Promise<void>;
  /**
   * Resolves once every record `topics` (default: all the tail reads) held when called has been handed
   * to `onMessage`; rejects if the tail stops first, so a wait cut short never passes for caught up.
   */
  sync(topics?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface TailOptions {
  /**
   * Fetch at most once per this many ms while records flow (a fetch per window instead of one per
   * record; fetchPacer in kafka.ts): for state that may lag by that much. Not for control: a halt must apply at once.
   */
  coalesceMs?: number;
}

interface Waiter { pending: Map<string, bigint>; resolve(): void; reject(e: Error): void }

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

export async function startTail(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage, partition: number) => Promise<void> | void,
  options: TailOptions = {},
): Promise<Tail> {
  const admin = kafka.admin();
  await admin.connect();
  const handed = new Map<string, bigint>(); // last offset handed over per topic:partition
  const waiters = new Set<Waiter>();
  const settle = (w: Waiter) => {
    for (const [key, target] of w.pending) if ((handed.get(key) ?? -1n) >= target) w.pending.delete(key);
    if (w.pending.size === 0) { waiters.delete(w); w.resolve(); }
  };
  const wait = (pending: Map<string, bigint>) => new Promise<void>((resolve, reject) => {
    const w = { pending, resolve, reject };
    waiters.add(w);
    settle(w);
  });

  const caughtUp = wait(await lastOffsets(admin, topics));
  caughtUp.catch(() => {}); // stopped before catching up: the awaiting caller sees the rejection
  let live = false;
  void caughtUp.then(() => { live = true; }, () => {});
  const consumer = kafka.consumer({ groupId: `tail-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
  const pace = options.coalesceMs === undefined ? null : fetchPacer(consumer, options.coalesceMs);
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = `${payload.topic}:${payload.partition}`;
    const last = BigInt(payload.lastOffset);
    if (last > (handed.get(key) ?? -1n)) handed.set(key, last);
    for (const w of [...waiters]) settle(w);
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) await onMessage(batch.topic, m, batch.partition);
      if (live) await pace?.(); // catching up goes at full speed
    },
  });
  return {
    caughtUp,
    async sync(of = topics) { await wait(await lastOffsets(admin, of)); },
    async stop() {
      for (const w of waiters) w.reject(new Error('tail stopped'));
      waiters.clear();
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
