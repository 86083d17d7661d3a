// Every process kind SIGKILLed at random moments while alerts flow, and restarted: nothing lost,
// nothing doubled. The full run (10,000 alerts, 20 kills) is `npm run chaos`; CI runs a sample.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runKills } from '../../scripts/chaos/scenarios/kills.ts';

const ALERTS = Number(process.env.RELIABILITY_KILL_ALERTS ?? 600);

describe('kills', () => {
  it('SIGKILLs each process kind mid-stream and loses or doubles nothing', { timeout: 420_000 }, async (t) => {
    const r = await runKills({ alerts: ALERTS, kills: 5, ratePerSec: 40, settleTimeoutMs: 150_000 });
    const { examples, ...figures } = r.verdict;
    const detail = JSON.stringify({ send: r.send, kills: { delivered: r.kills.byKind, restarted: r.kills.restartedByKind }, figures, examples, crashes: r.crashes, seed: r.seed });
    t.diagnostic(detail);
    assert.equal(r.kills.delivered, 5, `five SIGKILLs delivered to running processes\n${detail}`);
    assert.equal(r.kills.restarted, 5, `each killed process came back\n${detail}`);
    for (const k of r.kinds) assert.ok(r.kills.byKind[k] >= 1, `${k} was killed at least once\n${detail}`);
    assert.ok(r.kinds.includes('sink'), 'the sink runs, so the Parquet figure is measured');
    // Alerts refused while the edge was down were retried by the sender; almost all get through.
    assert.ok(r.send.accepted >= ALERTS * 0.95, `most alerts accepted\n${detail}`);
    assert.equal(r.verdict.duplicates.total, 0, detail);
    assert.equal(r.verdict.lost.total, 0, detail);
    assert.deepEqual(r.verdict.failures, [], detail);
    assert.deepEqual(r.crashes, [], 'no process died unasked');
    assert.ok(r.verdict.approved > 0, detail);
    assert.equal(r.verdict.ordersAtVenue + r.verdict.ordersRejectedByConnector, r.verdict.approved, detail);
  });
});
