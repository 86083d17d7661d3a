// Infrastructure faults mid-run. Kafka: our own broker (never the shared one) stopped and started
// again; the edge answers 503, never 202, while Kafka cannot acknowledge, and recovers by itself.
// Postgres: this run's own connections terminated (pg_terminate_backend by application_name), which
// leaves everyone else's alone; the real server restart is `npm run chaos -- --postgres-restart`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runKafkaOutage, runPostgresFault } from '../../scripts/chaos/scenarios/infra.ts';

describe('infrastructure faults', () => {
  it('Kafka stopped and restarted mid-run: 503 while down, recovery without restarts, nothing lost or doubled', { timeout: 480_000 }, async (t) => {
    const r = await runKafkaOutage({ ratePerSec: 30, alerts: 900, stopAfterMs: 8_000, downForMs: 12_000 });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ send: r.send, duringOutage: r.duringOutage, acceptedWhileDown: r.acceptedWhileDown, recoveredAfterMs: r.edgeRecoveredAfterMs, figures, examples, crashes: r.crashes }));
    if (r.tails) t.diagnostic(JSON.stringify(r.tails));
    assert.ok((r.duringOutage[503] ?? 0) > 0, 'the edge answered 503 while Kafka was down');
    assert.equal(r.acceptedWhileDown, 0, 'no 202 while Kafka could not acknowledge');
    assert.notEqual(r.edgeRecoveredAfterMs, null, 'the edge accepted again without a restart');
    assert.deepEqual(r.crashes, [], 'no process died');
    assert.equal(r.send.accepted, r.send.sent, 'every alert accepted in the end (the sender retried 503s)');
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0);
  });

  it('Postgres connections cut mid-run: nothing lost or doubled', { timeout: 300_000 }, async (t) => {
    const r = await runPostgresFault({ ratePerSec: 30, alerts: 600, mode: 'terminate', times: 3 });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ terminated: r.terminated, send: r.send, figures, examples, crashes: r.crashes }));
    assert.equal(r.faults, 3);
    assert.ok(r.terminated > 0, 'connections were terminated');
    assert.equal(r.send.accepted, r.send.sent);
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0);
  });
});
