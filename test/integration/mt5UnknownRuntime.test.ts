// An MT5 trade of unknown outcome in the shared connector runtime, on the real Kafka, registry and
// Postgres: the bridge took the trade (HTTP 500 after it) and does not list it, so the order is recorded
// as UNKNOWN on `control` in the batch's transaction (the partition goes on), listed by GET
// /ops/unknown-orders, never sent again (not even by a restarted connector that meets the order on
// `orders` again: ORDER_ROUTER_FAULT=resend-unknown turns that check red), and cleared once the bridge
// lists the order: its fill on `executions`, a RESOLVED record on `control`, the list empty. One the
// bridge never traded is settled by an operator (POST /ops/unknown-orders/…/settle, notTraded): a REJECT
// saying who and why, RESOLVED, never sent again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { createEdgeApp } from '../../edge/app.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { createOpsAuth, parseOpsTokens } from '../../edge/ops/auth.ts';
import { opsRoutes } from '../../edge/ops/routes.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec } from '../../schemas/codec.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { orderOutcomeKey, parseOutcome, type OrderOutcome } from '../../schemas/orderOutcome.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { startControlPlane, type RunningControlPlane } from '../../streams/control/plane.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool, migrate, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';
import { isolatedEnv, testKafka, waitFor } from '../helpers/env.ts';

const TOKEN = 'mt5-bridge-token-runtime-unknown-01';
const ACCOUNT = '5e6f7a8b-runt-4c1d-9e2f-0a1b2c3d4e5f';
const VIEWER = 'vic-viewer-token-unknown-orders-0001';
const OPERATOR = 'bob-operator-token-unknown-orders-01';

describe('mt5 orders of unknown outcome in the connector runtime', { timeout: 180_000 }, () => {
  const env = isolatedEnv();
  const runtimeEnv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const log = pino({ level: process.env.CONNECTOR_SUITE_LOG ? 'debug' : 'silent' });
  const groupId = `${env.TOPIC_PREFIX}connector-mt5`;
  const executions: ExecutionReport[] = [];
  const outcomes: { key: string; outcome: OrderOutcome }[] = [];
  let topics: Topics;
  let tail: Tail;
  let producer: Producer;
  let fake: FakeMt5Bridge;
  let url: string;
  let pool: Pool;
  let plane: RunningControlPlane;
  let app: FastifyInstance;
  let runtime: ReturnType<typeof createConnectorRuntime> | null = null;

  async function startRuntime() {
    const client = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 300, pollMs: 200 }), log });
    const r = createConnectorRuntime({
      kafka, codec, log, hlc, topics, client, groupId, transactionalId: `${groupId}-0`,
      tickMs: 100, reconcileIntervalMs: 1_000, submitAttempts: 3, backoffMs: 50, maxBackoffMs: 200, unknownLookupMs: 300,
      breaker: { failuresToOpen: 3, minFailureSpanMs: 200, probeIntervalMs: 300, maxProbeIntervalMs: 1_000 },
    });
    await r.start();
    return r;
  }

  before(async () => {
    topics = await prepare(runtimeEnv, kafka, codec);
    await migrate(runtimeEnv);
    pool = createPool(runtimeEnv);
    tail = await startTail(kafka, [topics.executions, topics.control], async (topic, m) => {
      if (topic === topics.executions) executions.push(await codec.decode('ExecutionReport', m.value!));
      else if (m.value) {
        const c = await codec.decode('Control', m.value);
        if (c.kind === 'ORDER_OUTCOME') outcomes.push({ key: m.key!.toString(), outcome: parseOutcome(c) });
      }
    });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN });
    url = await fake.start();
    plane = await startControlPlane({ kafka, pool, codec, topic: topics.control, log, hlc: () => hlc.now() });
    const auth = createOpsAuth({ tokens: parseOpsTokens(JSON.stringify([{ name: 'vic', role: 'viewer', token: VIEWER }, { name: 'bob', role: 'operator', token: OPERATOR }])) });
    app = createEdgeApp({
      config: parseEdgeConfig({ strategies: [{ id: 's1', account: 'ACC-1', secrets: ['s1-secret-0123456789abcdef'] }] }),
      log, clock: Date.now, hlc: () => hlc.now(), accept: async () => ({ duplicate: false }), ready: () => true,
      extraRoutes: (a) => a.register(opsRoutes({ plane, auth, log }), { prefix: '/ops' }),
    });
    runtime = await startRuntime();
  });

  after(async () => {
    await runtime?.stop();
    await app?.close();
    await plane?.stop();
    await pool?.end();
    await fake?.stop();
    await producer?.disconnect();
    await tail?.stop();
  });

  const listed = async () => {
    const res = await app.inject({ method: 'GET', url: '/ops/unknown-orders', headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(res.statusCode, 200);
    return res.json() as { caughtUp: boolean; orders: { clientOrderId: string; venue: string; symbol: string; since: number; reason: string }[] };
  };

  /** Until the connector's group has committed `orders` to its end: every order on it was handled. */
  async function handledAll(): Promise<boolean> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topics.orders);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.orders] });
      return ends.every((e) => BigInt(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high) || e.high === '0');
    } finally {
      await admin.disconnect();
    }
  }

  const orderOf = (orderId: string): Order => ({
    orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-MT5', strategy: 'fx-1',
    symbol: 'EURUSD', venue: 'mt5', side: 'BUY', quantity: 10_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC', stopPrice: null, trailAmount: null,
    trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
  });

  it('records it UNKNOWN, lists it, never resends it, and clears it when the bridge lists it', async () => {
    const orderId = randomUUID();
    const cid = clientOrderIdFor(orderId);
    const order: Order = {
      orderId, clientOrderId: cid, signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-MT5', strategy: 'fx-1',
      symbol: 'EURUSD', venue: 'mt5', side: 'BUY', quantity: 10_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC', stopPrice: null, trailAmount: null,
      trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
    };
    const send = () => producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    const sent = () => fake.submitsWithComment(commentToken(cid));
    fake.term.faults.syncLagMs = 3_600_000; // the terminal lists it only much later
    fake.term.faults.failTrade = { status: 500, created: true }; // traded, and the answer is a 500
    await send();

    const rec = await waitFor('the UNKNOWN record on control', async () => outcomes.find((o) => o.key === orderOutcomeKey('mt5', cid) && o.outcome.status === 'UNKNOWN'), 30_000, 100);
    assert.deepEqual([rec.outcome.clientOrderId, rec.outcome.orderId, rec.outcome.venue, rec.outcome.symbol, rec.outcome.quantity], [cid, orderId, 'mt5', 'EURUSD', 10_000]);
    assert.match(rec.outcome.reason, /500/);
    const listing = await waitFor('GET /ops/unknown-orders listing it', async () => { const l = await listed(); return l.orders.some((o) => o.clientOrderId === cid) && l; });
    assert.deepEqual(listing.orders.map((o) => [o.clientOrderId, o.venue, o.symbol, o.since]), [[cid, 'mt5', 'EURUSD', rec.outcome.since]]);
    await waitFor('the batch committed (the partition goes on)', handledAll);
    assert.equal(sent(), 1, 'one trade request');
    assert.deepEqual(executions.filter((e) => e.orderId === orderId), [], 'nothing on executions while unknown');

    // A restarted connector, with a bridge client that has forgotten everything, meets the order again.
    fake.term.faults.failTrade = null; // a resend would now go through
    await runtime!.stop();
    runtime = null;
    runtime = await startRuntime();
    assert.deepEqual(runtime.unknownOrders().map((u) => u.clientOrderId), [cid], 'rebuilt from control');
    await send();
    await waitFor('the repeated order handled', handledAll);
    assert.equal(sent(), 1, 'never resent, even after a restart');

    // The bridge lists it at last: the fill reaches executions and the UNKNOWN record is cleared.
    for (const x of [...fake.term.orders.values(), ...fake.term.deals, ...fake.term.positions.values()]) x.visibleAt = 0;
    const fill = await waitFor('the fill on executions', async () => executions.find((e) => e.orderId === orderId && e.type === 'FILL'), 30_000, 100);
    assert.equal(fill.cumQty, 10_000);
    const resolved = await waitFor('the RESOLVED record', async () => outcomes.find((o) => o.key === orderOutcomeKey('mt5', cid) && o.outcome.status === 'RESOLVED'), 30_000, 100);
    assert.equal(resolved.outcome.resolution, 'FILLED');
    await waitFor('GET /ops/unknown-orders empty', async () => (await listed()).orders.length === 0);
    assert.deepEqual(runtime.unknownOrders(), []);
    assert.deepEqual(executions.filter((e) => e.orderId === orderId).map((e) => e.type), ['ACK', 'FILL']);
    assert.deepEqual([sent(), fake.ordersWithComment(commentToken(cid)).length], [1, 1]);
  });

  it('an operator settles one the venue never traded: a REJECT that says who and why, a RESOLVED record, the list empty', async () => {
    const order = orderOf(randomUUID());
    const cid = order.clientOrderId;
    fake.term.faults.failTrade = { status: 500, created: false }; // a 500, and the bridge never forwarded it
    await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: order.orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    await waitFor('the UNKNOWN record on control', async () => outcomes.some((o) => o.key === orderOutcomeKey('mt5', cid) && o.outcome.status === 'UNKNOWN'), 30_000, 100);
    await waitFor('GET /ops/unknown-orders listing it', async () => (await listed()).orders.some((o) => o.clientOrderId === cid));
    const settle = (body: unknown, token = OPERATOR) => app.inject({
      method: 'POST', url: `/ops/unknown-orders/mt5/${cid}/settle`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body),
    });
    assert.equal((await settle({ notTraded: true, reason: 'x' }, VIEWER)).statusCode, 403);
    assert.equal((await settle({ reason: 'no ticket on the broker statement' })).statusCode, 400);
    const res = await settle({ notTraded: true, reason: 'no ticket on the broker statement' });
    assert.equal(res.statusCode, 200, res.body);
    const reject = await waitFor('the REJECT on executions', async () => executions.find((e) => e.orderId === order.orderId && e.type === 'REJECT'), 30_000, 100);
    assert.equal(reject.reason, 'SETTLED_BY_OPERATOR: bob: no ticket on the broker statement');
    const resolved = await waitFor('the RESOLVED record', async () => outcomes.find((o) => o.key === orderOutcomeKey('mt5', cid) && o.outcome.status === 'RESOLVED'), 30_000, 100);
    assert.equal(resolved.outcome.resolution, 'REJECTED');
    await waitFor('GET /ops/unknown-orders without it', async () => !(await listed()).orders.some((o) => o.clientOrderId === cid));
    assert.deepEqual(executions.filter((e) => e.orderId === order.orderId).map((e) => e.type), ['REJECT']);
    assert.equal(fake.submitsWithComment(commentToken(cid)), 1, 'never sent again');
    const gone = await settle({ notTraded: true, reason: 'again' });
    assert.deepEqual([gone.statusCode, gone.json().error.code], [404, 'NOT_FOUND'], 'a settled order is no longer listed');
  });
});
