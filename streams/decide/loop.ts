// Exactly-once consume-transform-produce for a processor that several instances share through one
// consumer group, built for kafkajs, which cannot send the consumer group metadata with sendOffsets
// (no KIP-447): the broker would accept an offset commit from an instance that already lost the partition.
//
// Zombie fencing: one transactional producer PER INPUT PARTITION, with an id derived from the group and
// the partition (`<base>.p<n>`), not from the instance. Whoever is assigned partition n initialises
// that id before touching the partition; the coordinator then bumps the epoch, finishes or aborts
// the previous owner's open transaction, and refuses everything the previous owner sends after that.
// This is Kafka Streams' original exactly-once design (EOS v1). A per-instance id (what a restart
// fences) cannot fence an instance that was dropped from the group while still alive (a long GC
// pause, a network split), and one dead with an open transaction would hold read_committed readers
// back for the whole transaction timeout.
//
// Once fenced in, and before the first batch of the new assignment, `onAssigned` runs: the decide
// processor waits there until its state holds every decision committed so far, so signals the
// previous owner decided but whose offsets we were handed before its last commit are recognised and
// skipped. Producers are re-initialised on every assignment, even for partitions kept: whether another
// member held one in between cannot be known here.
//
// Partitions are processed side by side (each has its own producer, so their transactions overlap
// instead of queueing behind each other). What touches every partition at once (fencing in a new
// assignment, rebuilding the state after an abort) waits until no transaction is open and holds the
// others back while it runs.
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { OFFSETS_EVERY_MS, topicMessages, whileConcurrent, type OutRecord } from '../runtime/consume.ts';
import { AccountPartitioner, FETCH_MAX_WAIT_MS } from '../runtime/kafka.ts';
import { removePredecessors } from '../runtime/membership.ts';

export interface PartitionedLoopOptions {
  kafka: Kafka;
  log: Logger;
  groupId: string;
  /** Shared by every instance of the processor: `<base>.p<partition>`. */
  transactionalIdBase: string;
  topic: string;
  /** This instance's Kafka client id: members of the group carrying it are its dead predecessors, removed before joining (membership.ts). */
  instanceClientId?: string;
  /** Turns one partition's batch into output records. May update staged state; `onAbort` undoes it. */
  handle(messages: KafkaMessage[], partition: number): Promise<OutRecord[]>;
  /** After the producers of a new assignment are fenced in, before its first batch. */
  onAssigned(partitions: number[], keepAlive: () => Promise<void>): Promise<void>;
  onAbort(error: unknown): Promise<void>;
  /** Test hooks (runtime/faults.ts): after a batch's records are sent, before its commit; after the commit. */
  beforeCommit?(out: readonly OutRecord[], partition: number): void;
  afterCommit?(partition: number): Promise<void>;
}

export interface PartitionedLoop { start(): Promise<void>; stop(): Promise<void>; consumer: Consumer }

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'INVALID_TXN_STATE']);

/** Many holders of `shared` at once, or one of `exclusive` and nobody else. */
export function createSharedLock() {
  let active = 0;
  let idle: (() => void)[] = [];
  let exclusive: Promise<void> | null = null;
  return {
    async shared<T>(fn: () => Promise<T>): Promise<T> {
      while (exclusive) await exclusive;
      active++;
      try {
        return await fn();
      } finally {
        active--;
        if (active === 0) { for (const r of idle) r(); idle = []; }
      }
    },
    async exclusive<T>(fn: () => Promise<T>): Promise<T> {
      while (exclusive) await exclusive;
      let release!: () => void;
      exclusive = new Promise<void>((r) => { release = r; });
      try {
        while (active > 0) await new Promise<void>((r) => idle.push(r));
        return await fn();
      } finally {
        exclusive = null;
        release();
      }
    },
  };
}


export function createPartitionedLoop(o: PartitionedLoopOptions): PartitionedLoop {
  const consumer = o.kafka.consumer({
    groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS, sessionTimeout: 15000, heartbeatInterval: 1000,
  });
  const producers = new Map<number, Producer>();
  let assignment: number[] = [];
  let generation = 0;
  let synced = -1;

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assignment = [...(payload.memberAssignment[o.topic] ?? [])].sort((a, b) => a - b);
    generation += 1;
    o.log.info({ partitions: assignment }, 'partitions assigned');
  });

  async function retireProducers(): Promise<void> {
    await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => {})));
    producers.clear();
  }

  async function sync(extra: number, keepAlive: () => Promise<void>): Promise<void> {
    // An instance thawed from a long pause may not know yet that it lost its partitions: a heartbeat
    // first makes it find out (and rejoin) instead of fencing the members that now own them.
    await keepAlive();
    const gen = generation;
    const partitions = assignment.includes(extra) ? assignment : [...assignment, extra];
    await retireProducers();
    // Side by side: a restarted instance fences all its partitions in one round of requests, not one by one.
    await Promise.all(partitions.map(async (p) => {
      const producer = o.kafka.producer({
        transactionalId: `${o.transactionalIdBase}.p${p}`, idempotent: true, maxInFlightRequests: 1,
        createPartitioner: AccountPartitioner, transactionTimeout: 30000,
      });
      producers.set(p, producer); // retired with the others if this sync fails
      await producer.connect();
      // kafkajs initialises the transactional id lazily; an empty transaction does it now, which is
      // the moment the previous owner is fenced and its open transaction completed or aborted.
      const txn = await whileConcurrent(() => producer.transaction());
      await txn.abort();
    }));
    await o.onAssigned(partitions, keepAlive);
    // Whoever held a partition in between may have committed past these: never send them now.
    unsent.clear();
    synced = gen;
  }

  /** Partitions whose `handle` may have staged state that only a commit makes true. */
  const staged = new Set<number>();
  const lock = createSharedLock();
  /**
   * Offsets of batches that wrote nothing, not committed yet, per partition. Such a batch needs no
   * transaction of its own: its offsets ride with the partition's next batch that writes, or are
   * committed alone by the timer within OFFSETS_EVERY_MS. Until then a successor re-reads those records,
   * which changes nothing: they wrote nothing the first time, and the state they are read against comes
   * from the topics. kafkajs sends nothing for a transaction in which nothing was sent, so a batch
   * that writes nothing costs no AddOffsets, TxnOffsetCommit or EndTxn.
   */
  const unsent = new Map<number, { topic: string; offset: string }>();
  /** One transaction at a time per partition: the batch's, or the timer's offsets-only one. */
  const turns = new Map<number, Promise<unknown>>();
  function inTurn<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const run = (turns.get(partition) ?? Promise.resolve()).then(fn, fn);
    turns.set(partition, run.catch(() => {}));
    return run;
  }
  let flushTimer: NodeJS.Timeout | null = null;

  async function runTransaction(producer: Producer, messages: KafkaMessage[], topic: string, partition: number): Promise<void> {
    const txn = await producer.transaction();
    try {
      staged.add(partition);
      const out = await o.handle(messages, partition);
      const next = (BigInt(messages[messages.length - 1].offset) + 1n).toString();
      if (out.length > 0) {
        await whileConcurrent(() => txn.sendBatch({ acks: -1, topicMessages: topicMessages(out) }));
        await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic, partitions: [{ partition, offset: next }] }] }));
      }
      o.beforeCommit?.(out, partition);
      await txn.commit();
      staged.delete(partition);
      if (out.length > 0) unsent.delete(partition);
      else unsent.set(partition, { topic, offset: next });
      await o.afterCommit?.(partition);
    } catch (e) {
      await txn.abort().catch(() => {});
      throw e;
    }
  }

  /** The timer's offsets-only transactions, for partitions whose last batches wrote nothing. */
  async function commitUnsent(): Promise<void> {
    for (const [partition, pending] of [...unsent]) {
      await inTurn(partition, () => lock.shared(async () => {
        const producer = producers.get(partition);
        if (unsent.get(partition) !== pending || synced !== generation || producer === undefined) return;
        const txn = await producer.transaction();
        try {
          await whileConcurrent(() => txn.sendOffsets({ consumerGroupId: o.groupId, topics: [{ topic: pending.topic, partitions: [{ partition, offset: pending.offset }] }] }));
          await txn.commit();
          if (unsent.get(partition) === pending) unsent.delete(partition);
        } catch (e) {
          await txn.abort().catch(() => {});
          o.log.info({ err: e, partition }, 'offsets of batches that wrote nothing not committed; the next batch or tick tries again');
        }
      })).catch(() => {});
    }
  }

  return {
    consumer,
    async start() {
      if (o.instanceClientId !== undefined) await removePredecessors(o.kafka, o.groupId, o.instanceClientId, o.log);
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      flushTimer = setInterval(() => { void commitUnsent(); }, OFFSETS_EVERY_MS);
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 64,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat, resolveOffset }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const current = () => synced === generation && producers.has(batch.partition);
          try {
            if (!current()) await lock.exclusive(async () => { if (!current()) await sync(batch.partition, heartbeat); });
            await inTurn(batch.partition, () => lock.shared(() => runTransaction(producers.get(batch.partition)!, batch.messages, batch.topic, batch.partition)));
          } catch (e) {
            const type = (e as { type?: string }).type;
            const fenced = type !== undefined && FENCED.has(type);
            if (fenced) {
              // Another member owns the partition now; this instance re-syncs after its next join.
              o.log.warn({ partition: batch.partition, type }, 'producer fenced: partition taken over');
              synced = -1;
            } else {
              o.log.warn({ err: e, partition: batch.partition }, 'transaction aborted; batch will be re-read');
            }
            if (staged.delete(batch.partition)) await lock.exclusive(() => o.onAbort(e));
            // kafkajs gives up on a consumer for good after a non-retriable error; being fenced is
            // ordinary here, so the consumer retries, rejoins and carries on with what it is given.
            throw fenced ? Object.assign(new Error(`producer fenced on partition ${batch.partition}`), { retriable: true }) : e;
          }
          // Committed: move kafkajs's fetch position past the batch (and its transaction marker).
          // Without auto-resolve nothing else does, and the same batch would be fetched again forever.
          resolveOffset(batch.messages[batch.messages.length - 1].offset);
          // A rebalance noticed here is not a failed transaction: the batch is committed.
          await heartbeat().catch((e: unknown) => o.log.info({ err: e }, 'heartbeat after commit: group rebalancing'));
        },
      });
    },
    async stop() {
      if (flushTimer) clearInterval(flushTimer);
      await commitUnsent();
      await consumer.disconnect();
      await retireProducers();
    },
  };
}
