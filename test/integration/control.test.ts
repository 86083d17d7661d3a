// The control plane on the real stack: ops API → Postgres + `control` → the decide processor.
// A halt stops the next order, a resume lets it through, a marked-to-market loss halts the account
// by itself, roles are enforced, a Kafka outage leaves no half state, and a topic that lost the
// control records gets them back from Postgres.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Producer } from 'kafkajs';
import { prepare, startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Control, ExecutionReport, Order, RiskDecision } from '../../schemas/types.ts';
import { startControlPlane } from '../../streams/control/plane.ts';
import { createControlWriter } from '../../streams/control/writer.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const ADMIN = 'it-admin-token-7c2f9e1a5b3d8c4f6a0e';
const OPERATOR = 'it-operator-token-3e8a1c5f7b9d2e4c6a8b';
const VIEWER = 'it-viewer-token-9b7d5f3a1c8e6b4d2f0a';
const OPS_TOKENS = JSON.stringify([
  { name: 'alice', role: 'admin', token: ADMIN }, { name: 'bob', role: 'operator', token: OPERATOR }, { name: 'vic', role: 'viewer', token: VIEWER },
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('control plane', () => {
  const env = isolatedEnv({ OPS_TOKENS });
  let pipeline: Pipeline;
  let pool: Pool;
  let codec: Codec;
  let producer: Producer;

  before(async () => {
    pipeline = await startPipeline({ env, components: ['edge', 'decide'], log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
    codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    for (const t of ['quotes', 'executions'] as const) await codec.register(pipeline.topics[t], t === 'quotes' ? 'Quote' : 'ExecutionReport');
    producer = testKafka(env).producer({ createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await pool?.end();
    await pipeline?.stop();
  });

  const ops = async (method: string, path: string, token: string | null, body?: unknown) => {
    const res = await fetch(`${pipeline.edgeUrl}/ops${path}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  /** Posts an alert and returns the decision the gate made for it. */
  async function decided(over: Record<string, unknown> = {}): Promise<RiskDecision> {
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), time: new Date().toISOString(), ...over })),
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

  async function controls(): Promise<Control[]> {
    return Promise.all((await readAll(env, pipeline.topics.control)).filter((m) => m.value !== null).map((m) => codec.decode('Control', m.value!)));
  }

  async function publishQuote(symbol: string, mid: number): Promise<void> {
    const now = Date.now();
    const value = codec.encode(pipeline.topics.quotes, { venue: 'paper', symbol, bid: mid - 0.01, ask: mid + 0.01, bidSize: 1e4, askSize: 1e4, venueTime: now, hlc: now * 1000 });
    await producer.send({ topic: pipeline.topics.quotes, acks: -1, messages: [{ key: `paper|${symbol}`, value, headers: accountHeaders(`paper|${symbol}`) }] });
  }

  async function publishFill(order: Order, price: number): Promise<void> {
    const now = Date.now();
    const fill: ExecutionReport = {
      executionId: `paper:${order.orderId}:1`, type: 'FILL', orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: 'v-1', venueTradeId: 't-1',
      signalId: order.signalId, account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side,
      lastQty: order.quantity, lastPrice: price, cumQty: order.quantity, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
      venueTime: now, recordedAt: now, hlc: now * 1000,
    };
    await producer.send({ topic: pipeline.topics.executions, acks: -1, messages: [{ key: order.orderId, value: codec.encode(pipeline.topics.executions, fill), headers: accountHeaders(order.account) }] });
  }

  it('given an operator halts an account, then within a second its next order is denied; a resume lets the next one through', async () => {
    assert.equal((await decided()).verdict, 'APPROVED');
    const halt = await ops('POST', '/halt', OPERATOR, { scope: 'account', target: 'ACC-1', reason: 'drill' });
    assert.equal(halt.status, 200);
    assert.deepEqual([halt.body.scope, halt.body.target, halt.body.current], ['ACCOUNT', 'ACC-1', { state: 'HALTED' }]);
    await sleep(1000);
    const denied = await decided();
    assert.deepEqual([denied.verdict, denied.reason], ['DENIED', 'TRADING_HALTED']);
    assert.equal(JSON.parse(denied.detail!).target, 'ACC-1');

    assert.equal((await ops('POST', '/resume', OPERATOR, { scope: 'account', target: 'ACC-1' })).status, 200);
    await sleep(1000);
    assert.equal((await decided()).verdict, 'APPROVED');

    const states = await ops('GET', '/states', VIEWER);
    assert.deepEqual(states.body.states.map((s: any) => [s.scope, s.target, s.state, s.updatedBy]), [['ACCOUNT', 'ACC-1', 'ACTIVE', 'bob']]);
    const audit = await ops('GET', '/audit?scope=account&target=ACC-1', VIEWER);
    assert.deepEqual(
      audit.body.entries.map((e: any) => [e.actor, e.role, e.action, e.oldValue, e.newValue]),
      [['bob', 'operator', 'RESUME', { state: 'HALTED' }, { state: 'ACTIVE' }], ['bob', 'operator', 'HALT', null, { state: 'HALTED' }]],
    );
    const onTopic = (await controls()).filter((c) => c.scope === 'ACCOUNT' && c.target === 'ACC-1');
    assert.deepEqual(onTopic.map((c) => [c.state, c.actor]), [['HALTED', 'bob'], ['ACTIVE', 'bob']]);
  });

  it('given a viewer token, then a halt is 403; without a token 401; and nothing changes', async () => {
    const before = (await pool.query('SELECT count(*)::int AS n FROM control_audit')).rows[0].n;
    assert.equal((await ops('POST', '/halt', VIEWER, { scope: 'desk' })).status, 403);
    assert.equal((await ops('POST', '/halt', null, { scope: 'desk' })).status, 401);
    assert.equal((await ops('POST', '/halt', 'x'.repeat(40), { scope: 'desk' })).status, 401);
    assert.equal((await ops('PUT', '/limits/desk/*', OPERATOR, { maxOrderQty: 1 })).status, 403);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM control_audit')).rows[0].n, before);
  });

  it('given an admin sets a limit, then a bad field is refused by name and a good one reaches the gate', async () => {
    const bad = await ops('PUT', '/limits/account/ACC-1', ADMIN, { maxOrderQty: -5 });
    assert.deepEqual([bad.status, bad.body.error.field], [400, 'maxOrderQty']);
    const set = await ops('PUT', '/limits/account/ACC-1', ADMIN, { maxOrderQty: 5 });
    assert.equal(set.status, 200);
    await sleep(1000);
    const denied = await decided({ contracts: '10' });
    assert.deepEqual([denied.verdict, denied.reason], ['DENIED', 'MAX_ORDER_QTY']);
    assert.equal((await ops('DELETE', '/limits/account/ACC-1', ADMIN)).status, 200);
    await sleep(1000);
    assert.equal((await decided({ contracts: '10' })).verdict, 'APPROVED');
    const audit = (await ops('GET', '/audit?target=ACC-1&limit=2', VIEWER)).body.entries;
    assert.deepEqual(audit.map((e: any) => [e.actor, e.action, e.oldValue, e.newValue]), [
      ['alice', 'CLEAR_LIMITS', { maxOrderQty: 5 }, null], ['alice', 'SET_LIMITS', null, { maxOrderQty: 5 }],
    ]);
  });

  it('given marked-to-market losses beyond the daily limit, then the gate halts the account itself', async () => {
    assert.equal((await ops('PUT', '/limits/account/ACC-2', ADMIN, { dailyLossLimit: 100 })).status, 200);
    await publishQuote('AAPL', 100);
    await sleep(1000);
    const first = await decided({ strategy: 'meanrev-2', contracts: '10', price: '100' });
    assert.equal(first.verdict, 'APPROVED');
    const order = await waitFor('the order', async () => {
      for (const m of await readAll(env, pipeline.topics.orders)) {
        const o = await codec.decode('Order', m.value!);
        if (o.orderId === first.orderId) return o;
      }
      return null;
    });
    await publishFill(order, 100);
    await publishQuote('AAPL', 80); // 10 shares from 100 to 80: −200 against a limit of 100
    await sleep(1000);

    const breach = await decided({ strategy: 'meanrev-2', contracts: '1', price: '80' });
    assert.deepEqual([breach.verdict, breach.reason], ['DENIED', 'DAILY_LOSS_LIMIT']);
    assert.ok(JSON.parse(breach.detail!).pnl <= -199.9);
    const halt = await waitFor('the halt on the control topic', async () =>
      (await controls()).find((c) => c.kind === 'TRADING_STATE' && c.scope === 'ACCOUNT' && c.target === 'ACC-2'));
    assert.deepEqual([halt.state, halt.actor], ['HALTED', 'risk-gate']);
    const later = await decided({ strategy: 'meanrev-2', contracts: '1', price: '80' });
    assert.deepEqual([later.verdict, later.reason], ['DENIED', 'TRADING_HALTED']);

    // The mirror records the gate's halt in Postgres, so the ops view shows it and who did it.
    const state = await waitFor('the halt in the ops view', async () =>
      (await ops('GET', '/states', VIEWER)).body.states.find((s: any) => s.target === 'ACC-2'));
    assert.deepEqual([state.state, state.updatedBy], ['HALTED', 'risk-gate']);
    const audit = (await ops('GET', '/audit?target=ACC-2&limit=1', VIEWER)).body.entries[0];
    assert.deepEqual([audit.actor, audit.role, audit.action, audit.newValue], ['risk-gate', null, 'FROM_TOPIC', { state: 'HALTED' }]);
  });

  it('given Kafka does not acknowledge, then the change is refused UNAVAILABLE and Postgres is unchanged', async () => {
    const snapshot = async () => (await pool.query(`SELECT
      (SELECT count(*) FROM control_audit)::int AS audit, (SELECT count(*) FROM control_states WHERE target = 'ACC-9')::int AS states`)).rows[0];
    const before = await snapshot();
    for (const publish of [async () => { throw new Error('broker down'); }, () => new Promise<string>(() => {})]) {
      const writer = createControlWriter({ pool, publish, log: testLog(), hlc: () => Date.now() * 1000, publishTimeoutMs: 300 });
      await assert.rejects(
        writer.change({ kind: 'TRADING_STATE', scope: 'ACCOUNT', target: 'ACC-9', value: { state: 'HALTED' }, action: 'HALT', actor: 'bob', role: 'operator', reason: null }),
        (e: { code?: string; retriable?: boolean }) => e.code === 'UNAVAILABLE' && e.retriable === true,
      );
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('given a token made with `order-router ops-token`, then it works with its role until revoked; only its hash is stored', async () => {
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'ops-token', ...args], { env });
    const token = (await cli('--name', 'dash', '--role', 'viewer')).stdout.trim();
    assert.ok(token.length >= 32);
    assert.equal((await ops('GET', '/states', token)).status, 200);
    assert.equal((await ops('POST', '/halt', token, { scope: 'desk' })).status, 403);
    const stored = (await pool.query("SELECT encode(token_sha256, 'hex') AS h FROM ops_tokens WHERE name = 'dash'")).rows[0].h;
    assert.notEqual(stored, token);
    await cli('--name', 'dash', '--revoke');
    assert.equal((await ops('GET', '/states', token)).status, 401);
  });

  it('the audit trail is insert-only', async () => {
    await assert.rejects(pool.query("UPDATE control_audit SET actor = 'mallory'"), /insert-only/);
    await assert.rejects(pool.query('DELETE FROM control_audit'), /insert-only/);
  });

  it('given a control topic that lacks what Postgres holds, then the reconciler republishes it at start', async () => {
    const fresh = { ...env, TOPIC_PREFIX: `${env.TOPIC_PREFIX}r.` };
    const kafka = testKafka(fresh);
    const topics = await prepare(loadRuntimeEnv(fresh), kafka, codec);
    const plane = await startControlPlane({ kafka, pool, codec, topic: topics.control, log: testLog(), hlc: () => Date.now() * 1000 });
    try {
      await plane.reconciled;
      const stored = (await pool.query("SELECT 'LIMITS|' || scope || '|' || target AS k FROM control_limits UNION ALL SELECT 'TRADING_STATE|' || scope || '|' || target FROM control_states")).rows.map((r) => r.k).sort();
      assert.ok(stored.length >= 2);
      const republished = (await readAll(fresh, topics.control)).map((m) => m.key!.toString()).sort();
      assert.deepEqual(republished, stored);
      const entries = (await pool.query("SELECT actor FROM control_audit WHERE action = 'REPUBLISH'")).rows;
      assert.equal(entries.length, stored.length);
      assert.ok(entries.every((e) => e.actor === 'reconciler'));
    } finally {
      await plane.stop();
    }
  });
});
