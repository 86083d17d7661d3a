// The IBKR client inside the shared connector runtime, on the real Kafka and registry: an order whose
// answer was lost, whose resend the gateway refuses as a taken cOID, and which neither the websocket
// nor the gateway's live orders show for a while, ends as one ACK on `executions`, never as a REJECT.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createIbkrClient } from '../../connectors/ibkr/client.ts';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { createCodec, type RecordName } from '../../schemas/codec.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../../schemas/topics.ts';
import { ensureTopics } from '../../streams/runtime/topics.ts';
import { createFakeIbkrGateway, type FakeIbkrGateway } from '../fakes/ibkr/fake.ts';
import { isolatedEnv, testKafka, waitFor } from '../helpers/env.ts';

const ACCOUNT = 'DU5550123';

describe('ibkr in the connector runtime: a taken cOID the gateway does not list yet', { timeout: 120_000 }, () => {
  const env = isolatedEnv();
  const runtimeEnv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const log = pino({ level: process.env.CONNECTOR_SUITE_LOG ? 'debug' : 'silent' });
  const executions: ExecutionReport[] = [];
  let topics: Topics;
  let tail: Tail;
  let producer: Producer;
  let fake: FakeIbkrGateway;
  let runtime: ReturnType<typeof createConnectorRuntime>;

  before(async () => {
    topics = topicNames(env.TOPIC_PREFIX);
    const admin = kafka.admin();
    await admin.connect();
    try { await ensureTopics(admin, topics, runtimeEnv.TOPIC_PARTITIONS); } finally { await admin.disconnect(); }
    for (const k of Object.keys(topics) as TopicKey[]) await codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName);
    tail = await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    fake = createFakeIbkrGateway({ accountId: ACCOUNT, heartbeatMs: 300 });
    const baseUrl = await fake.start();
    const client = createIbkrClient({
      config: parseIbkrConfig({ baseUrl, accountId: ACCOUNT, timeoutMs: 300, reconnectMs: 100, streamIdleMs: 1_000, pollMs: 300, tickleMs: 1_000, ordersPacingMs: 50, tradesPacingMs: 50, requestsPerSecond: 50 }),
      log,
    });
    runtime = createConnectorRuntime({
      kafka, codec, log, hlc, topics, client, groupId: `${env.TOPIC_PREFIX}connector-ibkr`, transactionalId: `${env.TOPIC_PREFIX}connector-ibkr-0`,
      tickMs: 100, streamSilentMs: 1_200, reconcileIntervalMs: 800, submitAttempts: 6, backoffMs: 50, maxBackoffMs: 1_000,
      breaker: { failuresToOpen: 3, minFailureSpanMs: 200, probeIntervalMs: 300, maxProbeIntervalMs: 1_000 },
    });
    await runtime.start();
  });

  after(async () => {
    await runtime?.stop();
    await fake?.stop();
    await producer?.disconnect();
    await tail?.stop();
  });

  it('is looked up until the gateway lists it, then acknowledged once, with one order at the gateway', async () => {
    fake.state.faults.dropSubmits = 1; // placed, answer lost
    fake.state.faults.liveOrdersLagMs = 3_000; // and live orders do not list it for a while
    fake.state.faults.silentStream = true; // nor does a `sor` push tell its order id
    const orderId = randomUUID();
    const order: Order = {
      orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-IBKR', strategy: 'ibkr',
      symbol: 'AAPL', venue: 'ibkr', side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 150.25, timeInForce: 'GTC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null,
      arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
    };
    await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    const of = () => executions.filter((e) => e.orderId === orderId);
    const ack = await waitFor('the ACK', async () => of().find((e) => e.type === 'ACK'), 30_000, 50);
    assert.equal(ack.venueOrderId, String(fake.state.byCoid(order.clientOrderId)?.orderId));
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(of().map((e) => e.type), ['ACK'], 'no REJECT before or after the ACK');
    assert.equal(fake.state.counters.ordersCreated, 1);
    assert.ok((fake.state.submits.get(order.clientOrderId) ?? 0) >= 2, 'the resend met the taken cOID');
  });
});
