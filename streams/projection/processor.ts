// Position projection: `executions` → Postgres. The event row (hash-chained), the fold's effect on its
// position, the new position and the consumer offset commit in one SQL transaction, so a crash or a
// Postgres restart never loses or doubles one. This file only decodes and hands batches to the projector.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import { createProjector } from './projector.ts';
import { createPgStore, storedOffsets } from './pgStore.ts';
import { FETCH_MAX_WAIT_MS } from '../runtime/kafka.ts';
import { removePredecessors } from '../runtime/membership.ts';

/** How often Kafka's copy of the projection's offsets is brought up to date. */
const KAFKA_OFFSETS_EVERY_MS = 5_000;

export interface ProjectionOptions {
  kafka: Kafka; pool: pg.Pool; codec: Codec; log: Logger; topic: string; groupId: string;
  /** This instance's Kafka client id: members of the group carrying it are its dead predecessors, removed before joining (membership.ts). */
  instanceClientId?: string;
}

export function createProjection(o: ProjectionOptions) {
  const consumer = o.kafka.consumer({ groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS, sessionTimeout: 15000, heartbeatInterval: 1000 });
  const projector = createProjector(createPgStore(o.pool, o.groupId, o.topic));
  let generation = 0;
  let stopped = false;

  // Postgres, not Kafka, holds the authoritative offsets (committed with the rows). A new assignment
  // drops cached state and stays paused until it is positioned at them: Kafka's committed offsets may be
  // ahead (a fresh PG_SCHEMA to rebuild into) and must never make the projection skip records.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    projector.reset();
    applied.clear();
    const partitions = payload.memberAssignment[o.topic] ?? [];
    const mine = ++generation;
    if (partitions.length === 0) return;
    consumer.pause([{ topic: o.topic, partitions }]);
    void resumeAtStoredOffsets(partitions, mine);
  });

  /** Next offset per partition, applied to Postgres since Kafka's copy was last committed. */
  const applied = new Map<number, string>();
  let commitTimer: NodeJS.Timeout | null = null;
  async function commitApplied(): Promise<void> {
    if (applied.size === 0) return;
    const partitions = [...applied].map(([partition, offset]) => ({ topic: o.topic, partition, offset }));
    applied.clear();
    // Refused after a rebalance (the partition moved): the new owner commits its own.
    await consumer.commitOffsets(partitions).catch((e: unknown) => o.log.debug({ err: e }, 'Kafka copy of the projection offsets not committed'));
  }

  async function resumeAtStoredOffsets(partitions: number[], mine: number): Promise<void> {
    for (let attempt = 1; !stopped && mine === generation; attempt++) {
      try {
        const stored = await storedOffsets(o.pool, o.groupId, o.topic);
        if (stopped || mine !== generation) return;
        for (const p of partitions) consumer.seek({ topic: o.topic, partition: p, offset: (stored.get(p) ?? 0n).toString() });
        consumer.resume([{ topic: o.topic, partitions }]);
        return;
      } catch (e) {
        o.log.warn({ err: e, attempt }, 'projection cannot read its offsets from Postgres yet; partitions stay paused');
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)));
      }
    }
  }

  return {
    consumer,
    async start() {
      if (o.instanceClientId !== undefined) await removePredecessors(o.kafka, o.groupId, o.instanceClientId, o.log);
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      // Kafka's copy of the offsets only informs tools (Postgres holds the real ones, see above): it is
      // committed every few seconds, not after every batch, sparing the broker a request per batch
      // (kafkajs's autoCommitInterval does not do that: its batch loop commits after every batch).
      commitTimer = setInterval(() => { void commitApplied(); }, KAFKA_OFFSETS_EVERY_MS);
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          if (batch.messages.length === 0) return;
          // One at a time: the first record of a new schema id fetches it once; in parallel, every
          // record of the batch would ask the registry for it.
          const messages = [];
          for (const m of batch.messages) messages.push({ offset: m.offset, event: await o.codec.decode('ExecutionReport', m.value!) });
          let plan;
          try {
            plan = await projector.applyBatch(batch.partition, messages);
          } catch (e) {
            o.log.warn({ err: e, partition: batch.partition }, 'projection batch rolled back; it will be re-read');
            throw e;
          }
          for (const e of plan.refused) {
            o.log.error({ partition: batch.partition, executionId: e.executionId, type: e.type }, 'execution stored but left out of the position fold: amendment without refExecutionId');
          }
          o.log.debug({ partition: batch.partition, stored: plan.executions.length, duplicates: plan.duplicates, redelivered: plan.redelivered }, 'projection batch');
          applied.set(batch.partition, (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString());
          await heartbeat();
        },
      });
    },
    async stop() {
      stopped = true;
      if (commitTimer) clearInterval(commitTimer);
      await commitApplied();
      await consumer.disconnect();
    },
  };
}
