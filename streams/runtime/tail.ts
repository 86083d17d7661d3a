// Tails topics from the beginning with a private group (no committed offsets): state that every
// instance needs in full (control, quotes, executions). `caughtUp` resolves once the tail has read
// what the topics held when it started, so a processor can hold work until its state is current.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from './consume.ts';

export interface Tail { caughtUp: Promise<void>; stop(): Promise<void> }

export async function startTail(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage) => Promise<void> | void,
): Promise<Tail> {
  const admin = kafka.admin();
  await admin.connect();
  const pending = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const p of await topicEnds(admin, topic)) {
        if (BigInt(p.high) > BigInt(p.low)) pending.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `tail-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 50 });
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
      for (const m of batch.messages) await onMessage(batch.topic, m);
    },
  });
  return { caughtUp, stop: () => consumer.disconnect() };
}
