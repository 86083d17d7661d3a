import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { QueryError, type AnalyticsDb } from '../../analytics/query/db.ts';
import { checkReadOnlySql } from '../../analytics/query/guard.ts';
import { analyticsRoutes, limitsByRole, requireBearer, type RoleLimits } from '../../analytics/query/routes.ts';
import type { Role } from '../../streams/control/model.ts';

const result = { columns: [{ name: 'n', type: 'BIGINT' }], rows: [[1]], truncated: false };

function app(calls: unknown[] = [], sqlRole?: Role, limits?: RoleLimits) {
  const db: AnalyticsDb = {
    async query(sql, o) {
      checkReadOnlySql(sql);
      if (sql.includes('nope')) throw new QueryError('BAD_SQL', 'Binder Error: Referenced column "nope" not found');
      if (sql.includes('busy')) throw new QueryError('QUERY_BUSY', 'analytics is busy');
      if (sql.includes('heavy')) throw new QueryError('QUERY_LIMIT', 'query exceeded its 10 s time limit');
      assert.ok(o?.signal instanceof AbortSignal, 'the route passes a signal that stops the query if the caller goes');
      calls.push(o.timeoutMs === undefined ? { sql, maxRows: o.maxRows } : { sql, maxRows: o.maxRows, timeoutMs: o.timeoutMs, priority: o.priority });
      return result;
    },
    async pnl(o) { calls.push(o); return result; },
    close() {},
  };
  const a = Fastify();
  const roles: Record<string, Role> = { 'Bearer good-token': 'operator', 'Bearer viewer-token': 'viewer', 'Bearer admin-token': 'admin' };
  const auth = { authenticate: async (h: string | undefined) => (h && roles[h] ? { name: 'someone', role: roles[h] } : null) };
  void a.register(analyticsRoutes, { db, preHandler: requireBearer(auth, { sqlRole }), limits });
  return a;
}

const auth = { authorization: 'Bearer good-token' };
const viewer = { authorization: 'Bearer viewer-token' };

describe('analytics routes', () => {
  it('answers the query endpoint with columns, rows and truncated, passing the row cap', async () => {
    const calls: unknown[] = [];
    const res = await app(calls).inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { sql: 'SELECT 1 AS n', maxRows: 5 } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), result);
    assert.deepEqual(calls, [{ sql: 'SELECT 1 AS n', maxRows: 5 }]);
  });

  it('refuses a caller without a token before running anything', async () => {
    const calls: unknown[] = [];
    const res = await app(calls).inject({ method: 'POST', url: '/analytics/query', payload: { sql: 'SELECT 1' } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: { code: 'UNAUTHORIZED' } });
    assert.deepEqual(calls, []);
  });

  it('answers 400 naming the problem: a write, bad SQL, a bad body, a bad option', async () => {
    const a = app();
    const write = await a.inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { sql: 'DROP VIEW fills' } });
    assert.equal(write.statusCode, 400);
    assert.equal(write.json().error.code, 'SQL_REFUSED');
    assert.match(write.json().error.message, /got DROP/);
    const bad = await a.inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { sql: 'SELECT nope' } });
    assert.deepEqual(bad.json(), { error: { code: 'BAD_SQL', message: 'Binder Error: Referenced column "nope" not found' } });
    const body = await a.inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { query: 'SELECT 1' } });
    assert.equal(body.statusCode, 400);
    assert.equal(body.json().error.code, 'INVALID_FIELD');
    const option = await a.inject({ method: 'GET', url: '/analytics/pnl?by=desk', headers: auth });
    assert.equal(option.statusCode, 400);
    assert.equal(option.json().error.field, 'by');
  });

  it('serves the P&L report as JSON by default, or as CSV', async () => {
    const calls: unknown[] = [];
    const a = app(calls);
    const json = await a.inject({ method: 'GET', url: '/analytics/pnl?by=strategy,day&from=2026-11-01', headers: auth });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json(), result);
    assert.deepEqual(calls, [{ by: ['strategy', 'day'], from: '2026-11-01', format: 'json' }]);
    const csv = await a.inject({ method: 'GET', url: '/analytics/pnl?format=csv', headers: auth });
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(csv.body, 'n\n1\n');
  });

  it('keeps ad-hoc SQL to the configured role and up, and the P&L report open to every role', async () => {
    const calls: unknown[] = [];
    const a = app(calls, 'operator');
    const refused = await a.inject({ method: 'POST', url: '/analytics/query', headers: viewer, payload: { sql: 'SELECT 1' } });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'FORBIDDEN');
    assert.match(refused.json().error.message, /role viewer may not run ad-hoc SQL: it needs operator or above \(ANALYTICS_QUERY_ROLE\)/);
    assert.deepEqual(calls, []);
    for (const headers of [auth, { authorization: 'Bearer admin-token' }]) {
      assert.equal((await a.inject({ method: 'POST', url: '/analytics/query', headers, payload: { sql: 'SELECT 1' } })).statusCode, 200);
    }
    assert.equal((await a.inject({ method: 'GET', url: '/analytics/pnl', headers: viewer })).statusCode, 200);
    // and with the role lowered to viewer, a viewer may
    assert.equal((await app([], 'viewer').inject({ method: 'POST', url: '/analytics/query', headers: viewer, payload: { sql: 'SELECT 1' } })).statusCode, 200);
  });

  it('holds a viewer to the stricter limits (shorter time limit, low priority) and an operator to the full ones', async () => {
    const calls: unknown[] = [];
    const a = app(calls, 'viewer', limitsByRole(3000));
    for (const headers of [viewer, auth]) {
      assert.equal((await a.inject({ method: 'POST', url: '/analytics/query', headers, payload: { sql: 'SELECT 1' } })).statusCode, 200);
    }
    assert.deepEqual(calls, [{ sql: 'SELECT 1', maxRows: undefined, timeoutMs: 3000, priority: 'low' }, { sql: 'SELECT 1', maxRows: undefined }]);
  });

  it('answers a query over its limit 400 QUERY_LIMIT, and a full queue 503 QUERY_BUSY with Retry-After', async () => {
    const a = app();
    const limit = await a.inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { sql: 'SELECT heavy' } });
    assert.equal(limit.statusCode, 400);
    assert.deepEqual(limit.json(), { error: { code: 'QUERY_LIMIT', message: 'query exceeded its 10 s time limit' } });
    const busy = await a.inject({ method: 'POST', url: '/analytics/query', headers: auth, payload: { sql: 'SELECT busy' } });
    assert.equal(busy.statusCode, 503);
    assert.equal(busy.headers['retry-after'], '1');
    assert.equal(busy.json().error.code, 'QUERY_BUSY');
  });
});
