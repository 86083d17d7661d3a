// Consumption patterns shared by processors: reading a topic to its end (state rebuild) and the
// exactly-once consume-transform-produce loop (Kafka transactions with offsets inside).
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage, Producer, IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import { ACCOUNT_HEADER, AccountPartitioner } from './kafka.ts';

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
      for (const p of await admin.fetchTopicOffsets(topic)) {
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

export interface TransactionalLoop { start(): Promise<void>; stop(): Promise<void>; producer: Producer; consumer: Consumer }

export interface TransactionalLoopOptions {
  kafka: Kafka;
  log: Logger;
  groupId: string;
  /** Stable per instance: a restarted instance fences its previous incarnation's open transaction. */
  transactionalId: string;
  topic: string;
  /** Turns one partition's batch into output records. May update staged state; `onAbort` undoes it. */
  handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]>;
  onCommitted?(): void;
  onAbort?(error: unknown): Promise<void>;
  /** Wraps each transaction, e.g. a lock shared with another writer on the same producer. */
  serialize?<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * The coordinator answers CONCURRENT_TRANSACTIONS while it is still completing the previous commit;
 * kafkajs surfaces it instead of retrying. It is safe to retry the same call shortly after.
 */
async function whileConcurrent<T>(fn: () => Promise<T>, tries = 50): Promise<T> {
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

export function createTransactionalLoop(o: TransactionalLoopOptions): TransactionalLoop {
  const producer = o.kafka.producer({
    transactionalId: o.transactionalId, idempotent: true, maxInFlightRequests: 1,
    createPartitioner: AccountPartitioner, transactionTimeout: 30000,
  });
  const consumer = o.kafka.consumer({
    groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: 20, sessionTimeout: 6000, heartbeatInterval: 1000,
  });
  return {
    producer, consumer,
    async start() {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const run = o.serialize ?? ((fn) => fn());
          await run(async () => {
          const txn = await producer.transaction();
          try {
            const out = await o.handle(batch.messages, batch.partition);
            if (out.length > 0) {
              const byTopic = new Map<string, { key: string; value: Buffer; headers: IHeaders }[]>();
              for (const r of out) {
                let list = byTopic.get(r.topic);
                if (!list) byTopic.set(r.topic, (list = []));
                list.push({ key: r.key, value: r.value, headers: accountHeaders(r.account, r.headers) });
              }
              await whileConcurrent(() => txn.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }));
            }
            const next = (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
            await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] }));
            await txn.commit();
            o.onCommitted?.();
            await heartbeat();
          } catch (e) {
            o.log.warn({ err: e, partition: batch.partition }, 'transaction aborted; batch will be re-read');
            await txn.abort().catch(() => {});
            await o.onAbort?.(e);
            throw e;
          }
          });
        },
      });
    },
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
