// The router on the real stack: two venues (`paper` and a second listing `paper-b`), the cost model
// changed through the ops API and carried by `control` to a running decide processor, quotes on the
// `quotes` topic. Fees, spreads and halts move the next order without a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Order, RiskDecision } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';

const ADMIN = 'it-admin-token-5d1e9c7a3f2b8e6d4c0a';
const VIEWER = 'it-viewer-token-8a6c4e2f0d9b7a5c3e1f';
const OPS_TOKENS = JSON.stringify([{ name: 'alice', role: 'admin', token: ADMIN }, { name: 'vic', role: 'viewer', token: VIEWER }]);
const MID = 190.12; // the alert's price, so the price collar is quiet

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const aapl = { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01, minNotional: 1 } };
const venueDoc = (equity: Record<string, number>, extra: Record<string, unknown> = {}) => ({ enabled: true, fees: { equity }, instruments: aapl, ...extra });

describe('router on the real stack', () => {
  const env = isolatedEnv({ OPS_TOKENS });
  let pipeline: Pipeline;
  let pool: Pool;
  let codec: Codec;
  let producer: Producer;

  before(async () => {
    pipeline = await startPipeline({ env, components: ['edge', 'decide'], log: testLog() });
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

  const ops = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${pipeline.edgeUrl}/ops${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  async function quote(venue: string, halfWidth: number): Promise<void> {
    const now = Date.now();
    const value = codec.encode(pipeline.topics.quotes, {
      venue, symbol: 'AAPL', bid: MID - halfWidth, ask: MID + halfWidth, bidSize: 1e4, askSize: 1e4, venueTime: now, hlc: now * 1000,
    });
    await producer.send({ topic: pipeline.topics.quotes, acks: -1, messages: [{ key: `${venue}|AAPL`, value, headers: accountHeaders(`${venue}|AAPL`) }] });
  }

  /** Fresh quotes on both venues (paper-b's half width given), then one alert; returns its decision. */
  async function decided(paperBHalfWidth = 0.01): Promise<RiskDecision> {
    await quote('paper', 0.01);
    await quote('paper-b', paperBHalfWidth);
    await sleep(500);
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), time: new Date().toISOString() })),
    });
    assert.equal(res.status, 202);
    const { signalId } = (await res.json()) as { signalId: string };
    return waitFor(`the decision for ${signalId}`, async () => {
      for (const m of await readAll(env, pipeline.topics.riskDecisions)) {
        const d = await codec.decode('RiskDecision', m.value!);
        if (d.signalId === signalId) return d;
      }
      return null;
    });
  }

  async function orders(): Promise<Order[]> {
    return Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec.decode('Order', m.value!)));
  }

  it('refuses a bad cost model by field name, and a viewer may read but not write', async () => {
    const bad = await ops('PUT', '/cost-model/venue/paper-b', ADMIN, venueDoc({ bps: 'x' as unknown as number }));
    assert.deepEqual([bad.status, bad.body.error.field], [400, 'fees.equity.bps']);
    const unknown = await ops('PUT', '/cost-model/desk', ADMIN, { slippageWeigth: 1 });
    assert.deepEqual([unknown.status, unknown.body.error.field], [400, 'slippageWeigth']);
    assert.equal((await ops('PUT', '/cost-model/desk', VIEWER, {})).status, 403);
    assert.equal((await ops('GET', '/cost-model', VIEWER)).status, 200);
  });

  it('a fee change moves the next order to the other venue; a wide spread moves it back; a halted venue gets nothing', async () => {
    const add = await ops('PUT', '/cost-model/venue/paper-b', ADMIN, venueDoc({ perUnit: 0.005, minimum: 1 }));
    assert.equal(add.status, 200);
    await sleep(1000);
    // Same fees, same spread: the tie goes to the preferred venue.
    const first = await decided();
    assert.deepEqual([first.verdict, first.venue], ['APPROVED', 'paper']);
    assert.deepEqual(first.candidates.map((c) => c.venue).sort(), ['paper', 'paper-b']);

    assert.equal((await ops('PUT', '/cost-model/venue/paper', ADMIN, venueDoc({ perUnit: 0.005, minimum: 1, bps: 20 }), )).status, 200);
    await sleep(1000);
    const second = await decided();
    assert.deepEqual([second.verdict, second.venue], ['APPROVED', 'paper-b']);

    // paper-b's half spread becomes ~53 bps, dearer than paper's 20 bps fee.
    const third = await decided(1);
    assert.deepEqual([third.verdict, third.venue], ['APPROVED', 'paper']);

    const halt = await ops('POST', '/halt', ADMIN, { scope: 'venue', target: 'paper-b', reason: 'drill' });
    assert.equal(halt.status, 200);
    await sleep(1000);
    const fourth = await decided();
    assert.deepEqual([fourth.verdict, fourth.venue], ['APPROVED', 'paper']);
    assert.ok(!fourth.candidates.some((c) => c.venue === 'paper-b'));
    const routed = (await orders()).filter((o) => o.createdAt >= fourth.decidedAt);
    assert.deepEqual(routed.map((o) => o.venue), ['paper']);

    const listed = await ops('GET', '/cost-model', VIEWER);
    assert.deepEqual(Object.keys(listed.body.venues).sort(), ['paper', 'paper-b']);
    assert.equal(listed.body.venues.paper.fees.equity.bps, 20);
    const audit = await pool.query("SELECT actor, role, target FROM control_audit WHERE kind = 'COST_MODEL' ORDER BY audit_id");
    assert.deepEqual(audit.rows.map((r) => [r.actor, r.role, r.target]), [['alice', 'admin', 'paper-b'], ['alice', 'admin', 'paper']]);
  });
});
