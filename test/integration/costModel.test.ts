// The cost model's write path on real Postgres: a change is the row, an audit entry and one published
// COST_MODEL record; a refused field writes nothing; a Kafka that does not acknowledge rolls it all
// back (UNAVAILABLE → 503) so Postgres never holds a model the router was not sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { controlKey } from '../../schemas/controlKey.ts';
import type { Control } from '../../schemas/types.ts';
import { costModelControl, createCostModelStore } from '../../edge/ops/costModel.ts';
import { createPool, migrate, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { isolatedEnv, testLog } from '../helpers/env.ts';

const who = { actor: 'alice', role: 'admin' as const, reason: 'fees renegotiated' };

describe('cost model store', () => {
  const env = loadRuntimeEnv(isolatedEnv());
  let pool: Pool;
  before(async () => {
    await migrate(env);
    pool = createPool(env);
  });
  after(async () => { await pool?.end(); });

  const count = async (sql: string) => (await pool.query(sql)).rows[0].n as number;

  it('writes the row, the audit and one record on the topic, with the offset Kafka gave', async () => {
    const sent: Array<{ control: Control; key: string }> = [];
    const store = createCostModelStore({ pool, log: testLog(), hlc: () => 1, publish: async (control) => { sent.push({ control, key: controlKey(control.kind, control.scope, control.target) }); return '42'; } });
    const doc = { enabled: true, fees: { equity: { bps: 2 } } };
    const r = await store.change('VENUE', 'paper-b', doc, who);
    assert.deepEqual([r.previous, r.current, r.offset], [null, doc, '42']);
    assert.deepEqual(sent.map((s) => [s.key, s.control.kind, s.control.scope, JSON.parse(s.control.payload!)]), [['COST_MODEL|VENUE|paper-b', 'COST_MODEL', 'VENUE', doc]]);
    const rows = await store.list();
    assert.deepEqual(rows.map((x) => [x.scope, x.target, x.model, x.updatedBy]), [['VENUE', 'paper-b', doc, 'alice']]);
    const audit = await pool.query("SELECT actor, role, action, old_value, new_value, reason FROM control_audit WHERE kind = 'COST_MODEL'");
    assert.deepEqual(audit.rows, [{ actor: 'alice', role: 'admin', action: 'SET_COST_MODEL', old_value: null, new_value: doc, reason: 'fees renegotiated' }]);
  });

  it('refuses a bad field by name and writes nothing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM control_audit');
    const store = createCostModelStore({ pool, log: testLog(), hlc: () => 1, publish: async () => assert.fail('must not publish') });
    await assert.rejects(store.change('DESK', '*', { maxQuoteAgeMs: -1 }, who), (e: any) => e.code === 'INVALID_FIELD' && e.field === 'maxQuoteAgeMs');
    const checked = costModelControl('VENUE', 'x', { fees: { equity: { bps: 'x' } } }, who, { controlId: 'c', at: 0, hlc: 0 });
    assert.deepEqual([checked.ok, checked.ok ? null : checked.field], [false, 'fees.equity.bps']);
    assert.equal(await count('SELECT count(*)::int AS n FROM control_audit'), before);
  });

  it('rolls back when Kafka does not acknowledge: UNAVAILABLE, and the row keeps its old value', async () => {
    const before = await count('SELECT count(*)::int AS n FROM control_audit');
    const store = createCostModelStore({ pool, log: testLog(), hlc: () => 1, publishTimeoutMs: 200, publish: () => new Promise(() => {}) });
    await assert.rejects(store.change('VENUE', 'paper-b', { enabled: false }, who), (e: any) => e.code === 'UNAVAILABLE');
    assert.deepEqual((await store.list()).map((x) => x.model), [{ enabled: true, fees: { equity: { bps: 2 } } }]);
    assert.equal(await count('SELECT count(*)::int AS n FROM control_audit'), before);
  });
});
