// Analytics on the real stack: alerts → pipeline (with the sink) → Parquet → DuckDB. P&L equals the
// Postgres projection to the cent; a sink killed between writing a file and committing its offset
// recovers with no duplicate row; the query endpoint refuses writes and file access; checksums hold.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { verifyAnalyticsFiles } from '../../analytics/query/cli.ts';
import { DATASETS } from '../../analytics/columns.ts';
import { loadAnalyticsConfig } from '../../analytics/config.ts';
import { createAnalyticsSink, type AnalyticsSink } from '../../analytics/sink/sink.ts';
import type { FaultPoint } from '../../analytics/sink/store.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { createCodec } from '../../schemas/codec.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor, TEST_SECRET } from '../helpers/env.ts';

// The datasets whose rows are counted against their topic (and the crash tests' sinks write): the connector
// keeps publishing quotes while the test runs, so the quotes dataset has no fixed count to reach
// (test/integration/backtest.test.ts checks that the sink's quotes replay exactly like the topic's).
const COUNTED = DATASETS.filter((d) => d.name !== 'quotes');

const TOKEN = 'quant-token-5d1e9b3f7a2c8e4b6d0f1a3c';
const OPS_TOKENS = JSON.stringify([{ name: 'quant', role: 'viewer', token: TOKEN }]);

/** Raw rows in a dataset's files (no view, no de-duplication) and how many distinct log positions they hold. */
async function rawCounts(dir: string): Promise<Record<string, { rows: number; distinct: number }>> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const out: Record<string, { rows: number; distinct: number }> = {};
  try {
    for (const d of DATASETS) {
      const r = await con.runAndReadAll(`SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM read_parquet('${dir}/${d.name}/*/*.parquet')`)
        .then((x) => x.getRows()[0].map(Number), () => [0, 0]);
      out[d.name] = { rows: r[0], distinct: r[1] };
    }
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  return out;
}

describe('analytics end to end', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  const expected: Record<string, number> = {};

  const api = (method: 'GET' | 'POST', path: string, body?: unknown, token: string | null = TOKEN) => fetch(`${pipeline.edgeUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'analytics-it-'));
    env = isolatedEnv({ ANALYTICS_DIR: join(dir, 'main'), ANALYTICS_FLUSH_MS: '100', OPS_TOKENS });
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });

    // Round trips, adds, a flip through zero, two accounts, three symbols: realized P&L on several rows.
    const trades: [string, string, 'buy' | 'sell', number][] = [
      ['trend-1', 'NASDAQ:AAPL', 'buy', 10], ['trend-1', 'NASDAQ:AAPL', 'buy', 5], ['trend-1', 'NASDAQ:MSFT', 'buy', 3],
      ['trend-1', 'NASDAQ:AAPL', 'sell', 8], ['trend-1', 'NASDAQ:AAPL', 'sell', 10], ['trend-1', 'NASDAQ:MSFT', 'sell', 1],
      ['meanrev-2', 'COINBASE:ETHUSD', 'buy', 2], ['meanrev-2', 'NASDAQ:AAPL', 'sell', 4], ['meanrev-2', 'COINBASE:ETHUSD', 'sell', 1],
      ['meanrev-2', 'NASDAQ:AAPL', 'buy', 6],
    ];
    const t0 = Date.now();
    for (const [i, [strategy, ticker, action, contracts]] of trades.entries()) {
      const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), secret: TEST_SECRET, strategy, ticker, action, contracts: String(contracts), time: new Date(t0 + i).toISOString() })),
      });
      assert.equal(res.status, 202, await res.text());
    }
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    // Every signal decided, every order finished at the venue, every fill in Postgres.
    await waitFor('every decision, order outcome and position', async () => {
      const decisions = await readAll(env, pipeline.topics.riskDecisions);
      if (decisions.length < trades.length) return false;
      const orders = await readAll(env, pipeline.topics.orders);
      const execs = await Promise.all((await readAll(env, pipeline.topics.executions)).map((m) => codec.decode('ExecutionReport', m.value!)));
      const done = new Set(execs.filter((e) => e.type === 'FILL' || e.type === 'REJECT' || e.type === 'CANCEL').map((e) => e.orderId));
      if (orders.length === 0 || done.size < orders.length) return false;
      const fills = execs.filter((e) => (e.type === 'FILL' || e.type === 'PARTIAL_FILL') && e.lastQty > 0).length;
      const { rows } = await pool.query<{ n: number }>('SELECT coalesce(sum(fill_count), 0)::int AS n FROM positions');
      return rows[0].n === fills;
    }, 60_000);
    for (const d of COUNTED) expected[d.name] = (await readAll(env, pipeline.topics[d.topic])).length;
    assert.ok(expected.executions > 0 && expected.orders > 0);
    await waitFor('the sink to hold every record', async () => {
      const c = await rawCounts(join(dir, 'main'));
      return COUNTED.every((d) => c[d.name].rows === expected[d.name]);
    }, 60_000);
  });

  after(async () => {
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers P&L per account and symbol equal to the Postgres positions projection, to the cent', async () => {
    const cents = (x: unknown) => Math.round(Number(x) * 100);
    const { rows: pg } = await pool.query<{ account_id: string; symbol: string; quantity: number; realized_pnl: number; fees: number }>(
      'SELECT account_id, symbol, sum(quantity) AS quantity, sum(realized_pnl) AS realized_pnl, sum(fees) AS fees FROM positions GROUP BY 1, 2 ORDER BY 1, 2');
    assert.ok(pg.some((r) => r.realized_pnl !== 0), 'the run realised some P&L');
    const res = await api('GET', '/analytics/pnl?by=account,symbol&format=json');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { columns: { name: string }[]; rows: unknown[][] };
    const col = (name: string) => body.columns.findIndex((c) => c.name === name);
    assert.deepEqual(
      body.rows.map((r) => [r[col('account')], r[col('symbol')], cents(r[col('realized_pnl')]), cents(r[col('fees')])]),
      pg.map((r) => [r.account_id, r.symbol, cents(r.realized_pnl), cents(r.fees)]),
    );
    const q = await api('POST', '/analytics/query', { sql: 'SELECT account, symbol, sum(quantity) FROM positions GROUP BY ALL ORDER BY 1, 2' });
    assert.deepEqual(((await q.json()) as { rows: unknown[][] }).rows, pg.map((r) => [r.account_id, r.symbol, r.quantity]));
  });

  for (const point of ['renamed', 'manifested'] as FaultPoint[]) {
    it(`recovers with no duplicate row when the sink dies after the file is ${point}, before its offset is committed`, async () => {
      const crashDir = join(dir, `crash-${point}`);
      const config = loadAnalyticsConfig({ ...env, ANALYTICS_DIR: crashDir, ANALYTICS_FLUSH_MS: '100', ANALYTICS_COMPACT_MIN_FILES: '2' });
      const groupId = `${pipeline.env.TOPIC_PREFIX}analytics-crash-${point}`;
      const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
      const make = (fault?: (p: FaultPoint) => void): AnalyticsSink =>
        createAnalyticsSink({ kafka: testKafka(env), codec, log: testLog(), topics: pipeline.topics, groupId, config, fault, datasets: COUNTED });
      // given a sink that dies at `point` and, once dead, at every point after (it never commits again)
      let dead = false;
      const first = make((p) => {
        if (p === point) dead = true;
        if (dead) throw new Error(`simulated crash at ${p}`);
      });
      await first.start();
      await waitFor('the crash', async () => dead, 30_000);
      await first.stop();
      if (point === 'renamed') {
        const left = await verifyAnalyticsFiles(crashDir);
        assert.ok(left.problems.some((p) => p.problem === 'not in any manifest'), 'the dead sink left a renamed file no manifest lists');
      }
      // when a new sink starts on the same folder and consumer group
      const second = make();
      await second.start();
      try {
        await waitFor('the new sink to catch up', async () => {
          const c = await rawCounts(crashDir);
          return COUNTED.every((d) => c[d.name].distinct === expected[d.name]);
        }, 60_000);
        // then every record is there exactly once, and the files are the ones the manifests list
        const c = await rawCounts(crashDir);
        for (const d of COUNTED) assert.deepEqual(c[d.name], { rows: expected[d.name], distinct: expected[d.name] }, d.name);
        assert.deepEqual((await verifyAnalyticsFiles(crashDir)).problems, []);
        // and a compaction pass over them keeps every row once
        const before = (await verifyAnalyticsFiles(crashDir)).files;
        await second.compactNow();
        const after = await verifyAnalyticsFiles(crashDir);
        assert.deepEqual(after.problems, []);
        assert.ok(after.files <= before);
        assert.deepEqual(await rawCounts(crashDir), c);
      } finally {
        await second.stop();
      }
    });
  }

  it('refuses writes, COPY, ATTACH and reading /etc/passwd through the query endpoint, naming the problem', async () => {
    const refused = async (sql: string, pattern: RegExp) => {
      const res = await api('POST', '/analytics/query', { sql });
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 400, sql);
      assert.match(body.error.message, pattern, sql);
    };
    await refused('INSERT INTO fills VALUES (1)', /INSERT/);
    await refused('CREATE TABLE x AS SELECT * FROM fills', /CREATE/);
    await refused(`COPY (SELECT * FROM fills) TO '${dir}/main/stolen.csv'`, /COPY/);
    await refused(`ATTACH '${dir}/main/x.duckdb' AS x`, /ATTACH/);
    await refused("SELECT * FROM read_csv('/etc/passwd')", /Permission Error.*\/etc\/passwd/);
    await refused("SELECT * FROM read_text('/etc/passwd')", /Permission Error/);
    await refused('SELECT 1; DROP VIEW fills', /one statement/);
    await refused('SELECT no_such_column FROM fills', /no_such_column/);
    assert.equal((await api('POST', '/analytics/query', { sql: 'SELECT 1' }, null)).status, 401, 'no token, no answer');
    const ok = await api('POST', '/analytics/query', { sql: 'SELECT count(*) AS n FROM fills' });
    assert.equal(ok.status, 200);
    assert.ok(((await ok.json()) as { rows: number[][] }).rows[0][0] > 0);
  });

  it('keeps manifests whose checksums and row counts match the files', async () => {
    const v = await verifyAnalyticsFiles(join(dir, 'main'));
    assert.ok(v.files > 0);
    assert.deepEqual(v.problems, []);
  });

  // Last: it adds a record to `executions`.
  it('stores a fill that reached executions twice (same executionId) once, and P&L does not move', async () => {
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    // Money to the cent: DuckDB's float sums depend on the order it adds rows in.
    const cents = (x: unknown) => (typeof x === 'number' ? Math.round(x * 100) : x);
    const pnl = async () => ((await (await api('GET', '/analytics/pnl?by=account,symbol&format=json')).json()) as { rows: unknown[][] }).rows
      .map((r) => r.map(cents));
    const before = await pnl();
    // given a fill written again, as a second connector instance in a handover could
    const raw = await readAll(env, pipeline.topics.executions);
    const fill = (await Promise.all(raw.map(async (m) => ({ m, e: await codec.decode('ExecutionReport', m.value!) })))).find((x) => x.e.type === 'FILL' && x.e.lastQty > 0)!;
    const producer = testKafka(env).producer({ createPartitioner: AccountPartitioner }); // as the connector writes it
    await producer.connect();
    const [meta] = await producer.send({ topic: pipeline.topics.executions, acks: -1, messages: [{ key: fill.m.key, value: fill.m.value, headers: fill.m.headers }] });
    await producer.disconnect();
    // when the sink has read past it
    const manifest = join(dir, 'main', '_manifest', 'executions', `${meta.partition}.json`);
    await waitFor('the sink to read past the repeat', async () => {
      const m = JSON.parse(await readFile(manifest, 'utf8').catch(() => '{}')) as { nextOffset?: number };
      return (m.nextOffset ?? 0) > Number(meta.baseOffset);
    }, 30_000);
    // then Parquet holds it once and P&L is what it was
    assert.equal((await rawCounts(join(dir, 'main'))).executions.rows, expected.executions);
    assert.deepEqual(await pnl(), before);
    assert.deepEqual((await verifyAnalyticsFiles(join(dir, 'main'))).problems, []);
  });
});
