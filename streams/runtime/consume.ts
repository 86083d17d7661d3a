// Pieces shared by the processors: reading a topic to its end (state rebuild), output records with the
// account header, the transaction retry and a lock. The transactional loops themselves live with their
// processors (streams/decide/loop.ts, connectors/orderLoop.ts).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage, IHeaders } from 'kafkajs';
import { ACCOUNT_HEADER } from './kafka.ts';

/**
 * The longest a transactional loop leaves a partition's offsets out of its transactions when its batches
 * write nothing (streams/decide/loop.ts, connectors/orderLoop.ts): they ride with the next batch that
 * writes, or go alone after this long. Re-reading records that wrote nothing changes nothing.
 */
export const OFFSETS_EVERY_MS = 5_000;

/**
 * A topic's offsets per partition. Right after a topic is created the broker may still answer
 * NOT_LEADER for it, which kafkajs passes up; such retriable answers are tried again for a while.
 */
export async function topicEnds(admin: Admin, topic: string): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  for (let i = 1; ; i++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (e) {
      if ((e as { retriable?: boolean }).retriable !== true || i >= 50) throw e;
      await new Promise((r) => setTimeout(r, Math.min(20 * i, 200)));
    }
  }
}

export interface OutRecord { topic: string; key: string; value: Buffer; account: string; headers?: IHeaders }

/**
 * Reads `topics` from the beginning up to the last stable offset they had when called, handing each
 * record (committed only) to `onMessage` in partition order. Used to rebuild in-memory state on start.
 */
export async function readToEnd(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage, partition: number) => Promise<void> | void,
): Promise<number> {
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
  if (pending.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `rebuild-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  let count = 0;
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const settle = (topic: string, partition: number, last: string) => {
        const key = `${topic}:${partition}`;
        const target = pending.get(key);
        if (target !== undefined && BigInt(last) >= target) pending.delete(key);
        if (pending.size === 0) resolve();
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => settle(payload.topic, payload.partition, payload.lastOffset));
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void consumer.subscribe({ topics, fromBeginning: true }).then(() => consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) { await onMessage(batch.topic, m, batch.partition); count++; }
        },
      })).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}

/**
 * The coordinator answers CONCURRENT_TRANSACTIONS while it is still completing the previous commit;
 * kafkajs surfaces it instead of retrying. It is safe to retry the same call shortly after.
 */
export async function whileConcurrent<T>(fn: () => Promise<T>, tries = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || i >= tries) throw e;
      await new Promise((r) => setTimeout(r, Math.min(5 * i, 50)));
    }
  }
}

/** A one-at-a-time lock: callers run in arrival order. */
export function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

export const accountHeaders = (account: string, extra?: IHeaders): IHeaders => ({ ...extra, [ACCOUNT_HEADER]: account });

/** Output records grouped by topic, in order, with their account header: one `sendBatch` carries them all. */
export function topicMessages(out: readonly OutRecord[]): { topic: string; messages: { key: string; value: Buffer; headers: IHeaders }[] }[] {
  const byTopic = new Map<string, { key: string; value: Buffer; headers: IHeaders }[]>();
  for (const r of out) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push({ key: r.key, value: r.value, headers: accountHeaders(r.account, r.headers) });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
