// The partition leader dies under load, on a 3-node cluster of our own (never the shared broker): the
// short version of scripts/chaos/scenarios/leaderKill.ts (which also kills the controller quorum's
// leader, at 100/s). Alerts at 30/s; the broker leading the most `signals` and `orders` partitions is SIGKILLed
// and started again. The edge answers 202 only for what the in-sync replicas hold (else 503), nothing
// accepted is lost or doubled, no process is restarted. This is the run that found kafkajs writing a
// batch twice in one transaction (streams/runtime/txnSend.ts) and dropping the batch after a failed
// produce (streams/runtime/resilient.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runLeaderKill } from '../../scripts/chaos/scenarios/leaderKill.ts';
import { clusterUnavailable } from '../../scripts/kafka/ownCluster.ts';

describe('a partition leader SIGKILLed under load (a 3-node cluster of our own)', { skip: clusterUnavailable() ?? false }, () => {
  it('answers 503 rather than 202 while the replicas cannot hold an alert, loses and doubles nothing, restarts nothing', { timeout: 600_000 }, async (t) => {
    const r = await runLeaderKill({ ratePerSec: 50, beforeMs: 3_000, downMs: 10_000, betweenMs: 0, afterMs: 2_000, targets: ['partition leader'] });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ kills: r.kills, send: r.send, latency: r.latency, figures, examples, crashes: r.crashes, doubledOrders: r.doubledOrders, undecided: r.undecided }));
    if (r.tails) t.diagnostic(JSON.stringify(r.tails));
    assert.equal(r.kills.length, 1);
    assert.ok(r.kills[0].partitionsLed > 0, 'the broker killed led signals or orders partitions');
    assert.deepEqual(Object.keys(r.kills[0].answers).filter((s) => !['200', '202', '503'].includes(s)), [], `only 202/200 or 503 around the kill: ${JSON.stringify(r.kills[0].answers)}`);
    assert.deepEqual(r.send.unexpected, [], 'no answer other than 202, 200 or 503');
    assert.equal(r.send.accepted, r.send.sent, 'every alert accepted in the end (the sender retried 503s)');
    assert.deepEqual(r.crashes, [], 'no process died or was restarted');
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0, 'every 202 was on the topic and went all the way: acknowledged by the in-sync replicas');
    assert.deepEqual(r.verdict.failures, [], 'every figure clean, Parquet read');
  });
});
