// Zero-downtime deploy: two instances of every kind, each restarted in turn with SIGTERM under a
// steady stream of alerts; no alert refused by both edges, nothing lost or doubled. The latency
// before, during and after is reported (timing is never asserted in a test; see `npm run chaos`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDeploy } from '../../scripts/chaos/scenarios/deploy.ts';

describe('zero-downtime deploy', () => {
  let r: Awaited<ReturnType<typeof runDeploy>>;

  it('restarts every instance one at a time with SIGTERM and loses or doubles no signal, decision or order', { timeout: 540_000 }, async (t) => {
    r = await runDeploy({ ratePerSec: 20, beforeMs: 8_000, afterMs: 12_000, settleEachMs: 3_000 });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ restarts: r.restarts, send: r.send, latency: r.latency, figures, examples: examples.slice(0, 5), crashes: r.crashes }));
    assert.equal(r.restarts.length, 2 * r.kinds, 'every instance restarted');
    assert.equal(r.notAccepted, 0, 'every alert accepted by one edge or the other');
    const d = r.verdict.duplicates;
    assert.deepEqual({ decisions: d.decisions, orders: d.orders, venueOrders: d.venueOrders }, { decisions: 0, orders: 0, venueOrders: 0 });
    assert.equal(r.verdict.lost.total, 0, 'nothing lost; positions equal the fold');
    assert.deepEqual(r.verdict.failures, [], 'every figure clean, Parquet read and no blind resend');
    assert.deepEqual(r.crashes, []);
    for (const p of ['before', 'during', 'after'] as const) assert.ok(r.latency[p].toDecision.count > 0, `${p}: decisions observed`);
  });

  // Every instance of a venue sees its push stream; only the owner of the order's `orders` partition
  // records it (connectors/runtime.ts), so a fill reaches `executions` once through every handover.
  it('records every fill once on executions with two connector instances', () => {
    assert.ok(r, 'the deploy ran');
    assert.equal(r.verdict.duplicates.fills, 0, `fills twice on executions: ${r.verdict.duplicates.fills}`);
  });
});
