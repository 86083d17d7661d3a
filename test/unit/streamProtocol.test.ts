// The strategy API's pure core and its REST shell: the signed hello and request signatures (either
// secret, the clock tolerance, no detail for a failure), where a resume starts, which records a strategy
// sees, the routes' scoping (another strategy's order is a 404), and the SDK's safe retry of submit.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { pino } from 'pino';
import { createEdgeApp } from '../../edge/app.ts';
import { signatureHeader } from '../../edge/auth.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { submit } from '../../edge/sdk/index.ts';
import { checkHello, checkRequest, helloFrame, planStarts, requestHeaders, visibleTo, type AuthContext, type PartitionEnds } from '../../edge/stream/protocol.ts';
import { strategyRoutes } from '../../edge/stream/routes.ts';
import type { ExecutionReport, Quote } from '../../schemas/types.ts';

const A1 = 'alpha-secret-0123456789', A2 = 'alpha-rotated-0123456789', B1 = 'beta-secret-0123456789';
const NOW = 1_700_000_000_000;
const config = parseEdgeConfig({
  strategies: [{ id: 'alpha', account: 'ACC-A', secrets: [A1, A2] }, { id: 'beta', account: 'ACC-B', secrets: [B1] }],
  maxClockSkewSec: 300,
});
const ctx: AuthContext = { strategies: new Map(config.strategies.map((s) => [s.id, s])), decoy: ['decoy-0123456789abcdef'], maxClockSkewSec: 300 };

describe('stream hello', () => {
  it('given a hello signed with either of the strategy\'s secrets, then it is accepted with its symbols upper-cased', () => {
    for (const secret of [A1, A2]) {
      const r = checkHello(helloFrame(secret, NOW, { type: 'subscribe', strategy: 'alpha', symbols: ['aapl'] }), NOW, ctx);
      assert.ok(r.ok);
      assert.equal(r.strategy.id, 'alpha');
      assert.deepEqual(r.hello.symbols, ['AAPL']);
    }
  });

  it('given another strategy\'s secret, a late or tampered hello, an unknown strategy or garbage, then UNAUTHORIZED', () => {
    const hello = { type: 'subscribe', strategy: 'alpha' } as const;
    const cases: [string, string][] = [
      [helloFrame(B1, NOW, hello), 'MISMATCH'],
      [helloFrame(A1, NOW - 301_000, hello), 'STALE'],
      [helloFrame(A1, NOW + 301_000, hello), 'STALE'],
      [helloFrame(A1, NOW, hello).replace('"alpha"}', '"alpha","symbols":["X"]}'), 'MISMATCH'],
      [helloFrame(A1, NOW, { type: 'subscribe', strategy: 'nobody' }), 'MISMATCH'],
      ['{"type":"subscribe","strategy":"alpha"}', 'MALFORMED'],
      [`t=${NOW / 1000},v1=${'0'.repeat(64)}\nnot json`, 'MALFORMED'],
    ];
    for (const [frame, reason] of cases) {
      const r = checkHello(frame, NOW, ctx);
      assert.deepEqual(r, { ok: false, close: 'UNAUTHORIZED', reason }, frame);
    }
    // Within the tolerance it still passes.
    assert.ok(checkHello(helloFrame(A1, NOW - 299_000, hello), NOW, ctx).ok);
  });

  it('given an authenticated hello with a bad field, then BAD_REQUEST names the field', () => {
    const bad = (h: Record<string, unknown>) => {
      const body = JSON.stringify({ type: 'subscribe', strategy: 'alpha', ...h });
      return checkHello(`${signatureHeader(A1, NOW / 1000, body)}\n${body}`, NOW, ctx);
    };
    assert.equal((bad({ resumeFrom: { orders: { 0: 'x' } } }) as { field: string }).field, 'resumeFrom.orders.0');
    assert.equal((bad({ symbols: 'AAPL' }) as { field: string }).field, 'symbols');
    assert.equal((bad({ extra: 1 }) as { field: string }).field, 'extra');
    assert.equal((bad({ extra: 1 }) as { close: string }).close, 'BAD_REQUEST');
  });
});

describe('REST request signature', () => {
  it('covers method and URL: a signature for one URL does not open another', () => {
    const h = requestHeaders(A2, 'alpha', NOW, 'GET', '/v1/orders?status=open');
    assert.ok(checkRequest({ strategy: h['x-strategy'], signature: h['x-signature'], method: 'GET', url: '/v1/orders?status=open' }, NOW, ctx).ok);
    assert.deepEqual(checkRequest({ strategy: 'alpha', signature: h['x-signature'], method: 'GET', url: '/v1/orders?status=all' }, NOW, ctx), { ok: false, reason: 'MISMATCH' });
    assert.deepEqual(checkRequest({ strategy: 'beta', signature: h['x-signature'], method: 'GET', url: '/v1/orders?status=open' }, NOW, ctx), { ok: false, reason: 'MISMATCH' });
    assert.deepEqual(checkRequest({ strategy: 'alpha', signature: h['x-signature'], method: 'GET', url: '/v1/orders?status=open' }, NOW + 400_000, ctx), { ok: false, reason: 'STALE' });
    assert.deepEqual(checkRequest({ strategy: 'alpha', signature: undefined, method: 'GET', url: '/v1/positions' }, NOW, ctx), { ok: false, reason: 'MISSING' });
  });
});

describe('resume plan', () => {
  const ends = new Map<string, PartitionEnds[]>([
    ['orders', [{ partition: 0, low: '0', high: '10' }, { partition: 1, low: '0', high: '4' }]],
    ['quotes', [{ partition: 0, low: '50', high: '60' }]],
  ]);
  const compacted = new Set(['quotes']);

  it('starts after the last offset seen; unnamed partitions start live; `from` reports the offset before each start', () => {
    const p = planStarts(ends, { orders: { 0: '6' } }, compacted);
    assert.ok(p.ok);
    assert.deepEqual([...p.starts.get('orders')!], [[0, 7n], [1, 4n]]);
    assert.deepEqual(p.from, { orders: { 0: '6', 1: '3' }, quotes: { 0: '59' } });
    // -1 means nothing seen: from the first offset.
    const q = planStarts(ends, { orders: { 1: '-1' } }, compacted);
    assert.ok(q.ok && q.starts.get('orders')!.get(1) === 0n);
  });

  it('refuses an offset past the end, an unknown topic or partition, and a start the log no longer holds (compacted quotes excepted)', () => {
    assert.deepEqual(planStarts(ends, { orders: { 0: '10' } }, compacted), { ok: false, close: 'BAD_REQUEST', field: 'resumeFrom.orders.0' });
    assert.deepEqual(planStarts(ends, { fills: { 0: '1' } }, compacted), { ok: false, close: 'BAD_REQUEST', field: 'resumeFrom.fills' });
    assert.deepEqual(planStarts(ends, { orders: { 7: '1' } }, compacted), { ok: false, close: 'BAD_REQUEST', field: 'resumeFrom.orders.7' });
    const lowEnds = new Map([['orders', [{ partition: 0, low: '5', high: '10' }]]]);
    assert.deepEqual(planStarts(lowEnds, { orders: { 0: '2' } }, compacted), { ok: false, close: 'RESUME_UNAVAILABLE', field: 'resumeFrom.orders.0' });
    const p = planStarts(ends, { quotes: { 0: '3' } }, compacted);
    assert.ok(p.ok && p.starts.get('quotes')!.get(0) === 50n);
  });
});

describe('what a strategy sees', () => {
  const exec = (strategy: string) => ({ strategy } as ExecutionReport);
  const quote = (symbol: string) => ({ symbol } as Quote);
  it('its own decisions, orders and executions; quotes only for the symbols it subscribed to', () => {
    const mine = new Set(['AAPL']);
    assert.equal(visibleTo('alpha', mine, { kind: 'execution', value: exec('alpha') }), true);
    assert.equal(visibleTo('alpha', mine, { kind: 'execution', value: exec('beta') }), false);
    assert.equal(visibleTo('alpha', mine, { kind: 'decision', value: { strategy: 'beta' } as never }), false);
    assert.equal(visibleTo('alpha', mine, { kind: 'order', value: { strategy: 'alpha' } as never }), true);
    assert.equal(visibleTo('alpha', mine, { kind: 'quote', value: quote('AAPL') }), true);
    assert.equal(visibleTo('alpha', mine, { kind: 'quote', value: quote('MSFT') }), false);
  });
});

describe('REST routes on the edge app', () => {
  const apps: FastifyInstance[] = [];
  after(async () => { await Promise.all(apps.map((a) => a.close())); });
  // A pool that answers as the projection would: one order, owned by beta.
  const queries: unknown[][] = [];
  const pool = {
    async query(sql: string, params: unknown[]) {
      queries.push(params);
      if (sql.includes('FROM order_lifecycle WHERE order_id')) {
        return { rows: params[0] === 'ord-b' && params[1] === 'beta' ? [{ order_id: 'ord-b', strategy: 'beta', status: 'FILLED', filled_qty: 1, fees: 0, fills: 1, ordered_qty: 1, avg_fill_price: 10 }] : [] };
      }
      if (sql.includes('FROM positions')) return { rows: params[0] === 'ACC-A' ? [{ account_id: 'ACC-A', symbol: 'AAPL', venue: 'paper', quantity: 5, avg_price: 1, realized_pnl: 0, fees: 0, fill_count: 1, updated_at: new Date(NOW) }] : [] };
      return { rows: [] };
    },
  } as unknown as pg.Pool;
  function app() {
    const a = createEdgeApp({
      config, log: pino({ level: 'silent' }), clock: () => NOW, hlc: () => NOW * 1000, accept: async () => ({ duplicate: false }), ready: () => true,
      strategyApi: { register: (x, auth) => x.register(strategyRoutes({ pool, clock: auth.clock, trail: async (id) => ({ query: id, signalId: null, steps: [], warnings: [] }) }, auth)) },
    });
    apps.push(a);
    return a;
  }
  const get = (a: FastifyInstance, url: string, secret: string, strategy: string) => a.inject({ method: 'GET', url, headers: requestHeaders(secret, strategy, NOW, 'GET', url) });

  it('given a signed request, then positions are the strategy\'s own account\'s', async () => {
    const r = await get(app(), '/v1/positions', A1, 'alpha');
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().positions.map((p: { account: string; quantity: number }) => [p.account, p.quantity]), [['ACC-A', 5]]);
    assert.equal(r.json().account, 'ACC-A');
  });

  it('given another strategy\'s order id, then 404 as for a missing one; its owner gets it with the trail', async () => {
    const a = app();
    const other = await get(a, '/v1/orders/ord-b', A1, 'alpha');
    const missing = await get(a, '/v1/orders/nope', A1, 'alpha');
    assert.equal(other.statusCode, 404);
    assert.deepEqual(other.json(), missing.json());
    const own = await get(a, '/v1/orders/ord-b', B1, 'beta');
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().order.orderId, 'ord-b');
    assert.equal(own.json().trail.query, 'ord-b');
  });

  it('given more trail reads at once than the edge allows, then the extra one is 503 and the others answer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const a = createEdgeApp({
      config, log: pino({ level: 'silent' }), clock: () => NOW, hlc: () => NOW * 1000, accept: async () => ({ duplicate: false }), ready: () => true,
      strategyApi: { register: (x, auth) => x.register(strategyRoutes({ pool, clock: auth.clock, trail: async (id) => { await gate; return { query: id, signalId: null, steps: [], warnings: [] }; } }, auth)) },
    });
    apps.push(a);
    const slow = [get(a, '/v1/orders/ord-b', B1, 'beta'), get(a, '/v1/orders/ord-b', B1, 'beta')];
    await new Promise((r) => setTimeout(r, 50));
    // Released later in any case, so a limit that does not hold shows as a 200, not as a hang.
    setTimeout(release, 500);
    const extra = await get(a, '/v1/orders/ord-b', B1, 'beta');
    assert.equal(extra.statusCode, 503);
    assert.deepEqual((await Promise.all(slow)).map((r) => r.statusCode), [200, 200]);
    assert.equal((await get(a, '/v1/orders/ord-b', B1, 'beta')).statusCode, 200);
  });

  it('given no, a wrong or a stale signature, or a bad status, then 401 (or 400 after auth) and no query ran', async () => {
    const a = app();
    const before = queries.length;
    assert.equal((await a.inject({ method: 'GET', url: '/v1/positions' })).statusCode, 401);
    assert.equal((await get(a, '/v1/positions', B1, 'alpha')).statusCode, 401);
    const stale = requestHeaders(A1, 'alpha', NOW - 400_000, 'GET', '/v1/positions');
    assert.equal((await a.inject({ method: 'GET', url: '/v1/positions', headers: stale })).statusCode, 401);
    assert.equal(queries.length, before);
    const bad = await get(a, '/v1/orders?status=nope', A1, 'alpha');
    assert.equal(bad.statusCode, 400);
  });
});

describe('SDK submit', () => {
  it('retries a 503 and a network error with the same body and key, re-signed; a 400 is final', async () => {
    const seen: { body: string; sig: string; key: string }[] = [];
    const answers: (number | 'net')[] = [503, 'net', 202];
    let t = NOW;
    const fake = (async (_url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      seen.push({ body: String(init.body), sig: headers['x-signature'], key: headers['idempotency-key'] });
      const a = answers.shift();
      if (a === 'net') throw new TypeError('fetch failed');
      return new Response(JSON.stringify(a === 202 ? { signalId: 'alpha:k', duplicate: false } : { error: { code: 'UNAVAILABLE' } }), { status: a });
    }) as typeof fetch;
    const r = await submit({ url: 'http://edge', strategy: 'alpha', secret: A1 }, { symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 1 }, { fetch: fake, backoffMs: 1, clock: () => (t += 1000) });
    assert.deepEqual(r, { signalId: 'alpha:k', duplicate: false });
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen.map((s) => s.body)).size, 1);
    assert.equal(new Set(seen.map((s) => s.key)).size, 1);
    assert.equal(JSON.parse(seen[0].body).idempotencyKey, seen[0].key);
    assert.equal(new Set(seen.map((s) => s.sig)).size, 3);

    const once: number[] = [];
    const refuse = (async () => { once.push(1); return new Response(JSON.stringify({ error: { code: 'INVALID_FIELD', field: 'quantity', message: 'bad' } }), { status: 400 }); }) as typeof fetch;
    await assert.rejects(submit({ url: 'http://edge', strategy: 'alpha', secret: A1 }, { symbol: 'AAPL', intent: 'delta' }, { fetch: refuse, backoffMs: 1 }), { code: 'INVALID_FIELD', field: 'quantity', status: 400 });
    assert.equal(once.length, 1);
  });
});
