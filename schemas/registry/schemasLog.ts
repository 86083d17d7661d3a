// The registry's durable log: the compacted `_schemas` topic. Opening it folds every record up to the
// high watermark seen at start; appending writes a decision's records in one produce request.
import { randomUUID } from 'node:crypto';
import { Partitioners, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { RegistryEvent } from './model.ts';
import { fromRecord, toRecord } from './records.ts';

const REPLAY_TIMEOUT_MS = 60_000;

export interface SchemasLog {
  /** Creates the topic if missing, folds it into `apply`, and connects the producer; resolves to the records applied. */
  open(apply: (event: RegistryEvent) => void): Promise<number>;
  /**
   * Writes the records (acks=all) before anyone sees them. They share one partition and one
   * produce request, so Kafka appends them as one batch: a subject's deletes land together or not at all.
   */
  append(events: readonly RegistryEvent[]): Promise<void>;
  close(): Promise<void>;
}

export function createSchemasLog({ kafka, topic, log }: { kafka: Kafka; topic: string; log: Logger }): SchemasLog {
  const admin = kafka.admin();
  let producer: Producer | null = null;

  async function ensureTopic(): Promise<void> {
    // Checked first because kafkajs logs TOPIC_ALREADY_EXISTS at error level on every restart.
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    log.info({ topic }, 'created schemas topic');
  }

  function applyRecord(message: KafkaMessage, apply: (event: RegistryEvent) => void): boolean {
    try {
      // A null value is a tombstone: a permanent delete, or a config or mode removed.
      const event = fromRecord(message.key?.toString() ?? 'null', message.value?.toString() ?? null);
      if (event !== null) apply(event);
      return event !== null;
    } catch (err) {
      log.warn({ err, topic, offset: message.offset }, 'skipping unreadable schemas record');
      return false;
    }
  }

  /** Reads the topic from the beginning up to the high watermark seen at start. */
  async function replay(apply: (event: RegistryEvent) => void): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    const pending = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
    if (pending.size === 0) return 0;
    const groupId = `schema-registry-replay-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    let applied = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`replay of ${topic} did not reach its high watermark in ${REPLAY_TIMEOUT_MS} ms`)), REPLAY_TIMEOUT_MS);
        const eachBatch = async ({ batch }: EachBatchPayload): Promise<void> => {
          const high = pending.get(batch.partition);
          if (high === undefined) return;
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= high) break;
            if (applyRecord(message, apply)) applied += 1;
          }
          // lastOffset() also covers batches that compaction emptied.
          if (BigInt(batch.lastOffset()) + 1n >= high) pending.delete(batch.partition);
          if (pending.size === 0) resolve();
        };
        consumer.run({ autoCommit: false, eachBatch }).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return applied;
  }

  return {
    async open(apply) {
      await admin.connect();
      await ensureTopic();
      const applied = await replay(apply);
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return applied;
    },
    async append(events) {
      if (producer === null) throw new Error('registry is not started');
      if (events.length === 0) return;
      await producer.send({ topic, acks: -1, messages: events.map(toRecord) });
    },
    async close() {
      await producer?.disconnect();
      producer = null;
      await admin.disconnect();
    },
  };
}
