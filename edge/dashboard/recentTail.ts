// Follows topics from their last few records instead of their beginning: risk-decisions, orders and
// executions keep everything forever, and a dashboard needs only the recent past plus what comes next.
// A private group (never committed) seeks each partition to its start offset before the first fetch;
// records before that offset are dropped as well, should a fetch ever race the seek.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from '../../streams/runtime/consume.ts';
import { FETCH_MAX_WAIT_MS, fetchPacer } from '../../streams/runtime/kafka.ts';

export const DASHBOARD_FETCH_WINDOW_MS = 200;

export interface RecentTail { caughtUp: Promise<void>; stop(): Promise<void> }

export async function startRecentTail(
  kafka: Kafka, topics: string[], perPartition: number,
  onMessage: (topic: string, message: KafkaMessage, partition: number) => Promise<void> | void,
): Promise<RecentTail> {
  const admin = kafka.admin();
  await admin.connect();
  const pending = new Map<string, bigint>();
  const from = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const p of await topicEnds(admin, topic)) {
        const high = BigInt(p.high), low = BigInt(p.low);
        if (high > low) pending.set(`${topic}:${p.partition}`, high - 1n);
        from.set(`${topic}:${p.partition}`, high - BigInt(perPartition) > low ? high - BigInt(perPartition) : low);
      }
    }
  } finally {
    await admin.disconnect();
  }
  // A screen refreshed a few times a second: one fetch per window, not one per record.
  const consumer = kafka.consumer({ groupId: `dashboard-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
  const pace = fetchPacer(consumer, DASHBOARD_FETCH_WINDOW_MS);
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => { markCaughtUp = r; });
  if (pending.size === 0) markCaughtUp();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = `${payload.topic}:${payload.partition}`;
    const target = pending.get(key);
    if (target !== undefined && BigInt(payload.lastOffset) >= target) {
      pending.delete(key);
      if (pending.size === 0) markCaughtUp();
    }
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const start = from.get(`${batch.topic}:${batch.partition}`) ?? 0n;
      for (const m of batch.messages) if (BigInt(m.offset) >= start) await onMessage(batch.topic, m, batch.partition);
      if (pending.size === 0) await pace(); // catching up goes at full speed
    },
  });
  for (const [key, offset] of from) {
    const i = key.lastIndexOf(':');
    consumer.seek({ topic: key.slice(0, i), partition: Number(key.slice(i + 1)), offset: offset.toString() });
  }
  return { caughtUp, stop: () => consumer.disconnect() };
}
