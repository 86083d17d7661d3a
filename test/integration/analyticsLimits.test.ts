// The edge's SQL endpoint against its real query process (analytics/query/queryProcess.ts: a child process with
// DuckDB inside): a query over its time or memory limit is cut with an answer naming the limit while the
// edge keeps taking alerts, a stuck query process is killed and replaced, queries beyond the cap are
// refused, writes stay refused inside the query process itself, and roles are enforced. No Kafka: the
// edge's `accept` is a fake, the point is the process beside it.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startQueryProcess, type FromWorker, type QueryProcess, type ToWorker, type WorkerOptions } from '../../analytics/query/queryProcess.ts';
import { analyticsRoutes, limitsByRole, requireBearer } from '../../analytics/query/routes.ts';
import { createEdgeApp } from '../../edge/app.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { createOpsAuth, parseOpsTokens } from '../../edge/ops/auth.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';
import type { Role } from '../../streams/control/model.ts';

const SECRET = 'tv-secret-0123456789abcdef';
const TOKENS = { operator: 'operator-7f3a9c1e5b2d8f4a6c0e9b1d', viewer: 'viewer-2c8e4a6f0b9d1e3a5c7f8b2d4e' };
const bearer = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });
const HEAVY = 'SELECT count(*) FROM range(100000000) a, range(100000) b';
const TIMEOUT_MS = 3000;

const dir = mkdtempSync(join(tmpdir(), 'analytics-limits-'));
const auth = createOpsAuth({ tokens: parseOpsTokens(JSON.stringify(Object.entries(TOKENS).map(([role, token]) => ({ name: role, role, token })))) });
const dbs: QueryProcess[] = [];
const apps: FastifyInstance[] = [];

function edge(sqlRole: Role = 'viewer') {
  const db = startQueryProcess({ dir, timeoutMs: TIMEOUT_MS, maxRows: 100, memoryLimitMb: 64, threads: 1, concurrency: 1, queue: 1, nice: 10 });
  let hlc = Date.now() * 1000;
  const accepted: string[] = [];
  const app = createEdgeApp({
    config: parseEdgeConfig({ strategies: [{ id: 'tv-trend', account: 'acc-1', secrets: [SECRET] }] }),
    log: pino({ level: 'silent' }), clock: Date.now, hlc: () => ++hlc, ready: () => true, registry: new Registry(),
    accept: async (s) => { accepted.push(s.signalId); return { duplicate: false }; },
  });
  void app.register(analyticsRoutes, { db, preHandler: requireBearer(auth, { sqlRole }), limits: limitsByRole(1000) });
  dbs.push(db);
  apps.push(app);
  const sql = (sqlText: string, headers = bearer('operator')) => app.inject({ method: 'POST', url: '/analytics/query', headers, payload: { sql: sqlText } });
  const alert = (i: number) => app.inject({
    method: 'POST', url: '/webhooks/tradingview', headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify({ secret: SECRET, strategy: 'tv-trend', ticker: 'AAPL', action: 'buy', contracts: '1', idempotency_key: `a-${i}-${Date.now()}` }),
  });
  return { app, db, sql, alert, accepted };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
}

after(async () => {
  for (const db of dbs) db.close();
  await Promise.all(apps.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('analytics queries beside the edge', () => {
  const e = edge();
  before(async () => { assert.equal((await e.sql('SELECT 1')).statusCode, 200); }); // the query process is up

  it('cuts a query over its time limit with QUERY_LIMIT while the edge keeps accepting alerts', async () => {
    let settled = false;
    const heavy = e.sql(HEAVY).finally(() => { settled = true; });
    await until('the heavy query holds the slot', () => e.db.stats().running === 1);
    for (let i = 0; i < 10; i++) assert.equal((await e.alert(i)).statusCode, 202);
    assert.equal(settled, false, 'the alerts were answered while the query ran');
    const res = await heavy;
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: { code: 'QUERY_LIMIT', message: 'query exceeded its 3 s time limit' } });
    assert.deepEqual((await e.sql('SELECT 40 + 2 AS n')).json().rows, [[42]], 'the query process still answers');
  });

  it('answers a query over the memory limit with QUERY_LIMIT naming the limit', async () => {
    const res = await e.sql('SELECT max(len(l)) FROM (SELECT list(range) AS l FROM range(20000000))');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'QUERY_LIMIT');
    assert.match(res.json().error.message, /^query exceeded its 64 MB memory limit: /);
  });

  it('queues up to the cap, refuses beyond it with 503 QUERY_BUSY, and a viewer gives up its queue place to an operator', async () => {
    const first = e.sql(HEAVY);
    await until('the first query runs', () => e.db.stats().running === 1);
    const viewer = e.sql('SELECT 9', bearer('viewer'));
    await until('the viewer waits', () => e.db.stats().waiting === 1);
    const queued = e.sql('SELECT 7 AS n');
    const bumped = await viewer;
    assert.equal(bumped.statusCode, 503);
    assert.match(bumped.json().error.message, /took this query's place in the queue/);
    assert.equal(e.db.stats().waiting, 1);
    for (const headers of [bearer('operator'), bearer('viewer')]) {
      const busy = await e.sql('SELECT 8', headers);
      assert.equal(busy.statusCode, 503);
      assert.equal(busy.headers['retry-after'], '1');
      assert.equal(busy.json().error.code, 'QUERY_BUSY');
      assert.match(busy.json().error.message, /1 query running and 1 waiting, the most it takes \(ANALYTICS_QUERY_CONCURRENCY 1, ANALYTICS_QUERY_QUEUE 1\)/);
    }
    assert.equal((await first).json().error.code, 'QUERY_LIMIT');
    assert.deepEqual((await queued).json().rows, [[7]], 'the queued query ran once the slot was free');
  });

  it('holds a viewer to the stricter time limit', async () => {
    const res = await e.sql(HEAVY, bearer('viewer'));
    assert.deepEqual(res.json(), { error: { code: 'QUERY_LIMIT', message: 'query exceeded its 1 s time limit' } });
  });

  it('kills a query process that does not answer after the limit, and starts a new one for the next query', async () => {
    const heavy = e.sql(HEAVY);
    await until('the heavy query runs', () => e.db.stats().running === 1);
    const pid = e.db.stats().pid!;
    process.kill(pid, 'SIGSTOP'); // a query that does not see its interrupt
    const res = await heavy;
    assert.deepEqual(res.json(), { error: { code: 'QUERY_LIMIT', message: 'query exceeded its 3 s time limit' } });
    assert.equal((await e.alert(99)).statusCode, 202);
    assert.deepEqual((await e.sql('SELECT 5 AS n')).json().rows, [[5]]);
    assert.notEqual(e.db.stats().pid, pid, 'a new query process');
  });

  it('refuses writes, other files and settings over HTTP', async () => {
    for (const sql of ['DROP VIEW fills', 'CREATE TABLE t AS SELECT 1', `COPY (SELECT 1) TO '${dir}/x.csv'`, "SET memory_limit = '10GB'"]) {
      const res = await e.sql(sql);
      assert.equal(res.statusCode, 400, sql);
      assert.equal(res.json().error.code, 'SQL_REFUSED', sql);
    }
    const file = await e.sql("SELECT * FROM read_csv('/etc/passwd')");
    assert.equal(file.json().error.code, 'BAD_SQL');
    assert.match(file.json().error.message, /Permission Error/);
  });

  it('enforces roles: no token 401; with ANALYTICS_QUERY_ROLE=operator a viewer gets the P&L report but not ad-hoc SQL', async () => {
    assert.equal((await e.sql('SELECT 1', {} as ReturnType<typeof bearer>)).statusCode, 401);
    assert.equal((await e.sql('SELECT 1', bearer('viewer'))).statusCode, 200, 'by default a viewer may, under the stricter limits');
    const strict = edge('operator');
    const refused = await strict.sql('SELECT 1', bearer('viewer'));
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'FORBIDDEN');
    assert.equal(strict.db.stats().pid, null, 'nothing ran');
    assert.equal((await strict.app.inject({ method: 'GET', url: '/analytics/pnl', headers: bearer('viewer') })).statusCode, 200);
    assert.equal((await strict.sql('SELECT 1', bearer('operator'))).statusCode, 200);
  });
});

describe('the query process on its own', () => {
  it('refuses writes, files outside the data folder and settings itself, whatever the edge let through', async () => {
    const options: WorkerOptions = { dir, timeoutMs: 5000, maxRows: 10, memoryLimitMb: 64, threads: 1, nice: 10 };
    const child = fork(fileURLToPath(new URL('../../analytics/query/queryWorker.ts', import.meta.url)), [JSON.stringify(options)], {
      execArgv: [...TS_NODE_ARGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const answers = new Map<number, FromWorker>();
    child.on('message', (m: FromWorker) => { if (m.type !== 'ready') answers.set(m.id, m); });
    try {
      const statements = ['CREATE TABLE t AS SELECT 1', `COPY (SELECT 1) TO '${dir}/y.csv'`, "SET enable_external_access = true", "ATTACH '/tmp/x.db'", "SELECT * FROM read_csv('/etc/passwd')"];
      statements.forEach((sql, id) => child.send({ type: 'query', id, sql, timeoutMs: 5000 } satisfies ToWorker));
      await until('every statement answered', () => answers.size === statements.length);
      for (const [id, m] of answers) {
        assert.equal(m.type, 'error', statements[id]);
        if (m.type === 'error') assert.match(`${m.error.code} ${m.error.message}`, /SQL_REFUSED|Permission Error/, statements[id]);
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});
