// Reads a fixed range of a topic: from a start (beginning, an offset, a time) to the end offsets the
// topic had when the read began, so a replay of a live topic terminates. Committed records only.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from '../runtime/consume.ts';

export type ReadFrom = { kind: 'beginning' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; ms: number };

/** [start, end) per partition; `end` is the end offset when the read was planned. */
export interface PartitionRange { partition: number; start: bigint; end: bigint }

export async function planRanges(kafka: Kafka, topic: string, from: ReadFrom): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await topicEnds(admin, topic);
    const byTime = from.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, from.ms) : [];
    return ends.map((p) => {
      const low = BigInt(p.low);
      const end = BigInt(p.high);
      let start = low;
      if (from.kind === 'offset') start = from.offset;
      if (from.kind === 'time') start = BigInt(byTime.find((t) => t.partition === p.partition)?.offset ?? p.high);
      if (start < low) start = low;
      if (start > end) start = end;
      return { partition: p.partition, start, end };
    }).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

export interface ReadProgress { read: bigint; total: bigint }

/**
 * Hands every committed record of `ranges` to `onMessage`, in offset order within a partition. Resolves
 * once each partition reached its end, or as soon as `onMessage` returns 'stop'.
 */
export async function readRanges(
  kafka: Kafka, topic: string, ranges: readonly PartitionRange[],
  onMessage: (partition: number, message: KafkaMessage) => Promise<void | 'stop'> | void | 'stop',
  onProgress?: (p: ReadProgress) => void,
): Promise<void> {
  const pending = new Map(ranges.filter((r) => r.end > r.start).map((r) => [r.partition, r]));
  if (pending.size === 0) return;
  const reached = new Map<number, bigint>(ranges.map((r) => [r.partition, r.start]));
  const total = ranges.reduce((n, r) => n + (r.end - r.start), 0n);
  const progress = () => onProgress?.({ read: ranges.reduce((n, r) => n + (reached.get(r.partition)! - r.start), 0n), total });
  const consumer = kafka.consumer({ groupId: `audit-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      let stopped = false;
      const advance = (partition: number, next: bigint) => {
        const r = pending.get(partition);
        if (!r) return;
        if (next > reached.get(partition)!) reached.set(partition, next > r.end ? r.end : next);
        if (next >= r.end) pending.delete(partition);
        if (pending.size === 0) { stopped = true; resolve(); }
      };
      // A batch of only transaction markers or aborted records still moves the position.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic) advance(payload.partition, BigInt(payload.lastOffset) + 1n);
        progress();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void consumer.subscribe({ topic, fromBeginning: true }).then(() => consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const r = pending.get(batch.partition);
          for (const m of batch.messages) {
            if (stopped || !r) return;
            const offset = BigInt(m.offset);
            if (offset < r.start) continue; // fetched before the seek took effect
            if (offset >= r.end) { advance(batch.partition, r.end); return; }
            if ((await onMessage(batch.partition, m)) === 'stop') { stopped = true; resolve(); return; }
            advance(batch.partition, offset + 1n);
          }
        },
      })).then(() => {
        for (const r of pending.values()) consumer.seek({ topic, partition: r.partition, offset: r.start.toString() });
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}
