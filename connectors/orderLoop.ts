// The connector's consume-transform-produce loop on `orders`: one Kafka transaction carries the
// execution reports and the consumer offset, so an order's offset is committed only once its outcome
// is on `executions`. Differs from streams/runtime/consume.ts in two ways the connector needs: the
// committed batch is resolved locally (kafkajs otherwise fetches it again from the old position, since
// offsets committed through a transaction never reach the consumer's own bookkeeping), and the venue's
// halt can pause consumption.
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { OFFSETS_EVERY_MS, topicMessages, whileConcurrent, type OutRecord } from '../streams/runtime/consume.ts';
import { AccountPartitioner, FETCH_MAX_WAIT_MS } from '../streams/runtime/kafka.ts';
import { removePredecessors } from '../streams/runtime/membership.ts';
import { CoPartitionAssigner } from './coPartition.ts';

export interface OrderLoopOptions {
  kafka: Kafka;
  log: Logger;
  groupId: string;
  /** Stable per instance: a restarted instance fences its previous incarnation's open transaction. */
  transactionalId: string;
  /** This instance's Kafka client id: members of the group carrying it are its dead predecessors, removed before joining (membership.ts). */
  instanceClientId?: string;
  topic: string;
  /** Cancel requests (cancel-requests), read in the same group and transactions as `orders`, co-partitioned with it. */
  cancelTopic?: string;
  /** The batches of one transaction (one per topic-partition), in the order they arrived. */
  handle(batches: { messages: KafkaMessage[]; partition: number; topic: string }[]): Promise<OutRecord[]>;
  onCommitted(): void;
  onAbort(error: unknown): void;
  /** A new assignment (this instance's partitions of the topic): orders from before it may have been sent by the previous owner. */
  onAssigned(partitions: number[]): void;
  /** The group is rebalancing: until the next assignment this instance owns nothing for sure. */
  onRebalancing(): void;
  /** Wraps each transaction: the runtime's lock shared with its other writers. */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
}


interface Pending {
  messages: KafkaMessage[];
  partition: number;
  topic: string;
  lastOffset: string;
  resolveOffset(offset: string): void;
  done(error?: unknown): void;
}

export function createOrderLoop(o: OrderLoopOptions) {
  const producer = o.kafka.producer({
    transactionalId: o.transactionalId, idempotent: true, maxInFlightRequests: 1,
    createPartitioner: AccountPartitioner, transactionTimeout: 30000,
  });
  const consumer = o.kafka.consumer({
    groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS, sessionTimeout: 15000, heartbeatInterval: 1000,
    partitionAssigners: [CoPartitionAssigner],
  });
  const topics = o.cancelTopic === undefined ? [o.topic] : [o.topic, o.cancelTopic];
  let paused = false;
  let running = false;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => o.onAssigned(payload.memberAssignment[o.topic] ?? []));
  consumer.on(consumer.events.REBALANCING, () => { unsent = new Map(); o.onRebalancing(); });

  // Group commit: the batches of every partition that arrive together share one transaction (one
  // round of AddPartitions / Produce / AddOffsets / TxnOffsetCommit / EndTxn instead of one per
  // partition). A round that fails fails all its batches; each is fetched again.
  let queue: Pending[] = [];
  let draining = false;
  /**
   * Offsets of rounds that wrote nothing (orders for other venues, ones already answered), not yet
   * committed, by topic and partition: they ride with the next round that writes, or the timer commits
   * them within OFFSETS_EVERY_MS. Re-reading such a round changes nothing, and kafkajs sends nothing for
   * a transaction in which nothing was sent. Dropped on a rebalance: the partition may be another's.
   */
  let unsent = new Map<string, { topic: string; partition: number; offset: string }>();
  let flushTimer: NodeJS.Timeout | null = null;

  // The entries are read once: an iterator (a Map's values()) spread per topic would leave the second
  // topic (cancel-requests) with nothing, and its offsets were never committed.
  const offsetsOf = (entries: Iterable<{ topic: string; partition: number; offset: string }>) => {
    const all = [...entries];
    return topics
      .map((topic) => ({ topic, partitions: all.filter((e) => e.topic === topic).map((e) => ({ partition: e.partition, offset: e.offset })) }))
      .filter((t) => t.partitions.length > 0);
  };

  async function commitRound(round: Pending[]): Promise<void> {
    const txn = await producer.transaction();
    try {
      const out = await o.handle(round.map((p) => ({ messages: p.messages, partition: p.partition, topic: p.topic })));
      const reached = new Map(unsent);
      for (const p of round) reached.set(`${p.topic}:${p.partition}`, { topic: p.topic, partition: p.partition, offset: (BigInt(p.messages[p.messages.length - 1].offset) + 1n).toString() });
      if (out.length > 0) {
        await whileConcurrent(() => txn.sendBatch({ acks: -1, topicMessages: topicMessages(out) }));
        await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: offsetsOf(reached.values()) }));
      }
      await txn.commit();
      unsent = out.length > 0 ? new Map() : reached;
      o.onCommitted();
    } catch (e) {
      await txn.abort().catch(() => {});
      o.onAbort(e);
      throw e;
    }
  }

  /** The timer's offsets-only transaction, between rounds. */
  async function commitUnsent(): Promise<void> {
    if (draining || unsent.size === 0) return;
    draining = true;
    const pending = unsent;
    try {
      await o.serialize(async () => {
        if (unsent !== pending) return;
        const txn = await producer.transaction();
        try {
          await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: offsetsOf(pending.values()) }));
          await txn.commit();
          if (unsent === pending) unsent = new Map();
        } catch (e) {
          await txn.abort().catch(() => {});
          o.log.info({ err: e }, 'offsets of rounds that wrote nothing not committed; the next round or tick tries again');
        }
      });
    } finally {
      draining = false;
      if (queue.length > 0) drain();
    }
  }

  function drain(): void {
    if (draining) return;
    draining = true;
    // One turn of the event loop lets the other partitions of the same fetch join the round.
    setImmediate(() => {
      void (async () => {
        while (queue.length > 0) {
          const round = queue;
          queue = [];
          try {
            await o.serialize(() => commitRound(round));
            for (const p of round) { p.resolveOffset(p.lastOffset); p.done(); }
          } catch (e) {
            for (const p of round) p.done(e);
          }
        }
        draining = false;
      })();
    });
  }

  return {
    async start() {
      await producer.connect();
      if (o.instanceClientId !== undefined) await removePredecessors(o.kafka, o.groupId, o.instanceClientId, o.log);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      flushTimer = setInterval(() => { void commitUnsent(); }, OFFSETS_EVERY_MS);
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 64,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat, resolveOffset }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          await new Promise<void>((resolve, reject) => {
            queue.push({
              messages: batch.messages, partition: batch.partition, topic: batch.topic, lastOffset: batch.lastOffset(), resolveOffset,
              done: (e) => (e === undefined ? resolve() : reject(e)),
            });
            drain();
          });
          await heartbeat();
        },
      });
      running = true;
      if (paused) consumer.pause(topics.map((topic) => ({ topic })));
    },
    pause() { paused = true; if (running) consumer.pause(topics.map((topic) => ({ topic }))); },
    resume() { paused = false; if (running) consumer.resume(topics.map((topic) => ({ topic }))); },
    async stop() {
      running = false;
      if (flushTimer) clearInterval(flushTimer);
      await commitUnsent();
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
