// Two instances of the paper connector in one group: each instance is assigned the same partitions of
// `orders` and `cancel-requests` (the CoPartitionAssigner), so every cancel reaches the instance that owns
// its order; every resting order of six accounts is canceled once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Producer } from 'kafkajs';
import { requestCancel } from '../../connectors/cancelRequest.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import type { Topics } from '../../schemas/topics.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from '../helpers/env.ts';

describe('cancels with two connector instances', () => {
  const env = isolatedEnv();
  const kafka = testKafka(env);
  const hlc = createHlc();
  const groupId = `${env.TOPIC_PREFIX}connector-paper`;
  const executions: ExecutionReport[] = [];
  let venue: ReturnType<typeof createPaperVenueServer>;
  let codec: Codec;
  let topics: Topics;
  let producer: Producer;
  let tail: Tail;
  const runtimes: ReturnType<typeof createConnectorRuntime>[] = [];

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 5, tickMs: 0 }), log: testLog() });
    const url = await venue.start(0, '127.0.0.1');
    const runtimeEnv = loadRuntimeEnv(env);
    codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
    topics = await prepare(runtimeEnv, kafka, codec);
    tail = await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    for (const i of [0, 1]) {
      const rt = createConnectorRuntime({
        kafka, codec, log: testLog().child({ instance: i }), hlc, topics, groupId, transactionalId: `${groupId}-${i}`,
        client: createPaperClient({ baseUrl: url, venue: 'paper', timeoutMs: 2000, log: testLog() }),
      });
      runtimes.push(rt);
    }
    await Promise.all(runtimes.map((r) => r.start()));
  });
  after(async () => {
    for (const r of runtimes) await r.stop().catch(() => {});
    await producer?.disconnect();
    await tail?.stop();
    await venue?.stop();
  });

  it('assigns partition p of both topics to one member, and cancels each order once', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const members = await waitFor('two members with assignments', async () => {
      const g = (await admin.describeGroups([groupId])).groups[0];
      const m = g.members.map((x) => AssignerProtocol.MemberAssignment.decode(x.memberAssignment)?.assignment ?? {});
      return g.state === 'Stable' && m.length === 2 && m.every((a) => (a[topics.orders] ?? []).length > 0) ? m : null;
    });
    await admin.disconnect();
    for (const a of members) assert.deepEqual([...(a[topics.cancelRequests] ?? [])].sort(), [...(a[topics.orders] ?? [])].sort(), 'the same partitions of orders and cancel-requests');

    const orders: Order[] = [];
    for (let i = 1; i <= 6; i++) {
      const orderId = `ord-${randomUUID()}`;
      const order: Order = {
        orderId, clientOrderId: `c${orderId.slice(4, 20)}`, signalId: `sig-${orderId}`, decisionId: `dec-${orderId}`, account: `ACC-${i}`, strategy: 's',
        symbol: 'AAPL', venue: 'paper', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPrice: 100, stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce: 'GTC', signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
      };
      await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
      orders.push(order);
    }
    const ofType = (o: Order, type: string) => executions.filter((e) => e.orderId === o.orderId && e.type === type);
    await waitFor('six ACKs', async () => orders.every((o) => ofType(o, 'ACK').length > 0));
    await requestCancel({ producer, codec, topic: topics.cancelRequests, hlc: () => hlc.now() }, orders.map((o) => ({ orderId: o.orderId, account: o.account, venue: 'paper' })), { source: 'test', actor: 'it' });
    await waitFor('six CANCELs', async () => orders.every((o) => ofType(o, 'CANCEL').length > 0));
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(orders.map((o) => ofType(o, 'CANCEL').length), [1, 1, 1, 1, 1, 1], 'each order canceled once');
  });
});
