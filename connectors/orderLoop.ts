// The connector's consume-transform-produce loop on `orders`: one Kafka transaction carries the
// execution reports and the consumer offset, so an order's offset is committed only once its outcome
// is on `executions`. Differs from streams/runtime/consume.ts in two ways the connector needs: the
// committed batch is resolved locally (kafkajs otherwise fetches it again from the old position, since
// offsets committed through a transaction never reach the consumer's own bookkeeping), and the venue's
// halt can pause consumption.
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { accountHeaders, whileConcurrent, type OutRecord } from '../streams/runtime/consume.ts';
import { AccountPartitioner } from '../streams/runtime/kafka.ts';

export interface OrderLoopOptions {
  kafka: Kafka;
  log: Logger;
  groupId: string;
  /** Stable per instance: a restarted instance fences its previous incarnation's open transaction. */
  transactionalId: string;
  topic: string;
  handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]>;
  onCommitted(): void;
  onAbort(error: unknown): void;
  /** A new assignment: orders from before it may have been sent by the previous owner. */
  onAssigned(): void;
  /** Wraps each transaction: the runtime's lock shared with its other writers. */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
}


export function createOrderLoop(o: OrderLoopOptions) {
  const producer = o.kafka.producer({
    transactionalId: o.transactionalId, idempotent: true, maxInFlightRequests: 1,
    createPartitioner: AccountPartitioner, transactionTimeout: 30000,
  });
  const consumer = o.kafka.consumer({
    groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: 50, sessionTimeout: 15000, heartbeatInterval: 1000,
  });
  let paused = false;
  let running = false;
  consumer.on(consumer.events.GROUP_JOIN, () => o.onAssigned());

  return {
    async start() {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat, resolveOffset }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          await o.serialize(async () => {
            const txn = await producer.transaction();
            try {
              const out = await o.handle(batch.messages, batch.partition);
              if (out.length > 0) {
                const messages = out.map((r) => ({ key: r.key, value: r.value, headers: accountHeaders(r.account, r.headers) as IHeaders }));
                await whileConcurrent(() => txn.sendBatch({ acks: -1, topicMessages: [{ topic: out[0].topic, messages }] }));
              }
              const next = (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
              await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] }));
              await txn.commit();
              resolveOffset(batch.lastOffset());
              o.onCommitted();
            } catch (e) {
              await txn.abort().catch(() => {});
              o.onAbort(e);
              throw e;
            }
          });
          await heartbeat();
        },
      });
      running = true;
      if (paused) consumer.pause([{ topic: o.topic }]);
    },
    pause() { paused = true; if (running) consumer.pause([{ topic: o.topic }]); },
    resume() { paused = false; if (running) consumer.resume([{ topic: o.topic }]); },
    async stop() {
      running = false;
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
