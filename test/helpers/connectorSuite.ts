// The connector test suite every venue passes: the shared runtime (connectors/runtime.ts) around the
// venue's client, on the real Kafka and registry, against the venue's local fake server with faults.
// Usage, in test/integration/connector<Venue>.test.ts:
//   runConnectorSuite('alpaca', async ({ log }) => { const fake = await startFake(); return { client, fake, stop } });
// The client should use a short request timeout (≈300 ms) and reconnect its push stream quickly
// (≈200 ms); the suite's runtime settings below are short for the same reason.
// The contract with the fakes (FakeVenueControls, VenueUnderTest) is in connectorSuiteTypes.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import type { VenueClient } from '../../connectors/venue.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Control, ExecutionReport, Order, Side } from '../../schemas/types.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { foldPositions, positionKey } from '../../streams/positions/fold.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../../schemas/topics.ts';
import { ensureTopics } from '../../streams/runtime/topics.ts';
import type { RecordName } from '../../schemas/codec.ts';
import type { MakeVenue, VenueUnderTest } from './connectorSuiteTypes.ts';
import { isolatedEnv, testKafka, waitFor } from './env.ts';

const RUNTIME = {
  tickMs: 100, streamSilentMs: 1_200, reconcileIntervalMs: 800, submitAttempts: 6, backoffMs: 50, maxBackoffMs: 1_000,
  breaker: { failuresToOpen: 3, minFailureSpanMs: 200, probeIntervalMs: 300, maxProbeIntervalMs: 1_000 },
};

export function runConnectorSuite(name: string, makeVenue: MakeVenue): void {
  describe(`connector suite: ${name}`, { timeout: 120_000 }, () => {
    const env = isolatedEnv();
    const runtimeEnv = loadRuntimeEnv(env);
    const kafka = testKafka(env);
    const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
    const hlc = createHlc();
    const logLines: string[] = [];
    // Captured (for the credential check); CONNECTOR_SUITE_LOG=1 also prints them.
    const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, done) {
      logLines.push(String(chunk));
      if (process.env.CONNECTOR_SUITE_LOG) process.stderr.write(chunk);
      done();
    } }));
    const executions: ExecutionReport[] = [];
    const controls: Control[] = [];
    let topics: Topics;
    let tails: Tail[] = [];
    let producer: Producer;
    let venue: VenueUnderTest;
    let runtime: ReturnType<typeof createConnectorRuntime> | null = null;

    const startRuntime = async () => {
      runtime = createConnectorRuntime({
        kafka, codec, log: log.child({ component: 'connector' }), hlc, topics, client: venue.client,
        groupId: `${env.TOPIC_PREFIX}connector-${name}`, transactionalId: `${env.TOPIC_PREFIX}connector-${name}-0`, ...RUNTIME,
      });
      await runtime.start();
      return runtime;
    };

    before(async () => {
      topics = topicNames(env.TOPIC_PREFIX);
      const admin = kafka.admin();
      await admin.connect();
      try { await ensureTopics(admin, topics, runtimeEnv.TOPIC_PARTITIONS); } finally { await admin.disconnect(); }
      for (const k of Object.keys(topics) as TopicKey[]) await codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName);
      tails = [
        await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); }),
        await startTail(kafka, [topics.control], async (_t, m) => { if (m.value) controls.push(await codec.decode('Control', m.value)); }),
      ];
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
      await producer.connect();
      venue = await makeVenue({ log: log.child({ component: `${name}-client` }) });
      await startRuntime();
    });

    after(async () => {
      await runtime?.stop();
      await venue?.stop();
      await producer?.disconnect();
      for (const t of tails) await t.stop();
    });

    async function sendOrder(over: { account?: string; side?: Side; quantity?: number; price?: number } = {}): Promise<Order> {
      const orderId = randomUUID();
      const order: Order = {
        orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(),
        account: over.account ?? 'ACC-SUITE', strategy: 'suite', symbol: venue.fake.symbol, venue: venue.client.venue,
        side: over.side ?? 'BUY', quantity: over.quantity ?? venue.fake.quantity, orderType: 'LIMIT',
        limitPrice: over.price ?? await venue.fake.restingBuyPrice(), timeInForce: 'GTC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null,
        createdAt: Date.now(), hlc: hlc.now(),
      };
      await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
      return order;
    }

    const of = (o: Order) => executions.filter((e) => e.orderId === o.orderId);
    const fillsOf = (o: Order) => of(o).filter((e) => e.type === 'FILL' || e.type === 'PARTIAL_FILL');
    const event = (o: Order, type: ExecutionReport['type'], n = 1) => waitFor(`${n} ${type} for ${o.clientOrderId}`, async () => {
      const found = of(o).filter((e) => e.type === type);
      return found.length >= n ? found[n - 1] : null;
    }, 20_000, 50);
    const controlSince = (n: number, state: 'HALTED' | 'ACTIVE') => waitFor(`control ${state}`, async () =>
      controls.slice(n).find((c) => c.kind === 'TRADING_STATE' && c.scope === 'VENUE' && c.target === venue.client.venue && c.state === state), 20_000, 50);
    const settle = (ms = 2 * RUNTIME.reconcileIntervalMs) => new Promise((r) => setTimeout(r, ms));

    it('acknowledges an order once, with our id and the venue\'s kept apart', async () => {
      const order = await sendOrder();
      const ack = await event(order, 'ACK');
      assert.equal(ack.clientOrderId, order.clientOrderId);
      assert.ok(ack.venueOrderId && ack.venueOrderId !== order.clientOrderId);
      assert.equal(await venue.fake.ordersCreated(order.clientOrderId), 1);
    });

    it('resolves a submit that timed out by looking it up: exactly one order at the venue', async () => {
      await venue.fake.timeoutNextSubmit();
      const order = await sendOrder();
      await event(order, 'ACK');
      await settle();
      assert.equal(await venue.fake.ordersCreated(order.clientOrderId), 1);
      assert.equal(await venue.fake.submitsReceived(order.clientOrderId), 1, 'no second submit after the timeout');
      assert.deepEqual(of(order).map((e) => e.type), ['ACK']);
    });

    it('resolves a 5xx answered after the order was created, and one before it was', async () => {
      await venue.fake.failNextSubmit(500, true);
      const created = await sendOrder();
      await event(created, 'ACK');
      assert.equal(await venue.fake.ordersCreated(created.clientOrderId), 1);
      assert.equal(await venue.fake.submitsReceived(created.clientOrderId), 1);
      await venue.fake.failNextSubmit(503, false);
      const notCreated = await sendOrder();
      await event(notCreated, 'ACK');
      assert.equal(await venue.fake.ordersCreated(notCreated.clientOrderId), 1);
    });

    it('waits out a 429 Retry-After before calling the venue again', async () => {
      const before = await venue.fake.rateLimitViolations();
      await venue.fake.rateLimitNextSubmit(1);
      const order = await sendOrder();
      await event(order, 'ACK');
      assert.equal(await venue.fake.ordersCreated(order.clientOrderId), 1);
      assert.equal(await venue.fake.rateLimitViolations(), before, 'no request while the Retry-After ran');
    });

    it('re-learns the clock after a clock-skew refusal and places the order once', async (t) => {
      if (!venue.fake.clockSkewNextSubmit) return t.skip('the venue has no clock-skew error');
      await venue.fake.clockSkewNextSubmit();
      const order = await sendOrder();
      await event(order, 'ACK');
      assert.equal(await venue.fake.ordersCreated(order.clientOrderId), 1);
      assert.equal(of(order).filter((e) => e.type === 'REJECT').length, 0);
    });

    it('records partial fills once each, whatever the venue repeats', async () => {
      const order = await sendOrder({ quantity: venue.fake.quantity * 2 });
      await event(order, 'ACK');
      await venue.fake.fill(order.clientOrderId, venue.fake.quantity);
      await event(order, 'PARTIAL_FILL');
      await venue.fake.repeatLastEvent(order.clientOrderId);
      await venue.fake.fill(order.clientOrderId, venue.fake.quantity);
      const last = await event(order, 'FILL');
      await venue.fake.repeatLastEvent(order.clientOrderId);
      await settle();
      const fills = fillsOf(order);
      assert.deepEqual(fills.map((f) => f.type), ['PARTIAL_FILL', 'FILL']);
      assert.equal(new Set(fills.map((f) => f.venueTradeId)).size, 2);
      assert.equal(last.cumQty, venue.fake.quantity * 2);
      assert.equal(last.leavesQty, 0);
      assert.equal(new Set(executions.map((e) => e.executionId)).size, executions.length, 'no execution id twice on the topic');
    });

    it('notices a silent push stream and finds the fill by polling', async () => {
      const order = await sendOrder();
      await event(order, 'ACK');
      await venue.fake.setStreamSilent(true);
      try {
        await waitFor('the runtime to call the stream silent', async () => runtime!.status().streamSilent, 10_000, 50);
        await venue.fake.fill(order.clientOrderId, venue.fake.quantity);
        const fill = await event(order, 'FILL');
        assert.equal(fill.cumQty, venue.fake.quantity);
      } finally {
        await venue.fake.setStreamSilent(false);
      }
      await waitFor('the stream to count as alive again', async () => !runtime!.status().streamSilent, 10_000, 50);
      await settle();
      assert.equal(fillsOf(order).length, 1);
    });

    it('turns a late correction and a bust into new events that reference the fill, and the position follows', async () => {
      const account = `ACC-CORR-${randomUUID().slice(0, 8)}`;
      const order = await sendOrder({ account });
      await event(order, 'ACK');
      const { ref, price } = await venue.fake.fill(order.clientOrderId, venue.fake.quantity);
      const fill = await event(order, 'FILL');
      const corrected = Number((price * 0.99).toFixed(2));
      await venue.fake.correctFill(order.clientOrderId, ref, corrected);
      const correction = await event(order, 'CORRECTION');
      assert.equal(correction.refExecutionId, fill.executionId);
      assert.equal(correction.lastPrice, corrected);
      const key = positionKey({ account, symbol: order.symbol, venue: order.venue });
      const position = foldPositions(executions.filter((e) => e.account === account)).get(key);
      assert.deepEqual([position?.quantity, position?.avgPrice], [venue.fake.quantity, corrected]);
      assert.equal(fill.lastPrice, price, 'the original fill is left as it was');

      await venue.fake.bustFill(order.clientOrderId, ref);
      const bust = await event(order, 'BUST');
      assert.equal(bust.refExecutionId, fill.executionId);
      const after = foldPositions(executions.filter((e) => e.account === account)).get(key);
      assert.equal(after?.quantity, 0);
      await settle();
      assert.equal(of(order).filter((e) => e.type === 'CORRECTION' || e.type === 'BUST').length, 2, 'each amendment recorded once');
    });

    it('halts the venue on an outage, holds its orders, and resumes once it answers', async () => {
      const mark = controls.length;
      await venue.fake.setOutage(true);
      let held: Order;
      try {
        held = await sendOrder();
        const halt = await controlSince(mark, 'HALTED');
        assert.equal(halt.actor, `connector:${venue.client.venue}`);
        assert.ok(halt.reason);
        assert.equal(runtime!.status().state, 'halted');
        assert.equal(await venue.fake.ordersCreated(held.clientOrderId), 0);
      } finally {
        await venue.fake.setOutage(false);
      }
      await controlSince(mark, 'ACTIVE');
      await event(held, 'ACK');
      assert.equal(await venue.fake.ordersCreated(held.clientOrderId), 1);
    });

    it('fails closed when it cannot reconcile on start, then catches up with what happened meanwhile', async () => {
      const resting = await sendOrder();
      await event(resting, 'ACK');
      await runtime!.stop();
      await venue.fake.fill(resting.clientOrderId, venue.fake.quantity); // while nobody listens
      const mark = controls.length;
      await venue.fake.setOutage(true);
      let waiting: Order;
      try {
        await startRuntime();
        assert.equal(runtime!.status().state, 'halted');
        assert.match(runtime!.status().reason ?? '', /reconcile/);
        const halt = await controlSince(mark, 'HALTED');
        assert.match(halt.reason ?? '', /reconcile/);
        waiting = await sendOrder();
        await settle();
        assert.equal(of(waiting).length, 0, 'no order consumed while state is unknown');
      } finally {
        await venue.fake.setOutage(false);
      }
      await controlSince(mark, 'ACTIVE');
      const fill = await event(resting, 'FILL');
      assert.equal(fill.cumQty, venue.fake.quantity);
      await event(waiting, 'ACK');
      assert.equal(await venue.fake.ordersCreated(waiting.clientOrderId), 1);
    });

    it('never writes a credential to the logs', () => {
      assert.ok(logLines.length > 0, 'the suite captured the logs');
      for (const secret of venue.secrets ?? []) {
        assert.equal(logLines.filter((l) => l.includes(secret)).length, 0, 'a credential reached the logs');
      }
    });
  });
}
