// POST /ops/cancel, cancelOnHalt and a halt's cancels on the edge app, through app.inject with a fake
// of the projection and the requester: roles, what a refusal names, what is asked of the connectors.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { CancelBy, CancelTarget } from '../../connectors/cancelRequest.ts';
import { createEdgeApp } from '../../edge/app.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { createOpsAuth, parseOpsTokens } from '../../edge/ops/auth.ts';
import type { OpsCancels } from '../../edge/ops/cancel.ts';
import type { OrderRow } from '../../edge/ops/openOrders.ts';
import { opsRoutes } from '../../edge/ops/routes.ts';
import { toControl } from '../../streams/control/model.ts';
import type { ControlPlane } from '../../streams/control/plane.ts';
import type { Scope } from '../../schemas/types.ts';

const OPERATOR = 'bob-operator-token-9e8d7c6b5a4f3e2d1c0b';
const VIEWER = 'vic-viewer-token-0a1b2c3d4e5f6a7b8c9d0e';
const apps: FastifyInstance[] = [];
after(async () => { await Promise.all(apps.map((a) => a.close())); });

const row = (orderId: string, account: string, status: OrderRow['status'] = 'OPEN'): OrderRow => ({
  orderId, clientOrderId: `c-${orderId}`, account, strategy: 's1', symbol: 'AAPL', venue: 'paper', side: 'BUY', status,
});

function setup(rows: OrderRow[], opts: { kafkaDown?: boolean } = {}) {
  const log = pino({ level: 'silent' });
  const asked: { targets: CancelTarget[]; by: CancelBy }[] = [];
  const settings = new Map<string, boolean>();
  const cancels: OpsCancels = {
    open: async (scope: Scope, target: string) => rows.filter((r) => r.status === 'OPEN' && (scope === 'DESK' || (scope === 'ACCOUNT' && r.account === target) || (scope === 'VENUE' && r.venue === target))),
    state: async (orderId) => rows.find((r) => r.orderId === orderId) ?? null,
    async request(targets, by) {
      if (opts.kafkaDown) throw Object.assign(new Error('down'), { code: 'UNAVAILABLE' });
      asked.push({ targets, by });
      return targets.map((t, i) => ({ requestId: `r${i}`, orderId: t.orderId, clientOrderId: t.clientOrderId ?? null, account: t.account, venue: t.venue, symbol: t.symbol ?? null, source: by.source, actor: by.actor, reason: by.reason ?? null, requestedAt: 1, hlc: 1 }));
    },
    audit: async () => 'a1',
    cancelOnHalt: async (scope, target) => settings.get(`${scope}|${target}`) ?? false,
    async setCancelOnHalt(scope, target, enabled) { const previous = settings.get(`${scope}|${target}`) ?? false; settings.set(`${scope}|${target}`, enabled); return { previous, auditId: 'a2' }; },
    listCancelOnHalt: async () => [...settings].map(([k, enabled]) => ({ scope: k.split('|')[0] as Scope, target: k.split('|')[1], enabled, updatedBy: 'bob', updatedAt: 'x' })),
  };
  const plane = {
    change: async (req) => ({ control: toControl(req, { controlId: 'ops-1', at: 1, hlc: 1 }), previous: null, current: req.value, offset: '7', auditId: '1' }),
    limits: async () => [], states: async () => [], audit: async () => [], unknownOrders: () => ({ orders: [], caughtUp: true }),
    settleUnknown: async () => { throw new Error('not used here'); },
  } as ControlPlane;
  const auth = createOpsAuth({ tokens: parseOpsTokens(JSON.stringify([{ name: 'bob', role: 'operator', token: OPERATOR }, { name: 'vic', role: 'viewer', token: VIEWER }])) });
  const app = createEdgeApp({
    config: parseEdgeConfig({ strategies: [{ id: 's1', account: 'ACC-1', secrets: ['s1-secret-0123456789abcdef'] }] }),
    log, clock: () => 0, hlc: () => 0, accept: async () => ({ duplicate: false }), ready: () => true,
    extraRoutes: (a) => a.register(opsRoutes({ plane, auth, log, cancels }), { prefix: '/ops' }),
  });
  apps.push(app);
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) => app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
  return { call, asked };
}

describe('POST /ops/cancel', () => {
  it('given a resting order, then 202 and one request for it, with the actor and reason', async () => {
    const { call, asked } = setup([row('o1', 'ACC-1')]);
    const res = await call('POST', '/ops/cancel', OPERATOR, { orderId: 'o1', reason: 'drill' });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { requested: [{ requestId: 'r0', orderId: 'o1', account: 'ACC-1', venue: 'paper', symbol: 'AAPL' }], auditId: 'a1' });
    assert.deepEqual(asked[0].by, { source: 'ops', actor: 'bob', reason: 'drill' });
    assert.equal(asked[0].targets[0].clientOrderId, 'c-o1');
  });

  it('given a filled, pending or unknown order, then 409 or 404 naming it, and nothing requested', async () => {
    const { call, asked } = setup([row('o1', 'ACC-1', 'FILLED'), row('o2', 'ACC-1', 'PENDING')]);
    const filled = await call('POST', '/ops/cancel', OPERATOR, { orderId: 'o1' });
    assert.deepEqual([filled.statusCode, filled.json().error], [409, { code: 'ORDER_NOT_OPEN', field: 'orderId', message: 'order o1 is filled; nothing to cancel' }]);
    assert.equal((await call('POST', '/ops/cancel', OPERATOR, { orderId: 'o2' })).json().error.message, 'order o2 is not acknowledged by its venue yet; nothing to cancel');
    const unknown = await call('POST', '/ops/cancel', OPERATOR, { orderId: 'nope' });
    assert.deepEqual([unknown.statusCode, unknown.json().error.code], [404, 'UNKNOWN_ORDER']);
    assert.equal(asked.length, 0);
  });

  it('given a scope, then every resting order of it, and no other', async () => {
    const { call, asked } = setup([row('o1', 'ACC-1'), row('o2', 'ACC-2'), row('o3', 'ACC-1', 'CANCELED')]);
    const res = await call('POST', '/ops/cancel', OPERATOR, { scope: 'account', target: 'ACC-1' });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(asked[0].targets.map((t) => t.orderId), ['o1']);
    assert.equal((await call('POST', '/ops/cancel', OPERATOR, { scope: 'desk' })).json().requested.length, 2);
  });

  it('refuses a bad body naming the field, a viewer with 403, and answers 503 when Kafka does not acknowledge', async () => {
    const { call } = setup([row('o1', 'ACC-1')]);
    const both = await call('POST', '/ops/cancel', OPERATOR, { orderId: 'o1', scope: 'desk' });
    assert.deepEqual([both.statusCode, both.json().error.field], [400, 'orderId']);
    assert.deepEqual((await call('POST', '/ops/cancel', OPERATOR, {})).json().error.field, 'orderId');
    assert.deepEqual((await call('POST', '/ops/cancel', OPERATOR, { scope: 'account' })).json().error.field, 'target');
    const extra = await call('POST', '/ops/cancel', OPERATOR, { orderID: 'o1' });
    assert.deepEqual([extra.statusCode, extra.json().error.field], [400, 'orderID']);
    assert.equal((await call('POST', '/ops/cancel', VIEWER, { orderId: 'o1' })).statusCode, 403);
    assert.equal((await setup([row('o1', 'ACC-1')], { kafkaDown: true }).call('POST', '/ops/cancel', OPERATOR, { orderId: 'o1' })).statusCode, 503);
  });
});

describe('cancelOnHalt', () => {
  it('off by default: a halt cancels nothing; on for the scope: its halt cancels the scope\'s resting orders', async () => {
    const { call, asked } = setup([row('o1', 'ACC-1'), row('o2', 'ACC-2')]);
    const off = await call('POST', '/ops/halt', OPERATOR, { scope: 'account', target: 'ACC-1' });
    assert.deepEqual([off.statusCode, off.json().cancels, asked.length], [200, null, 0]);
    assert.equal((await call('PUT', '/ops/cancel-on-halt/account/ACC-1', VIEWER, { enabled: true })).statusCode, 403);
    const set = await call('PUT', '/ops/cancel-on-halt/account/ACC-1', OPERATOR, { enabled: true });
    assert.deepEqual(set.json(), { scope: 'ACCOUNT', target: 'ACC-1', previous: false, enabled: true, auditId: 'a2' });
    const on = await call('POST', '/ops/halt', OPERATOR, { scope: 'account', target: 'ACC-1', reason: 'limit' });
    assert.deepEqual(on.json().cancels.requested.map((r: { orderId: string }) => r.orderId), ['o1']);
    assert.deepEqual(asked[0].by, { source: 'halt', actor: 'bob', reason: 'limit' });
    assert.equal((await call('POST', '/ops/halt', OPERATOR, { scope: 'account', target: 'ACC-1', cancelOnHalt: false })).json().cancels, null, 'the request may say no');
    assert.equal((await call('POST', '/ops/halt', OPERATOR, { scope: 'account', target: 'ACC-2', cancelOnHalt: true })).json().cancels.requested.length, 1, 'or yes');
    const broken = setup([row('o1', 'ACC-1')], { kafkaDown: true });
    const stands = await broken.call('POST', '/ops/halt', OPERATOR, { scope: 'account', target: 'ACC-1', cancelOnHalt: true });
    assert.equal(stands.statusCode, 200, 'the halt stands when its cancels cannot be requested');
    assert.match(stands.json().cancels.error, /POST \/ops\/cancel/);
    assert.deepEqual((await call('GET', '/ops/cancel-on-halt', VIEWER)).json().settings.map((s: { target: string; enabled: boolean }) => [s.target, s.enabled]), [['ACC-1', true]]);
  });
});
