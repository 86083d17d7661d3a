// One Kafka transaction as the decide processor and the connector run it per batch (begin, one record
// with acks=all, the consumer offset, commit), timed step by step on the same broker. Each transactional
// stage of the path costs at least this, on top of the floor's produce → consume hop.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createBenchTopic } from './benchTopic.ts';
import { createLatencyHistogram, type LatencySummary } from './hist.ts';

export interface TxnBench { transactions: number; gapMs: number; send: LatencySummary; offsets: LatencySummary; commit: LatencySummary; total: LatencySummary }

export async function benchTxn(kafka: Kafka, transactions = 200, gapMs = 10): Promise<TxnBench> {
  const topic = `bench-txn-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createBenchTopic(admin, topic, 1);
  const producer = kafka.producer({ transactionalId: `bench-txn-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const h = { send: createLatencyHistogram(), offsets: createLatencyHistogram(), commit: createLatencyHistogram(), total: createLatencyHistogram() };
  try {
    for (let i = 0; i < transactions; i++) {
      const t0 = performance.now();
      const txn = await producer.transaction();
      await txn.send({ topic, acks: -1, messages: [{ key: String(i), value: String(i) }] });
      const t1 = performance.now();
      await txn.sendOffsets({ consumerGroupId: `bench-txn-${topic}`, topics: [{ topic, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
      const t2 = performance.now();
      await txn.commit();
      const t3 = performance.now();
      // The first few warm the connections and the coordinator up.
      if (i >= 10) { h.send.recordMs(t1 - t0); h.offsets.recordMs(t2 - t1); h.commit.recordMs(t3 - t2); h.total.recordMs(t3 - t0); }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
  return { transactions: transactions - 10, gapMs, send: h.send.summary(), offsets: h.offsets.summary(), commit: h.commit.summary(), total: h.total.summary() };
}
