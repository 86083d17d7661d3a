import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { QueryError, type AnalyticsDb } from '../../analytics/db.ts';
import { checkReadOnlySql } from '../../analytics/guard.ts';
import { analyticsRoutes, requireBearer } from '../../analytics/routes.ts';

const result = { columns: [{ name: 'n', type: 'BIGINT' }], rows: [[1]], truncated: false };

function app(calls: unknown[] = []) {
  const db: AnalyticsDb = {
    async query(sql, o) {
      checkReadOnlySql(sql);
      if (sql.includes('nope')) throw new QueryError('BAD_SQL', 'Binder Error: Referenced column "nope" not found');
      calls.push({ sql, ...o });
      return result;
    },
    async pnl(o) { calls.push(o); return result; },
    close() {},
  };
  const a = Fastify();
  const auth = { authenticate: async (h: string | undefined) => (h === 'Bearer good-token' ? { name: 'quant' } : null) };
  void a.register(analyticsRoutes, { db, preHandler: requireBearer(auth) });
  return a;
}

const auth = { authorization: 'Bearer good-token' };

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
});
