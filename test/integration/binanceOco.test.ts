// Issue 17 item 2 at Binance: a bracket's exits as ONE native OCO order list. On the real Kafka and
// registry, the brackets processor and the Binance connector runtime against the local Binance fake
// (test/fakes/binance/, written from rest-api.md "New Order list - OCO" and user-data-stream.md):
// an entry with a bracket fills, its two exits reach the venue as one POST /api/v3/orderList/oco, the
// take-profit fills, the venue expires the stop itself (one CANCEL on `executions`) and the brackets
// processor's own OCO cancel is a no-op; an OCO request whose answer never comes is looked up leg by leg,
// never sent twice. Seen failing with ORDER_ROUTER_FAULT=blind-resend (look-ups that never ask the venue):
// run this file with the variable set and the second test counts 2 OCO requests for one pair.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { createCodec, type RecordName } from '../../schemas/codec.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../../schemas/topics.ts';
import type { CancelRequest, ExecutionReport, Order } from '../../schemas/types.ts';
import { createBracketsProcessor } from '../../streams/brackets/processor.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { ensureTopics } from '../../streams/runtime/topics.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from '../helpers/env.ts';

// web-socket-api.md "SIGNED request example (HMAC)": the documentation's example key pair.
const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const OCO = 'POST /api/v3/orderList/oco';

describe('bracket exits as a native Binance OCO', { timeout: 120_000 }, () => {
  const env = isolatedEnv();
  const runtimeEnv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const log = testLog();
  const orders: Order[] = [];
  const executions: ExecutionReport[] = [];
  const cancels: { request: CancelRequest; offset: string; partition: number }[] = [];
  let topics: Topics;
  let tails: Tail[] = [];
  let producer: Producer;
  let fake: BinanceFake;
  let runtime: ReturnType<typeof createConnectorRuntime>;
  let brackets: ReturnType<typeof createBracketsProcessor>;
  const group = () => `${env.TOPIC_PREFIX}connector-binance`;

  before(async () => {
    topics = topicNames(env.TOPIC_PREFIX);
    const admin = kafka.admin();
    await admin.connect();
    try { await ensureTopics(admin, topics, runtimeEnv.TOPIC_PARTITIONS); } finally { await admin.disconnect(); }
    for (const k of Object.keys(topics) as TopicKey[]) await codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName);
    tails = [
      await startTail(kafka, [topics.orders], async (_t, m) => { orders.push(await codec.decode('Order', m.value!)); }),
      await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); }),
      await startTail(kafka, [topics.cancelRequests], async (_t, m, partition) => { cancels.push({ request: await codec.decode('CancelRequest', m.value!), offset: m.offset, partition }); }),
    ];
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
    const client = createBinanceClient(parseBinanceConfig({
      baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300,
      unknownWindowMs: 1_500, unknownPollMs: 100, recvWindowMs: 1_000,
    }), { log });
    runtime = createConnectorRuntime({
      kafka, codec, log, hlc, topics, client, groupId: group(), transactionalId: `${group()}-0`,
      tickMs: 100, reconcileIntervalMs: 800, submitAttempts: 6, backoffMs: 50, maxBackoffMs: 1_000,
    });
    await runtime.start();
    brackets = createBracketsProcessor({ kafka, codec, log, hlc, topics, groupId: `${env.TOPIC_PREFIX}brackets`, transactionalIdBase: `${env.TOPIC_PREFIX}brackets` });
    await brackets.start();
  });

  after(async () => {
    await brackets?.stop();
    await runtime?.stop();
    await fake?.stop();
    await producer?.disconnect();
    for (const t of tails) await t.stop();
  });

  /** A market buy of 0.01 BTC with a take-profit at 66000 and a stop at 64000 (the fake's book: 64990 / 65000). */
  async function sendEntry(takeProfitAt = 66000): Promise<Order> {
    const orderId = randomUUID();
    const order: Order = {
      orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-OCO', strategy: 'oco', symbol: 'BTCUSD', venue: 'binance',
      side: 'BUY', quantity: 0.01, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null,
      takeProfit: { orderType: 'LIMIT', price: takeProfitAt, percent: null, amount: null, limitPrice: null },
      stopLoss: { orderType: 'STOP', price: 64000, percent: null, amount: null, limitPrice: null },
      parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
    };
    await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    return order;
  }
  const exitsOf = (entry: Order) => waitFor('the two exits on orders', async () => {
    const exits = orders.filter((o) => o.parentOrderId === entry.orderId);
    const tp = exits.find((o) => o.exitRole === 'TAKE_PROFIT');
    const sl = exits.find((o) => o.exitRole === 'STOP_LOSS');
    return tp && sl ? { tp, sl } : null;
  }, 30_000, 50);
  const reports = (o: Order, type: ExecutionReport['type']) => executions.filter((e) => e.orderId === o.orderId && e.type === type);
  const listsWith = (cid: string) => fake.knobs.orderLists().filter((l) => l.legs.includes(cid));

  it('sends both exits as one OCO; the take-profit fills, the venue expires the stop, and the pipeline\'s OCO cancel is a no-op', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    const entry = await sendEntry();
    const { tp, sl } = await exitsOf(entry);
    await waitFor('both legs acknowledged', async () => reports(tp, 'ACK').length > 0 && reports(sl, 'ACK').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request');
    assert.deepEqual(listsWith(tp.clientOrderId).map((l) => l.legs), [[tp.clientOrderId, sl.clientOrderId]], 'take-profit above, stop below, one list');
    assert.equal(fake.knobs.ordersWithId(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId).length, 1);
    assert.deepEqual(fake.knobs.ordersWithId(tp.clientOrderId).map((o) => o.type), ['LIMIT_MAKER']);

    const deletesBefore = fake.knobs.requests('DELETE /api/v3/order');
    await fake.controls.fill(tp.clientOrderId, 0.01);
    await waitFor('the take-profit filled and the stop canceled by the venue', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId)[0].status, 'EXPIRED', 'expired by the venue (OCO_TRIGGER)');

    // The brackets processor still asks to cancel the sibling once (the backstop); the connector finds it closed.
    const request = await waitFor('the oco cancel request', async () => cancels.find((c) => c.request.source === 'oco' && c.request.orderId === sl.orderId), 30_000, 50);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor('the connector past the oco cancel request', async () => {
        const [t] = await admin.fetchOffsets({ groupId: group(), topics: [topics.cancelRequests] });
        const p = t.partitions.find((x) => x.partition === request.partition);
        return p !== undefined && BigInt(p.offset) > BigInt(request.offset);
      }, 30_000, 100);
    } finally { await admin.disconnect(); }
    assert.equal(reports(sl, 'CANCEL').length, 1, 'exactly one CANCEL for the stop');
    assert.equal(reports(tp, 'CANCEL').length, 0);
    assert.equal(fake.knobs.requests('DELETE /api/v3/order') - deletesBefore, 0, 'no cancel sent for an order already closed');
  });

  it('a pair the venue refuses (a take-profit the market has passed: LIMIT_MAKER would take) goes as two orders, pipeline-managed', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    const entry = await sendEntry(64_900); // under the bid (64990): the take-profit is marketable
    const { tp, sl } = await exitsOf(entry);
    await waitFor('the take-profit filled at once, the stop canceled by the pipeline', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request, refused');
    assert.equal(listsWith(tp.clientOrderId).length, 0, 'no list at the venue');
    assert.deepEqual(fake.knobs.ordersWithId(tp.clientOrderId).map((o) => [o.type, o.status]), [['LIMIT', 'FILLED']]);
    assert.deepEqual(fake.knobs.ordersWithId(sl.clientOrderId).map((o) => [o.type, o.status]), [['STOP_LOSS', 'CANCELED']]);
    assert.equal(reports(sl, 'CANCEL').length, 1);
    assert.equal(reports(tp, 'REJECT').length + reports(sl, 'REJECT').length, 0);
  });

  it('an OCO request whose answer never comes is looked up leg by leg, not sent again', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    // Applied 1 s later, after the client (300 ms) has given up; inside the unknown window (1.5 s).
    fake.knobs.delayNextOco(1_000, 'none');
    const entry = await sendEntry();
    const { tp, sl } = await exitsOf(entry);
    await waitFor('both legs acknowledged', async () => reports(tp, 'ACK').length > 0 && reports(sl, 'ACK').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request for the pair');
    assert.equal(listsWith(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId).length, 1);
    assert.equal(reports(tp, 'ACK').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
  });
});
