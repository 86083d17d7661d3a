// Auditors on the real stack: a few thousand alerts through the whole pipeline (most produced straight
// to `signals`, some through the HTTP edge), venue corrections and busts, then: positions rebuilt from
// the log equal Postgres, the log is insert-only, tampering is caught by the hash chain, and a Postgres
// restart mid-stream loses and doubles nothing.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Control, ExecutionReport, Signal } from '../../schemas/types.ts';
import { prepare, startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { runAuditCommand } from '../../streams/audit/commands.ts';
import { verifyAudit } from '../../streams/audit/verify.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createProjection } from '../../streams/projection/processor.ts';
import { createPool, migrate, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner, partitionForAccount } from '../../streams/runtime/kafka.ts';
import { topicNames } from '../../schemas/topics.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const run = promisify(execFile);
// One strategy per account: the out-of-order check is per strategy, and order is kept per partition.
const DIRECT = [['ACC-3', 'strat-3'], ['ACC-4', 'strat-4'], ['ACC-7', 'strat-7']] as const;
const SYMBOLS = ['AAPL', 'MSFT', 'ETHUSD'] as const;

describe('audit: replay, verify, trail on the real stack', () => {
  // The venue runs in this process beside the whole pipeline: a burst must not read as a venue outage.
  const env = isolatedEnv({ VENUE_TIMEOUT_MS: '15000' });
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = testKafka(env);
  let codec: Codec;
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  let producer: Producer;
  let hlc = Date.now() * 1000;

  const signal = (account: string, strategy: string, i: number): Signal => {
    const symbol = SYMBOLS[Math.floor(i / DIRECT.length) % SYMBOLS.length];
    const now = Date.now();
    return {
      signalId: `sig-${randomUUID()}`, source: 'SIGNED', account, strategy, symbol, intent: 'DELTA',
      // Mostly alternating, so positions wander around zero: closes and flips realise P&L.
      side: (i >> 1) % 2 === 0 ? 'BUY' : 'SELL', quantity: symbol === 'ETHUSD' ? 0.1 * (1 + (i % 5)) : 1 + (i % 7),
      targetPosition: null, orderType: 'MARKET', limitPrice: null, price: null, reportedPosition: null,
      externalOrderId: null, alertTime: now, receivedAt: now, hlc: (hlc = Math.max(hlc + 1, now * 1000)), extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
    };
  };
  async function produceSignals(n: number): Promise<void> {
    for (let start = 0; start < n; start += 200) {
      const batch = Array.from({ length: Math.min(200, n - start) }, (_, j) => {
        const [account, strategy] = DIRECT[(start + j) % DIRECT.length];
        return signal(account, strategy, start + j);
      });
      await producer.send({ topic: topics.signals, acks: -1, messages: batch.map((s) => ({ key: s.signalId, value: codec.encode(topics.signals, s), headers: accountHeaders(s.account) })) });
    }
  }
  const executions = async () => Promise.all((await readAll(env, topics.executions)).map((m) => codec.decode('ExecutionReport', m.value!)));
  /** Quiet and fully projected: the topic stopped growing and Postgres holds each of its execution ids. */
  const projected = () => {
    let last = -1;
    return waitFor('the projection to catch up', async () => {
      const ids = new Set((await executions()).map((e) => e.executionId)).size;
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM executions');
      const done = ids === Number(rows[0].n) && ids === last;
      last = ids;
      return done;
    }, 90_000, 1000);
  };
  const audit = (command: 'replay' | 'audit', ...argv: string[]) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    return runAuditCommand(command, argv, { stdout: out, stderr: new PassThrough(), env })
      .then((code) => ({ code, lines: Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean) }));
  };
  const verify = () => {
    const e = loadRuntimeEnv(env);
    return verifyAudit({ kafka, codec, pool, schema: e.PG_SCHEMA, topic: topics.executions, consumer: `${e.TOPIC_PREFIX}order-router-projection` });
  };

  before(async () => {
    const runtime = loadRuntimeEnv(env);
    codec = createCodec(runtime.SCHEMA_REGISTRY_URL);
    await prepare(runtime, kafka, codec);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    // The desk's default order rate (60 per minute per strategy) would deny most of a burst, and on a
    // busy machine a signal can wait longer than the default 15 s for its decision.
    const limits: Control = {
      controlId: 'audit-test-limits', kind: 'LIMITS', scope: 'DESK', target: '*', state: null, actor: 'audit-test', reason: 'load test',
      payload: JSON.stringify({ maxOrdersPerMinute: 1_000_000, maxGrossExposure: 1e12, dailyLossLimit: 1e12, maxSignalAgeMs: 600_000 }), at: Date.now(), hlc: hlc++,
    };
    await producer.send({ topic: topics.control, acks: -1, messages: [{ key: 'LIMITS|DESK|*', value: codec.encode(topics.control, limits), headers: accountHeaders('*') }] });
    // Market data ticking, so the market maker's book refills between orders and prices move (P&L).
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 20 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog() });
    pool = createPool(runtime);
    await waitFor('quotes for every symbol', async () => new Set((await readAll(env, topics.quotes)).map((m) => m.key?.toString())).size >= SYMBOLS.length);
  });
  after(async () => {
    await producer?.disconnect();
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  it('projects a few thousand alerts (Kafka and HTTP) with corrections and busts; audit verify rebuilds them exactly', async () => {
    assert.equal(new Set(DIRECT.map(([a]) => partitionForAccount(a, 3))).size, 3, 'the accounts cover every partition');
    const http = Array.from({ length: 60 }, (_, i) => tradingViewAlert({
      strategy: i % 2 ? 'trend-1' : 'meanrev-2', action: i % 4 < 2 ? 'buy' : 'sell', contracts: String(1 + (i % 3)), order_id: `audit-${i}`,
    }));
    await produceSignals(1200);
    await waitFor('the first 1200 decided and at the venue', async () => {
      const stats = (await (await fetch(`${env.PAPER_VENUE_URL}/v1/stats`)).json()) as { ordersCreated: number };
      return (await readAll(env, topics.riskDecisions)).length >= 1200 && stats.ordersCreated >= (await readAll(env, topics.orders)).length;
    }, 60_000, 500);
    // From here on the book fills 60% of each order at once; the IOC rest is cancelled.
    const knobs = await fetch(`${env.PAPER_VENUE_URL}/v1/admin/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partialFillRatio: 0.6 }) });
    assert.equal(knobs.status, 200);
    const [statuses] = await Promise.all([
      Promise.all(http.map((a) => fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(a) }).then((r) => r.status))),
      produceSignals(1200),
    ]);
    assert.deepEqual(new Set(statuses), new Set([202]));
    await waitFor('fills on the executions topic', async () => (await executions()).filter((e) => e.lastQty > 0).length > 1000, 90_000, 1000);

    // The venue's later statements: corrected prices and quantities, busted trades.
    const fills = (await executions()).filter((e) => e.venueTradeId && e.lastQty > 0);
    const amend = async (path: string, body?: unknown) => {
      const res = await fetch(`${env.PAPER_VENUE_URL}/v1/admin/fills/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
      assert.equal(res.status, 200, path);
    };
    for (const f of fills.slice(10, 16)) await amend(`${f.venueTradeId}/correct`, { price: Math.round(f.lastPrice * 1.01 * 100) / 100 });
    for (const f of fills.slice(20, 24)) await amend(`${f.venueTradeId}/bust`);
    await waitFor('corrections and busts on the topic', async () => (await executions()).filter((e) => e.type === 'CORRECTION' || e.type === 'BUST').length >= 10, 30_000, 500);
    await projected();

    const { stdout, stderr } = await run(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'audit', 'verify'], { env, cwd: process.cwd() }).catch((e) => e);
    assert.match(stdout, /^OK: \d+ events \(\d+ stored, \d+ repeats\), \d+ positions, hash chain intact/m, `${stdout}${stderr}`);
    const report = await verify();
    assert.ok(report.ok && report.events > 3000 && report.positions >= 10, JSON.stringify({ ...report, differences: report.differences.slice(0, 5) }));

    // The views agree with the fold: per position, filled quantity by side nets to the position, and
    // the day's realized P&L adds up to the position's.
    const { rows } = await pool.query<{ key: string; quantity: number; net: number; realized: number; day: number }>(`
      SELECT concat_ws('|', p.account_id, p.symbol, p.venue) AS key, p.quantity, p.realized_pnl AS realized,
        (SELECT coalesce(sum(CASE WHEN side = 'BUY' THEN filled_qty ELSE -filled_qty END), 0) FROM order_lifecycle o
          WHERE o.account_id = p.account_id AND o.symbol = p.symbol AND o.venue = p.venue) AS net,
        (SELECT coalesce(sum(realized_pnl), 0) FROM daily_realized_pnl d
          WHERE d.account_id = p.account_id AND d.symbol = p.symbol AND d.venue = p.venue) AS day
      FROM positions p`);
    for (const r of rows) {
      assert.ok(Math.abs(r.quantity - r.net) < 1e-6, `${r.key}: order_lifecycle nets ${r.net}, position ${r.quantity}`);
      assert.ok(Math.abs(r.realized - r.day) < 1e-6 * (1 + Math.abs(r.realized)), `${r.key}: daily ${r.day}, position ${r.realized}`);
    }
    const status = await pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM order_lifecycle GROUP BY status');
    assert.ok(status.rows.some((r) => r.status === 'FILLED'), JSON.stringify(status.rows));
  });

  it('replays a topic decoded, filtered, from an offset or a time, and stops at the end it saw', async () => {
    const all = await audit('replay', 'executions', '--from-beginning');
    assert.equal(all.code, 0);
    const lines = all.lines.map((l) => JSON.parse(l) as { partition: number; offset: string; timestamp: string; key: string; value: ExecutionReport });
    assert.equal(lines.length, (await readAll(env, topics.executions)).length);
    assert.ok(lines.every((l) => l.value.executionId && l.key === l.value.orderId && !Number.isNaN(Date.parse(l.timestamp))));

    const some = await audit('replay', 'executions', '--account', 'ACC-4', '--symbol', 'MSFT', '--limit', '7');
    assert.equal(some.lines.length, 7);
    assert.ok(some.lines.map((l) => JSON.parse(l).value).every((v: ExecutionReport) => v.account === 'ACC-4' && v.symbol === 'MSFT'));

    const fromOffset = await audit('replay', 'orders', '--from-offset', '100');
    const orders = (await readAll(env, topics.orders)).length;
    assert.ok(fromOffset.lines.length > 0 && fromOffset.lines.length < orders);
    assert.ok(fromOffset.lines.every((l) => BigInt(JSON.parse(l).offset) >= 100n));

    assert.deepEqual((await audit('replay', 'signals', '--from-time', new Date(Date.now() + 3_600_000).toISOString())).lines, []);
    assert.ok((await audit('replay', 'risk-decisions', '--from-time', new Date(Date.now() - 3_600_000).toISOString())).lines.length > 2000);
    const bad = await audit('replay', 'quotes', '--strategy', 'x');
    assert.equal(bad.code, 2);
  });

  it('traces one order: signal, decision, order, every execution, with our time and the venue time', async () => {
    const fill = (await executions()).find((e) => e.type === 'FILL' && e.account === 'ACC-3')!;
    const { code, lines } = await audit('audit', 'trail', fill.orderId, '--json');
    assert.equal(code, 0);
    const trail = JSON.parse(lines[0]) as { signalId: string; steps: { kind: string; at: string; venueTime: string | null }[]; warnings: string[] };
    assert.equal(trail.signalId, fill.signalId);
    assert.deepEqual(trail.steps.slice(0, 3).map((s) => s.kind), ['signal', 'decision', 'order']);
    const execs = trail.steps.filter((s) => s.kind === 'execution');
    assert.ok(execs.length >= 2 && execs.every((s) => s.venueTime !== null && s.at.endsWith('Z')));
    assert.deepEqual(trail.warnings, []);
    const text = await audit('audit', 'trail', fill.signalId);
    assert.ok(text.lines.some((l) => l.includes('APPROVED')) && text.lines.some((l) => l.includes('in Postgres, hash')));
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the execution log', async () => {
    await assert.rejects(pool.query('UPDATE executions SET last_price = 0'), /insert-only: UPDATE refused/);
    await assert.rejects(pool.query('DELETE FROM executions'), /insert-only: DELETE refused/);
    await assert.rejects(pool.query('TRUNCATE executions CASCADE'), /insert-only: TRUNCATE refused/);
    await assert.rejects(pool.query('UPDATE position_history SET realized_pnl_delta = 0'), /insert-only/);
  });

  it('names the broken link when a superuser alters a row with the trigger disabled', async () => {
    const { rows } = await pool.query<{ execution_id: string; kafka_partition: number; kafka_offset: string; last_price: number }>(
      `SELECT execution_id, kafka_partition, kafka_offset, last_price FROM executions WHERE type IN ('FILL', 'PARTIAL_FILL') AND kafka_partition = 1 ORDER BY kafka_offset OFFSET 20 LIMIT 1`);
    const victim = rows[0];
    const tamper = async (price: number) => {
      const c = await pool.connect();
      c.on('error', () => {});
      try {
        await c.query('ALTER TABLE executions DISABLE TRIGGER executions_insert_only');
        await c.query('UPDATE executions SET last_price = $1 WHERE execution_id = $2', [price, victim.execution_id]);
        await c.query('ALTER TABLE executions ENABLE TRIGGER executions_insert_only');
      } finally { c.release(); }
    };
    await tamper(victim.last_price + 1);
    try {
      const report = await verify();
      assert.equal(report.ok, false);
      assert.deepEqual(report.brokenLinks.map((b) => [b.partition, b.offset, b.executionId]), [[1, victim.kafka_offset, victim.execution_id]]);
      assert.ok(report.differences.some((d) => d.table === 'executions' && d.key === victim.execution_id && d.column === 'last_price'));
      const cli = await audit('audit', 'verify');
      assert.equal(cli.code, 1);
      assert.ok(cli.lines.some((l) => l.startsWith(`BROKEN LINK partition=1 offset=${victim.kafka_offset} execution_id=${victim.execution_id}`)), cli.lines.join('\n'));
    } finally {
      await tamper(victim.last_price);
    }
    assert.equal((await verify()).ok, true);
  });

  it('loses and doubles nothing across a Postgres restart mid-stream', async () => {
    const before = (await executions()).length;
    const stream = produceSignals(600);
    await waitFor('new executions', async () => (await executions()).length > before + 100, 60_000, 250);
    const cluster = readdirSync('/etc/postgresql')[0];
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart']);
    await stream;
    await projected();
    const report = await verify();
    assert.ok(report.ok, JSON.stringify({ ...report, differences: report.differences.slice(0, 5) }));
    assert.equal(report.notYetProjected, 0);
  });

  it('rebuilds the whole log into a fresh PG_SCHEMA although Kafka holds the group at the end', async () => {
    const runtime = loadRuntimeEnv(env);
    const expected = new Set((await executions()).map((e) => e.executionId)).size;
    await pipeline.stop();
    pipeline = undefined as unknown as Pipeline;
    const fresh = { DATABASE_URL: runtime.DATABASE_URL, PG_SCHEMA: `${runtime.PG_SCHEMA}_rebuild` };
    await migrate(fresh);
    const freshPool = createPool(fresh);
    const projection = createProjection({ kafka, pool: freshPool, codec, log: testLog(), topic: topics.executions, groupId: `${runtime.TOPIC_PREFIX}order-router-projection` });
    try {
      await projection.start();
      await waitFor('the rebuild', async () => Number((await freshPool.query('SELECT count(*) AS n FROM executions')).rows[0].n) === expected, 60_000, 250);
      const report = await verifyAudit({ kafka, codec, pool: freshPool, schema: fresh.PG_SCHEMA, topic: topics.executions, consumer: `${runtime.TOPIC_PREFIX}order-router-projection` });
      assert.ok(report.ok && report.stored === expected, JSON.stringify({ ...report, differences: report.differences.slice(0, 5) }));
    } finally {
      await projection.stop();
      await freshPool.end();
    }
  });
});
