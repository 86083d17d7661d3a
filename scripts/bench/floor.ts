// The floor: a raw kafkajs produce (acks=all) → consume round trip on the same broker at a fixed rate.
// Nothing the pipeline does can be faster than one of these per hop.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createBenchTopic } from './benchTopic.ts';
import { atFixedRate, createLatencyHistogram, preciseNow, type LatencySummary } from './hist.ts';

export async function benchFloor(kafka: Kafka, rate: number, seconds: number): Promise<LatencySummary & { rate: number; achievedPerSec: number }> {
  const topic = `bench-floor-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createBenchTopic(admin, topic, 3);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `bench-floor-${randomUUID()}`, maxWaitTimeInMs: 5 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  // The clock starts once the group has its partitions (a new cluster's coordinator can take seconds).
  const joined = new Promise<void>((resolve) => { consumer.on(consumer.events.GROUP_JOIN, () => resolve()); });
  const hist = createLatencyHistogram();
  const total = rate * seconds;
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const now = preciseNow();
        for (const m of batch.messages) {
          hist.recordMs(now - Number(m.value!.toString()));
          received++;
        }
        lastAt = now;
        if (received >= total) resolve();
      },
    });
  });
  await Promise.race([joined, new Promise((r) => setTimeout(r, 30_000))]);
  await new Promise((r) => setTimeout(r, 200)); // the first fetch on its way
  firstAt = preciseNow();
  const sends: Promise<unknown>[] = [];
  await atFixedRate(rate, total, (i) => {
    sends.push(producer.send({ topic, acks: -1, messages: [{ key: String(i % 64), value: String(preciseNow()) }] }));
  });
  await Promise.all(sends);
  await Promise.race([done, new Promise((r) => setTimeout(r, 30000))]);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return { rate, ...hist.summary(), achievedPerSec: Math.round(received / ((lastAt - firstAt) / 1000)) };
}
