// kafkajs looks the coordinator up before every transactional request; streams/runtime/coordinators.ts
// keeps the answer per client. On the real broker: a run of transactions asks once per coordinator
// (transaction and group), every transaction still commits, and a metadata refresh forgets the answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readAll, isolatedEnv, testKafka } from '../helpers/env.ts';

describe('transaction coordinator lookups', () => {
  it('given ten transactions on one producer after three to warm up, then it asks for each coordinator once and all ten records are committed', async () => {
    const env = isolatedEnv();
    const kafka = testKafka(env);
    const topic = `${env.TOPIC_PREFIX}coordinators-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: -1 }], waitForLeaders: true });
    const producer = kafka.producer({ transactionalId: `coordinators-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    const lookups: string[] = [];
    producer.on(producer.events.REQUEST, ({ payload }) => { if (payload.apiName === 'GroupCoordinator') lookups.push(payload.apiName); });
    await producer.connect();
    try {
      let afterWarmUp = 0;
      for (let i = 0; i < 13; i++) {
        // The first sends to a topic just made refresh the metadata (which forgets the coordinators).
        if (i === 3) afterWarmUp = lookups.length;
        const txn = await producer.transaction();
        await txn.send({ topic, acks: -1, messages: [{ key: String(i), value: String(i) }] });
        await txn.sendOffsets({ consumerGroupId: `coordinators-${topic}`, topics: [{ topic, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
        await txn.commit();
        // A transaction begun while the broker still writes the last one's markers is refused with
        // CONCURRENT_TRANSACTIONS, and kafkajs then refreshes its metadata (which forgets the coordinators).
        await new Promise((r) => setTimeout(r, 50));
      }
      // Without the cache: four lookups per transaction (AddPartitions, AddOffsets, TxnOffsetCommit, EndTxn).
      assert.ok(lookups.length - afterWarmUp <= 2, `${lookups.length - afterWarmUp} coordinator lookups for ten transactions`);
      assert.equal((await readAll(env, topic)).length, 13);
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});
