// The ops API on the edge app, through app.inject with a control plane that records what it is asked:
// who may call what (401 / 403), what a refused body names (400), what a Kafka outage answers (503),
// and that no token ever reaches a log line.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createEdgeApp } from '../../edge/app.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { createOpsAuth, parseOpsTokens } from '../../edge/ops/auth.ts';
import { opsRoutes } from '../../edge/ops/routes.ts';
import { checkRequest, toControl, type ControlRequest } from '../../streams/control/model.ts';
import type { ControlPlane } from '../../streams/control/plane.ts';
import { settleOutcome } from '../../schemas/orderOutcome.ts';
import type { OrderOutcome } from '../../schemas/orderOutcome.ts';
import { ControlRejected } from '../../streams/control/writer.ts';
import { RouterError } from '../../schemas/errors.ts';

const ADMIN = 'alice-admin-token-5f1c9a7e3b2d4c6e8a0b';
const OPERATOR = 'bob-operator-token-9e8d7c6b5a4f3e2d1c0b';
const VIEWER = 'vic-viewer-token-0a1b2c3d4e5f6a7b8c9d0e';

const lines: string[] = [];
const apps: FastifyInstance[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
  for (const line of lines) for (const t of [ADMIN, OPERATOR, VIEWER]) assert.ok(!line.includes(t), `token in log: ${line}`);
  assert.ok(lines.some((l) => l.includes('"actor":"bob"') && l.includes('control changed')), 'changes are logged with the actor');
});

const UNKNOWN_ORDER: OrderOutcome = {
  status: 'UNKNOWN', clientOrderId: 'c-1', orderId: 'o-1', venue: 'mt5', symbol: 'EURUSD', side: 'BUY', quantity: 10_000, account: 'ACC-1',
  strategy: 's1', since: 1_700_000_000_000, reason: 'TRADE_RETCODE_TIMEOUT', resolution: null, resolvedAt: null, settle: null, settledBy: null, settleReason: null,
};

function setup(opts: { kafkaDown?: boolean } = {}) {
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const asked: ControlRequest[] = [];
  const settled: OrderOutcome[] = [];
  const plane: ControlPlane = {
    async change(req) {
      const issue = checkRequest(req);
      if (issue !== null) throw new ControlRejected(issue.field, issue.message);
      if (opts.kafkaDown) throw new RouterError('UNAVAILABLE', 'control topic unavailable', { retriable: true });
      asked.push(req);
      return { control: toControl(req, { controlId: 'ops-1', at: 1, hlc: 1 }), previous: null, current: req.value, offset: '7', auditId: '1' };
    },
    limits: async () => [{ scope: 'ACCOUNT', target: 'ACC-1', limits: { maxPosition: 5 }, updatedBy: 'alice', updatedAt: '2024-01-02T00:00:00.000Z', controlId: 'ops-0' }],
    states: async () => [{ scope: 'DESK', target: '*', state: 'HALTED', reason: null, updatedBy: 'bob', updatedAt: '2024-01-02T00:00:00.000Z', controlId: 'ops-0' }],
    audit: async () => [],
    unknownOrders: () => ({ orders: [UNKNOWN_ORDER], caughtUp: true }),
    async settleUnknown(req) {
      const u = settleOutcome(new Map([[`${UNKNOWN_ORDER.venue}|${UNKNOWN_ORDER.clientOrderId}`, UNKNOWN_ORDER]]), req);
      settled.push(u);
      return u;
    },
  };
  const auth = createOpsAuth({
    tokens: parseOpsTokens(JSON.stringify([
      { name: 'alice', role: 'admin', token: ADMIN }, { name: 'bob', role: 'operator', token: OPERATOR }, { name: 'vic', role: 'viewer', token: VIEWER },
    ])),
  });
  const app = createEdgeApp({
    config: parseEdgeConfig({ strategies: [{ id: 's1', account: 'ACC-1', secrets: ['s1-secret-0123456789abcdef'] }] }),
    log, clock: () => 0, hlc: () => 0, accept: async () => ({ duplicate: false }), ready: () => true,
    extraRoutes: (a) => a.register(opsRoutes({ plane, auth, log }), { prefix: '/ops' }),
  });
  apps.push(app);
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | null, payload?: unknown) =>
    app.inject({
      method, url,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
  return { call, asked, settled };
}

describe('ops API authentication and roles', () => {
  it('given no token or a wrong one, then 401 with a Bearer challenge, before the body is read', async () => {
    const { call, asked } = setup();
    const none = await call('POST', '/ops/halt', null, { scope: 'desk' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="ops"');
    assert.equal(none.json().error.code, 'UNAUTHORIZED');
    assert.equal((await call('POST', '/ops/halt', `${ADMIN}x`, { scope: 'desk' })).statusCode, 401);
    assert.equal((await call('GET', '/ops/states', 'not-a-token')).statusCode, 401);
    assert.equal((await call('POST', '/ops/halt', null, '{not json')).statusCode, 401, 'auth runs before parsing');
    assert.equal(asked.length, 0);
  });

  it('given a viewer, then reads succeed and a halt is 403', async () => {
    const { call, asked } = setup();
    assert.equal((await call('GET', '/ops/states', VIEWER)).statusCode, 200);
    assert.equal((await call('GET', '/ops/limits', VIEWER)).statusCode, 200);
    assert.equal((await call('GET', '/ops/audit', VIEWER)).statusCode, 200);
    const halt = await call('POST', '/ops/halt', VIEWER, { scope: 'account', target: 'ACC-1' });
    assert.equal(halt.statusCode, 403);
    assert.equal(halt.json().error.code, 'FORBIDDEN');
    assert.equal(asked.length, 0);
  });

  it('given an operator, then halt, reduce and resume pass and a limit change is 403', async () => {
    const { call, asked } = setup();
    for (const [path, state] of [['halt', 'HALTED'], ['reduce', 'REDUCING'], ['resume', 'ACTIVE']] as const) {
      const res = await call('POST', `/ops/${path}`, OPERATOR, { scope: 'account', target: 'ACC-1', reason: 'drill' });
      assert.equal(res.statusCode, 200, path);
      assert.deepEqual(res.json().current, { state });
    }
    assert.deepEqual(asked.map((r) => [r.action, r.scope, r.target, r.actor, r.role, r.reason]), [
      ['HALT', 'ACCOUNT', 'ACC-1', 'bob', 'operator', 'drill'], ['REDUCE', 'ACCOUNT', 'ACC-1', 'bob', 'operator', 'drill'], ['RESUME', 'ACCOUNT', 'ACC-1', 'bob', 'operator', 'drill'],
    ]);
    assert.equal((await call('PUT', '/ops/limits/account/ACC-1', OPERATOR, { maxPosition: 5 })).statusCode, 403);
  });

  it('given an admin, then every route is open', async () => {
    const { call } = setup();
    assert.equal((await call('POST', '/ops/halt', ADMIN, { scope: 'desk' })).statusCode, 200);
    assert.equal((await call('PUT', '/ops/limits/desk/*', ADMIN, { maxOrderQty: 100 })).statusCode, 200);
  });
});

describe('ops API requests', () => {
  it('a desk halt needs no target; any other scope names one or is refused naming target', async () => {
    const { call, asked } = setup();
    assert.equal((await call('POST', '/ops/halt', OPERATOR, { scope: 'desk' })).statusCode, 200);
    assert.deepEqual([asked[0].scope, asked[0].target], ['DESK', '*']);
    const noTarget = await call('POST', '/ops/halt', OPERATOR, { scope: 'venue' });
    assert.equal(noTarget.statusCode, 400);
    assert.equal(noTarget.json().error.field, 'target');
    const badScope = await call('POST', '/ops/halt', OPERATOR, { scope: 'planet', target: 'x' });
    assert.deepEqual([badScope.statusCode, badScope.json().error.field], [400, 'scope']);
  });

  it('PUT /ops/limits validates with the processors own schema and names the field', async () => {
    const { call, asked } = setup();
    const cases: [string, unknown, string][] = [
      ['/ops/limits/account/ACC-1', { maxPosition: -1 }, 'maxPosition'],
      ['/ops/limits/account/ACC-1', { maxPositon: 5 }, 'maxPositon'],
      ['/ops/limits/desk/*', { lossBreachState: 'PANIC' }, 'lossBreachState'],
      ['/ops/limits/strategy/trend-1', { dailyLossLimit: 0 }, 'dailyLossLimit'],
      ['/ops/limits/desk/ACC-1', { maxPosition: 5 }, 'target'],
      ['/ops/limits/venue/paper', { maxPosition: 5 }, 'scope'],
    ];
    for (const [url, body, field] of cases) {
      const res = await call('PUT', url, ADMIN, body);
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual([res.json().error.code, res.json().error.field], ['INVALID_FIELD', field], JSON.stringify(body));
    }
    assert.equal(asked.length, 0);
    const ok = await call('PUT', '/ops/limits/symbol/AAPL?reason=earnings', ADMIN, { maxPosition: 500, maxOrderQty: 100 });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json().current, { maxPosition: 500, maxOrderQty: 100 });
    assert.deepEqual([asked[0].kind, asked[0].scope, asked[0].target, asked[0].actor, asked[0].reason], ['LIMITS', 'SYMBOL', 'AAPL', 'alice', 'earnings']);
    const cleared = await call('DELETE', '/ops/limits/symbol/AAPL', ADMIN);
    assert.deepEqual([cleared.statusCode, asked[1].value, asked[1].action], [200, null, 'CLEAR_LIMITS']);
  });

  it('given Kafka does not acknowledge, then 503 with retry-after and no internals', async () => {
    const { call } = setup({ kafkaDown: true });
    const res = await call('POST', '/ops/halt', OPERATOR, { scope: 'desk' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(res.json(), { error: { code: 'UNAVAILABLE' } });
  });

  it('lists limits and states as stored', async () => {
    const { call } = setup();
    assert.deepEqual((await call('GET', '/ops/limits', VIEWER)).json().limits[0].limits, { maxPosition: 5 });
    assert.equal((await call('GET', '/ops/states', VIEWER)).json().states[0].state, 'HALTED');
    assert.equal((await call('GET', '/ops/audit?limit=0', VIEWER)).statusCode, 400);
  });
});

describe('GET /ops/unknown-orders', () => {
  it('given a viewer, then the orders of unknown outcome with the fields ops needs; without a token, 401', async () => {
    const { call } = setup();
    assert.equal((await call('GET', '/ops/unknown-orders', null)).statusCode, 401);
    const res = await call('GET', '/ops/unknown-orders', VIEWER);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      caughtUp: true,
      orders: [{
        clientOrderId: 'c-1', orderId: 'o-1', venue: 'mt5', symbol: 'EURUSD', side: 'BUY', quantity: 10_000, account: 'ACC-1', strategy: 's1', since: 1_700_000_000_000, reason: 'TRADE_RETCODE_TIMEOUT',
        status: 'UNKNOWN', settle: null, settledBy: null, settleReason: null,
      }],
    });
  });
});

describe('POST /ops/unknown-orders/:venue/:clientOrderId/settle', () => {
  const url = '/ops/unknown-orders/mt5/c-1/settle';
  it('given an operator and the venue\'s statement, then a SETTLE for the order\'s connector, by whom and why', async () => {
    const { call, settled } = setup();
    const res = await call('POST', url, OPERATOR, { notTraded: true, reason: 'broker statement 2026-12-04: no such ticket' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      venue: 'mt5', clientOrderId: 'c-1', orderId: 'o-1', status: 'SETTLE', settle: { notTraded: true }, settledBy: 'bob', settleReason: 'broker statement 2026-12-04: no such ticket',
    });
    const byId = await call('POST', url, OPERATOR, { venueOrderId: '51234567', reason: 'the ticket in the terminal' });
    assert.deepEqual(byId.json().settle, { venueOrderId: '51234567' });
    assert.equal(settled.length, 2);
  });
  it('given bad input, then 400 naming the field and nothing settled; a viewer 403; an order not listed 404', async () => {
    const { call, settled } = setup();
    const field = async (body: unknown) => { const r = await call('POST', url, OPERATOR, body); return [r.statusCode, r.json().error.field]; };
    assert.deepEqual(await field({ reason: 'x' }), [400, 'venueOrderId']);
    assert.deepEqual(await field({ notTraded: false, reason: 'x' }), [400, 'notTraded']);
    assert.deepEqual(await field({ notTraded: true, venueOrderId: '1', reason: 'x' }), [400, 'venueOrderId']);
    assert.deepEqual(await field({ notTraded: true }), [400, 'reason']);
    assert.deepEqual(await field({ notTraded: true, reason: '   ' }), [400, 'reason']);
    assert.deepEqual(await field({ notTraded: true, reason: 'x', fills: [] }), [400, 'fills']);
    assert.deepEqual(await field({ venueOrderId: 'x'.repeat(129), reason: 'x' }), [400, 'venueOrderId']);
    assert.equal((await call('POST', url, VIEWER, { notTraded: true, reason: 'x' })).statusCode, 403);
    const missing = await call('POST', '/ops/unknown-orders/mt5/c-2/settle', OPERATOR, { notTraded: true, reason: 'x' });
    assert.deepEqual([missing.statusCode, missing.json().error.code, missing.json().error.field], [404, 'NOT_FOUND', 'clientOrderId']);
    assert.equal(settled.length, 0);
  });
});
