// A transaction's batch goes to one partition leader per call, so kafkajs never retries a batch while
// a request to another leader is still in flight (the retry wrote records twice in one transaction
// when a leader was SIGKILLed under load: scripts/chaos/scenarios/leaderKill.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, PartitionMetadata, ProducerBatch, RecordMetadata, Transaction } from 'kafkajs';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { groupByLeader, singleBrokerSendBatch, type PartitionView } from '../../streams/runtime/txnSend.ts';

const msg = (key: string, account: string): Message => ({ key, value: key, headers: { account } });
const partitions = (leaders: number[]): PartitionMetadata[] => leaders.map((leader, partitionId) => ({ partitionId, leader, replicas: [1, 2, 3], isr: [1, 2, 3], partitionErrorCode: 0 }));
const view = (byTopic: Record<string, number[]>): PartitionView => ({ record: () => {}, get: async (t) => partitions(byTopic[t]) });

/** A transaction that records every sendBatch call, failing the calls `fail` names. */
function fakeTxn(fail: (call: number) => Error | null = () => null) {
  const calls: { topic: string; keys: string[]; partitions: number[] }[][] = [];
  const t = {
    sendBatch: async (b: ProducerBatch): Promise<RecordMetadata[]> => {
      const n = calls.length;
      calls.push((b.topicMessages ?? []).map((tm) => ({ topic: tm.topic, keys: tm.messages.map((m) => String(m.key)), partitions: tm.messages.map((m) => m.partition!) })));
      const e = fail(n);
      if (e) throw e;
      return (b.topicMessages ?? []).map((tm) => ({ topicName: tm.topic, partition: tm.messages[0].partition!, errorCode: 0 }));
    },
  } as unknown as Transaction;
  return { t, calls };
}

const partitioner = AccountPartitioner();
// Accounts A and B land on different partitions of 3 (partitionForAccount), each topic led per partition as given.
const accountOn = (p: number) => ['A', 'B', 'C', 'D', 'E', 'F', 'G'].find((a) => partitioner({ topic: 'x', partitionMetadata: partitions([1, 2, 3]), message: msg('k', a) }) === p)!;
const batch = (): ProducerBatch => ({
  acks: -1,
  topicMessages: [
    { topic: 'risk-decisions', messages: [msg('d0', accountOn(0)), msg('d1', accountOn(1))] },
    { topic: 'orders', messages: [msg('o0', accountOn(0)), msg('o1', accountOn(1))] },
  ],
});

describe('transaction sends: one partition leader per call', () => {
  it('groups messages by leader, in order, with their partition fixed', () => {
    const groups = groupByLeader(batch().topicMessages!, (topic, m) => partitioner({ topic, partitionMetadata: partitions([1, 2, 3]), message: m }), (topic, p) => (topic === 'orders' ? [2, 2, 2][p] : [1, 2, 3][p]));
    assert.deepEqual(groups.map((g) => g.map((tm) => [tm.topic, tm.messages.map((m) => `${String(m.key)}@${m.partition}`)])), [
      [['risk-decisions', ['d0@0']]],
      [['risk-decisions', ['d1@1']], ['orders', ['o0@0', 'o1@1']]],
    ]);
  });

  it('keeps a batch with one leader as one call (a single broker sees no change)', async () => {
    const { t, calls } = fakeTxn();
    await singleBrokerSendBatch(t, partitioner, view({ 'risk-decisions': [1, 1, 1], orders: [1, 1, 1] }))(batch());
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].map((c) => c.keys), [['d0', 'd1'], ['o0', 'o1']]);
  });

  it('sends one call per leader, one after another', async () => {
    const { t, calls } = fakeTxn();
    const out = await singleBrokerSendBatch(t, partitioner, view({ 'risk-decisions': [1, 2, 3], orders: [1, 2, 3] }))(batch());
    assert.deepEqual(calls.map((c) => c.flatMap((x) => x.keys)), [['d0', 'o0'], ['d1', 'o1']]);
    assert.equal(out.length, 4);
  });

  it('retries only the later call the coordinator was not ready for, and never re-sends an earlier one', async () => {
    const busy = Object.assign(new Error('busy'), { type: 'CONCURRENT_TRANSACTIONS' });
    const { t, calls } = fakeTxn((n) => (n === 1 || n === 2 ? busy : null));
    await singleBrokerSendBatch(t, partitioner, view({ 'risk-decisions': [1, 2, 3], orders: [1, 2, 3] }))(batch());
    assert.deepEqual(calls.map((c) => c.flatMap((x) => x.keys)), [['d0', 'o0'], ['d1', 'o1'], ['d1', 'o1'], ['d1', 'o1']]);
  });

  it('lets a failure through, its type kept (fencing, or a first call the caller may retry whole)', async () => {
    const fenced = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
    const { t, calls } = fakeTxn((n) => (n === 1 ? fenced : null));
    await assert.rejects(singleBrokerSendBatch(t, partitioner, view({ 'risk-decisions': [1, 2, 3], orders: [1, 2, 3] }))(batch()), (e: Error & { type?: string }) => e.type === 'PRODUCER_FENCED');
    assert.equal(calls.length, 2, 'the first call is not sent again');
    const busy = Object.assign(new Error('busy'), { type: 'CONCURRENT_TRANSACTIONS' });
    const first = fakeTxn((n) => (n === 0 ? busy : null));
    await assert.rejects(singleBrokerSendBatch(first.t, partitioner, view({ 'risk-decisions': [1, 2, 3], orders: [1, 2, 3] }))(batch()), (e: Error & { type?: string }) => e.type === 'CONCURRENT_TRANSACTIONS');
    assert.equal(first.calls.length, 1, 'nothing written yet: the caller retries the whole batch');
  });
});
