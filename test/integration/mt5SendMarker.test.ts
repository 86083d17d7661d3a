// An MT5 order its previous connector sent just before it died, before the batch committed: the bridge
// executed it but its terminal does not list it yet, and the bridge has no idempotency of its own, so a
// look-up that finds nothing proves nothing. The connector marks every MT5 order SENDING on `control`
// (acknowledged before the trade); the successor that meets the order again finds the marker, not the
// order, and parks it as UNKNOWN instead of trading it a second time; once the bridge lists it, its fill
// reaches `executions` and the record is RESOLVED. A normal order's marker is written before its trade
// and deleted (a tombstone) once its outcome is recorded.
// Seen red: ORDER_ROUTER_FAULT=ignore-send-marker (the successor ignores the marker and trades the order
// again) fails this test waiting for the UNKNOWN record; run it with the variable set.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createOrderLedger } from '../../connectors/ledger.ts';
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { createUnknownOutcomes } from '../../connectors/unknownOutcomes.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec } from '../../schemas/codec.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { orderOutcomeKey, parseOutcome, type OrderOutcome } from '../../schemas/orderOutcome.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';
import { isolatedEnv, testKafka, waitFor } from '../helpers/env.ts';

const TOKEN = 'mt5-bridge-token-send-marker-0001';
const ACCOUNT = '5e6f7a8b-mark-4c1d-9e2f-0a1b2c3d4e5f';

describe('mt5 orders sent by a connector that died before its commit', { timeout: 180_000 }, () => {
  const env = isolatedEnv();
  const runtimeEnv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const log = pino({ level: process.env.CONNECTOR_SUITE_LOG ? 'debug' : 'silent' });
  const groupId = `${env.TOPIC_PREFIX}connector-mt5`;
  const executions: ExecutionReport[] = [];
  const control: { key: string; outcome: OrderOutcome | null; at: number }[] = [];
  let topics: Topics;
  let tail: Tail;
  let producer: Producer;
  let fake: FakeMt5Bridge;
  let url: string;
  let runtime: ReturnType<typeof createConnectorRuntime> | null = null;

  const mt5 = () => createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 300, pollMs: 200 }), log });
  const order = (createdAt: number): Order => {
    const orderId = randomUUID();
    return {
      orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-MT5', strategy: 'fx-1',
      symbol: 'EURUSD', venue: 'mt5', side: 'BUY', quantity: 10_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC', stopPrice: null, trailAmount: null,
      trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt, hlc: hlc.now(),
    };
  };
  const publish = (o: Order) => producer.send({ topic: topics.orders, acks: -1, messages: [{ key: o.orderId, value: codec.encode(topics.orders, o), headers: accountHeaders(o.account) }] });
  const trades = (o: Order) => fake.submitsWithComment(commentToken(o.clientOrderId));
  const records = (o: Order) => control.filter((c) => c.key === orderOutcomeKey('mt5', o.clientOrderId));

  before(async () => {
    topics = await prepare(runtimeEnv, kafka, codec);
    tail = await startTail(kafka, [topics.executions, topics.control], async (topic, m) => {
      if (topic === topics.executions) { executions.push(await codec.decode('ExecutionReport', m.value!)); return; }
      const key = m.key?.toString() ?? '';
      if (!key.startsWith('ORDER_OUTCOME|')) return;
      control.push({ key, outcome: m.value ? parseOutcome(await codec.decode('Control', m.value)) : null, at: Date.now() });
    });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN });
    url = await fake.start();
  });

  after(async () => {
    await runtime?.stop();
    await fake?.stop();
    await producer?.disconnect();
    await tail?.stop();
  });

  it('the successor parks it instead of trading it again; a normal order\'s marker comes and goes', async () => {
    // The predecessor: marks the order SENDING (the runtime's own code), trades it, and dies before its commit.
    fake.term.faults.syncLagMs = 3_600_000; // the terminal lists it only much later
    const died = order(Date.now() - 5_000);
    const predecessor = createUnknownOutcomes({
      venue: 'mt5', producer, codec, topic: topics.control, log, clock: Date.now, hlc: () => hlc.now(),
      ledger: createOrderLedger(), lookUp: async () => {}, record: async () => {},
    });
    await predecessor.markSending(died);
    const client = mt5();
    await client.connect();
    await client.submit({ clientOrderId: died.clientOrderId, symbol: died.symbol, side: died.side, quantity: died.quantity, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC' });
    await client.disconnect();
    assert.equal(trades(died), 1);
    await publish(died);

    // The successor takes the partition and meets the order.
    runtime = createConnectorRuntime({
      kafka, codec, log, hlc, topics, client: mt5(), groupId, transactionalId: `${groupId}-0`,
      tickMs: 100, reconcileIntervalMs: 1_000, submitAttempts: 3, backoffMs: 50, maxBackoffMs: 200, unknownLookupMs: 300,
      breaker: { failuresToOpen: 3, minFailureSpanMs: 200, probeIntervalMs: 300, maxProbeIntervalMs: 1_000 },
    });
    await runtime.start();
    const parked = await waitFor('the UNKNOWN record', async () => records(died).find((c) => c.outcome?.status === 'UNKNOWN'), 30_000, 100);
    assert.equal(parked.outcome!.reason, 'SENT_BY_PREDECESSOR');
    assert.equal(trades(died), 1, 'one trade at the bridge');
    assert.deepEqual(runtime.unknownOrders().map((u) => u.clientOrderId), [died.clientOrderId]);

    // The bridge lists it at last: its fill is recorded and the record resolved.
    for (const x of [...fake.term.orders.values(), ...fake.term.deals, ...fake.term.positions.values()]) x.visibleAt = 0;
    fake.term.faults.syncLagMs = 0;
    await waitFor('the fill on executions', async () => executions.find((e) => e.orderId === died.orderId && e.type === 'FILL'), 30_000, 100);
    await waitFor('the RESOLVED record', async () => records(died).find((c) => c.outcome?.status === 'RESOLVED'), 30_000, 100);
    assert.equal(trades(died), 1);

    // A normal order: marked SENDING before its trade, the marker deleted once its fill is recorded.
    const normal = order(Date.now() + 1_000);
    await publish(normal);
    await waitFor('its fill on executions', async () => executions.find((e) => e.orderId === normal.orderId && e.type === 'FILL'), 30_000, 100);
    const tombstone = await waitFor('the marker\'s tombstone', async () => records(normal).find((c) => c.outcome === null), 30_000, 100);
    assert.deepEqual(records(normal).map((c) => c.outcome?.status ?? 'tombstone'), ['SENDING', 'tombstone']);
    assert.ok(tombstone);
    assert.equal(trades(normal), 1);
  });
});
