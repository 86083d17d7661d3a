// Position projection: `executions` → Postgres. The event row (hash-chained), the fold's effect on its
// position, the new position and the consumer offset commit in one SQL transaction, so a crash or a
// Postgres restart never loses or doubles one. This file only decodes and hands batches to the projector.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import { createProjector } from './projector.ts';
import { createPgStore } from './pgStore.ts';

export interface ProjectionOptions { kafka: Kafka; pool: pg.Pool; codec: Codec; log: Logger; topic: string; groupId: string }

export function createProjection(o: ProjectionOptions) {
  const consumer = o.kafka.consumer({ groupId: o.groupId, readUncommitted: false, maxWaitTimeInMs: 20, sessionTimeout: 15000, heartbeatInterval: 1000 });
  const projector = createProjector(createPgStore(o.pool, o.groupId, o.topic));
  // Postgres, not Kafka, holds the authoritative offset; a new assignment must not trust cached state.
  consumer.on(consumer.events.GROUP_JOIN, () => projector.reset());

  return {
    consumer,
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
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
          await heartbeat();
        },
      });
    },
    stop: () => consumer.disconnect(),
  };
}
