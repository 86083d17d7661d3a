// Tails topics from the beginning with a private group (no committed offsets): state that every
// instance needs in full (control, quotes, executions). `caughtUp` resolves once the tail has read
// what the topics held when it started, so a processor can hold work until its state is current;
// `sync()` does the same for what the topics hold at the moment it is called.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from './consume.ts';
import { fetchWindow } from './kafka.ts';

export interface Tail {
  caughtUp: Promise<void>;
  /** Resolves once every record the topics held when called has been handed to `onMessage`. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/** Last offset per `topic:partition` at this moment (partitions holding anything only). */
async function lastOffsets(kafka: Kafka, topics: string[]): Promise<Map<string, bigint>> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  const out = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const p of await topicEnds(admin, topic)) {
        if (BigInt(p.high) > BigInt(p.low)) out.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
      }
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}

export interface TailOptions {
  /**
   * Let the broker gather records for up to this long before answering (a fetch per window instead of
   * one per record): for state that may lag by that much. Not for control: a halt must apply at once.
   */
  coalesceMs?: number;
}

export async function startTail(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage, partition: number) => Promise<void> | void,
  options: TailOptions = {},
): Promise<Tail> {
  const done = new Map<string, bigint>(); // last offset handled per topic:partition
  const waiters = new Set<{ pending: Map<string, bigint>; resolve: () => void }>();
  const settle = (w: { pending: Map<string, bigint>; resolve: () => void }) => {
    for (const [key, target] of w.pending) if ((done.get(key) ?? -1n) >= target) w.pending.delete(key);
    if (w.pending.size === 0) { waiters.delete(w); w.resolve(); }
  };
  const waitFor = (pending: Map<string, bigint>) => new Promise<void>((resolve) => {
    const w = { pending, resolve };
    waiters.add(w);
    settle(w);
  });
  const caughtUp = waitFor(await lastOffsets(kafka, topics));
  const consumer = kafka.consumer({ groupId: `tail-${randomUUID()}`, readUncommitted: false, ...fetchWindow(options.coalesceMs) });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = `${payload.topic}:${payload.partition}`;
    const last = BigInt(payload.lastOffset);
    if (last > (done.get(key) ?? -1n)) done.set(key, last);
    for (const w of [...waiters]) settle(w);
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) await onMessage(batch.topic, m, batch.partition);
    },
  });
  return {
    caughtUp,
    async sync() { await waitFor(await lastOffsets(kafka, topics)); },
    stop: () => consumer.disconnect(),
  };
}
