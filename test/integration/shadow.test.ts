// Shadow routing on the real stack: a venue put in shadow through the ops API gets exactly one twin
// of each live order on `orders-shadow` (written in the decide transaction), the twin is filled
// against the quotes into shadow_fills (never `executions`), and GET /ops/shadow-report compares.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Order } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { shadowOrderIdFor } from '../../streams/shadow/twin.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';

const ADMIN = 'it-admin-token-2f4e6a8c0b1d3f5e7a9c';
const OPS_TOKENS = JSON.stringify([{ name: 'alice', role: 'admin', token: ADMIN }]);
const MID = 190.12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('shadow routing', () => {
  const env = isolatedEnv({ OPS_TOKENS });
  let pipeline: Pipeline;
  let pool: Pool;
  let codec: Codec;
  let producer: Producer;

  before(async () => {
    pipeline = await startPipeline({ env, components: ['edge', 'decide', 'projection'], log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
    codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    await codec.register(pipeline.topics.quotes, 'Quote');
    producer = testKafka(env).producer({ createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await pool?.end();
    await pipeline?.stop();
  });

  const ops = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${pipeline.edgeUrl}/ops${path}`, {
      method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  async function quote(): Promise<void> {
    const now = Date.now();
    const value = codec.encode(pipeline.topics.quotes, { venue: 'paper', symbol: 'AAPL', bid: MID - 0.01, ask: MID + 0.01, bidSize: 1e4, askSize: 1e4, venueTime: now, hlc: now * 1000 });
    await producer.send({ topic: pipeline.topics.quotes, acks: -1, messages: [{ key: 'paper|AAPL', value, headers: accountHeaders('paper|AAPL') }] });
  }

  async function alert(): Promise<void> {
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), time: new Date().toISOString() })),
    });
    assert.equal(res.status, 202);
  }

  const decode = async (topic: string) => Promise.all((await readAll(env, topic)).map((m) => codec.decode('Order', m.value!))) as Promise<Order[]>;

  it('every live order gets exactly one twin for the shadow venue, filled into shadow_fills and reported', async () => {
    const set = await ops('PUT', '/cost-model/venue/sim', { shadow: true, fees: { equity: { bps: 1 } }, instruments: { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01 } } });
    assert.equal(set.status, 200);
    await sleep(1000);
    for (let i = 0; i < 3; i++) {
      await quote();
      await sleep(300);
      await alert();
    }
    const live = await waitFor('three live orders', async () => {
      const orders = await decode(pipeline.topics.orders);
      return orders.length >= 3 ? orders : null;
    });
    assert.ok(live.every((o) => o.venue === 'paper'), 'a shadow venue never takes live flow');
    const twins = await waitFor('the twins', async () => {
      const t = await decode(pipeline.topics.ordersShadow);
      return t.length >= live.length ? t : null;
    });
    assert.deepEqual(twins.map((t) => t.orderId).sort(), live.map((o) => shadowOrderIdFor(o.orderId, 'sim')).sort());
    assert.ok(twins.every((t) => t.venue === 'sim'));

    const rows = await waitFor('the shadow fills', async () => {
      const { rows } = await pool.query('SELECT * FROM shadow_fills ORDER BY shadow_order_id');
      return rows.length >= 3 ? rows : null;
    });
    assert.deepEqual(rows.map((r) => [r.venue, r.live_venue, r.filled_qty, r.fill_price, r.arrival_mid]), live.map(() => ['sim', 'paper', 10, MID + 0.01, MID]));
    const leaked = await pool.query("SELECT count(*)::int AS n FROM executions WHERE venue = 'sim'");
    assert.equal(leaked.rows[0].n, 0);

    const report = await ops('GET', '/shadow-report');
    assert.equal(report.status, 200);
    const line = (book: string) => report.body.lines.find((l: any) => l.book === book && l.symbol === 'AAPL');
    assert.deepEqual([line('shadow').venue, line('shadow').orders, line('shadow').fillRate], ['sim', 3, 1]);
    assert.ok(Math.abs(line('shadow').slippageBps - (0.01 / MID) * 1e4) < 1e-6);
    // No connector runs here, so the live orders have no fills yet.
    assert.deepEqual([line('live').venue, line('live').orders, line('live').fillRate], ['paper', 3, 0]);
  });
});
