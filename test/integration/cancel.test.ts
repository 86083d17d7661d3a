// Cancels on the real stack with the paper venue: a resting limit order, POST /ops/cancel, one CANCEL
// on `executions` from the venue's answer, the projection's open orders empty, the cancel in the audit
// trail; a repeat and an unknown order answered with a reason and changing nothing; a halt with
// cancelOnHalt cancelling its scope's resting orders and no other's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { openOrders } from '../../edge/ops/openOrders.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { auditTrail } from '../../streams/audit/trail.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { isolatedEnv, readAll, testKafka, testLog, waitFor } from '../helpers/env.ts';

const OPERATOR = 'it-cancel-operator-token-4d2b8f6a1c3e5a7b';
const VIEWER = 'it-cancel-viewer-token-8a6c4e2b0d9f7b5c3a1e';

describe('cancels through the ops API', () => {
  const env = isolatedEnv({ OPS_TOKENS: JSON.stringify([{ name: 'bob', role: 'operator', token: OPERATOR }, { name: 'vic', role: 'viewer', token: VIEWER }]) });
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  let codec: Codec;
  let producer: Producer;
  let venueClockOffset = 0; // moves the paper venue's clock past its session end

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog(), clock: () => Date.now() + venueClockOffset });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, components: ['edge', 'connector', 'projection'], log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
    codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    await codec.register(pipeline.topics.orders, 'Order');
    producer = testKafka(env).producer({ createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  const ops = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${pipeline.edgeUrl}/ops${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  /** A buy limit far under the market: it rests. */
  async function restingOrder(account: string, symbol = 'AAPL', timeInForce: Order['timeInForce'] = 'GTC'): Promise<Order> {
    const orderId = `ord-${randomUUID()}`;
    const order: Order = {
      orderId, clientOrderId: `c-${orderId.slice(4, 24)}`, signalId: `sig-${orderId}`, decisionId: `dec-${orderId}`, account, strategy: 'trend-1',
      symbol, venue: 'paper', side: 'BUY', quantity: 5, orderType: 'LIMIT', limitPrice: 100, stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce,
      signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: Date.now() * 1000,
    };
    await producer.send({ topic: pipeline.topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(pipeline.topics.orders, order), headers: accountHeaders(account) }] });
    await waitFor(`the ACK of ${orderId} in Postgres`, async () => (await openOrders(pool, 'DESK', '*')).some((r) => r.orderId === orderId));
    return order;
  }

  async function executionsOf(orderId: string): Promise<ExecutionReport[]> {
    const all = await Promise.all((await readAll(env, pipeline.topics.executions)).map((m) => codec.decode('ExecutionReport', m.value!)));
    return all.filter((e) => e.orderId === orderId);
  }

  it('cancels one resting order: one CANCEL from the venue, no open order left, in the audit trail', async () => {
    const order = await restingOrder('ACC-1');
    assert.equal((await ops('POST', '/cancel', VIEWER, { orderId: order.orderId })).status, 403, 'a viewer may not cancel');

    const res = await ops('POST', '/cancel', OPERATOR, { orderId: order.orderId, reason: 'drill' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body.requested.map((r: { orderId: string }) => r.orderId), [order.orderId]);

    const cancels = await waitFor('the CANCEL on executions', async () => {
      const c = (await executionsOf(order.orderId)).filter((e) => e.type === 'CANCEL');
      return c.length > 0 ? c : null;
    });
    assert.equal(cancels[0].reason, 'CANCELED');
    assert.equal(cancels[0].clientOrderId, order.clientOrderId);
    await waitFor('no open order in the projection', async () => (await openOrders(pool, 'DESK', '*')).length === 0);
    const stats = (await (await fetch(`${env.PAPER_VENUE_URL}/v1/stats`)).json()) as { canceled: number };
    assert.equal(stats.canceled, 1, 'the venue canceled it');

    // Once: the venue's push of the same cancel, and a repeated request, add nothing.
    const again = await ops('POST', '/cancel', OPERATOR, { orderId: order.orderId });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'ORDER_NOT_OPEN');
    const unknown = await ops('POST', '/cancel', OPERATOR, { orderId: 'ord-nope' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'UNKNOWN_ORDER');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await executionsOf(order.orderId)).filter((e) => e.type === 'CANCEL').length, 1, 'exactly one CANCEL');

    const trail = await auditTrail({ kafka: testKafka(env), codec, topics: pipeline.topics, pool }, order.orderId);
    assert.ok(trail.steps.some((s) => s.kind === 'execution' && s.headline.startsWith('CANCEL')), 'the cancel is in the audit trail');
    const asked = trail.steps.find((s) => s.kind === 'cancel');
    assert.equal(asked?.headline, 'CANCEL REQUESTED by ops:bob (drill)', 'with who asked and why');
  });

  it('a halt with cancelOnHalt cancels the resting orders of its scope only', async () => {
    const mine = await restingOrder('ACC-1');
    const other = await restingOrder('ACC-2');
    const set = await ops('PUT', '/cancel-on-halt/account/ACC-1', OPERATOR, { enabled: true, reason: 'flat on halt' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.previous, false);

    const halt = await ops('POST', '/halt', OPERATOR, { scope: 'account', target: 'ACC-1' });
    assert.equal(halt.status, 200, JSON.stringify(halt.body));
    assert.deepEqual(halt.body.cancels.requested.map((r: { orderId: string }) => r.orderId), [mine.orderId]);
    await waitFor('the CANCEL of the halted account order', async () => (await executionsOf(mine.orderId)).some((e) => e.type === 'CANCEL'));

    // Off (the default) for ACC-2: its halt keeps the order working.
    const halt2 = await ops('POST', '/halt', OPERATOR, { scope: 'account', target: 'ACC-2' });
    assert.equal(halt2.status, 200);
    assert.equal(halt2.body.cancels, null);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual((await openOrders(pool, 'DESK', '*')).map((r) => r.orderId), [other.orderId]);

    // A scope cancel takes what is left.
    const res = await ops('POST', '/cancel', OPERATOR, { scope: 'venue', target: 'paper' });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.requested.map((r: { orderId: string }) => r.orderId), [other.orderId]);
    await waitFor('no open order left', async () => (await openOrders(pool, 'DESK', '*')).length === 0);
  });

  it('a DAY order expires at the paper venue\'s session end: a CANCEL (EXPIRED) on executions, no open order', async () => {
    const day = await restingOrder('ACC-2', 'MSFT', 'DAY');
    venueClockOffset = 86_400_000 + 60_000; // past the next session end (21:00 UTC by default)
    await restingOrder('ACC-2', 'AAPL'); // the venue expires due DAY orders as it takes the next one
    const expired = await waitFor('the EXPIRED report', async () => (await executionsOf(day.orderId)).find((e) => e.type === 'CANCEL'));
    assert.equal(expired.reason, 'EXPIRED');
    await waitFor('the DAY order out of the open orders', async () => !(await openOrders(pool, 'DESK', '*')).some((r) => r.orderId === day.orderId));
  });
});
