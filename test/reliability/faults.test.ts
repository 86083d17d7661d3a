// Every check the reliability suite relies on, seen failing on purpose: the same short run of the whole
// pipeline, once clean and then with test-only faults (ORDER_ROUTER_FAULT, streams/runtime/faults.ts),
// judged by the verifier every scenario ends with. A fault must turn its own check red, and nothing else.
// drop-fill (connector), double-decision (decide) and position-off-by-lot (projection) live in different
// processes and break independent checks, so they share one run: fewer minutes in `npm test`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runWithFault, type FaultRunOptions, type FaultRunResult } from '../../scripts/chaos/scenarios/faults.ts';

/** The failed figures' names, without their counts: `lost.fills: 2` → `lost.fills`. */
const red = (r: FaultRunResult) => r.verdict.failures.map((f) => f.split(':')[0]).sort();

async function run(t: { diagnostic(s: string): void }, o: FaultRunOptions): Promise<FaultRunResult> {
  const r = await runWithFault(o);
  const { examples, ...figures } = r.verdict;
  t.diagnostic(JSON.stringify({ faults: r.faults, inDoubt: r.inDoubt, send: r.send, proxySubmits: r.proxySubmits, figures, examples: examples.slice(0, 8), crashes: r.crashes }));
  if (r.tails) t.diagnostic(JSON.stringify(r.tails));
  if (o.inDoubt) assert.ok(r.inDoubt > 0, 'orders were at the venue, unanswered, when the connector was killed');
  assert.equal(r.send.accepted, r.send.sent, 'every alert accepted');
  assert.deepEqual(r.crashes, []);
  return r;
}

describe('each reliability check can fail', { concurrency: 1 }, () => {
  it('no fault: the run comes out clean, and the orders in doubt after the restart were looked up, not resent', { timeout: 240_000 }, async (t) => {
    const r = await run(t, { faults: [], inDoubt: true });
    assert.deepEqual(r.verdict.failures, []);
    assert.equal(r.verdict.venueSubmits.resends, 0, 'no order sent twice');
    assert.ok(r.verdict.venueSubmits.lookups >= r.inDoubt, `the restarted connector looked them up: ${JSON.stringify(r.verdict.venueSubmits)}`);
    assert.equal(r.proxySubmits.forwarded.blindResends, 0);
  });

  it('blind-resend: a connector that resends without a look-up after a restart fails the blind-resend count, at the venue and in the proxy', { timeout: 240_000 }, async (t) => {
    const r = await run(t, { faults: ['blind-resend'], inDoubt: true });
    assert.deepEqual(red(r), ['duplicates.blindResends']);
    assert.ok(r.verdict.duplicates.blindResends >= r.inDoubt, `each order in doubt resent blindly: ${JSON.stringify(r.verdict.venueSubmits)}`);
    assert.equal(r.verdict.duplicates.venueOrders, 0, 'the venue kept one order per id: only the submit ledger sees the resends');
    assert.ok(r.proxySubmits.forwarded.blindResends > 0, `the proxy counts them too: ${JSON.stringify(r.proxySubmits)}`);
  });

  it('drop-fill, double-decision, position-off-by-lot: each turns its own check red', { timeout: 240_000 }, async (t) => {
    const r = await run(t, { faults: ['drop-fill', 'double-decision', 'position-off-by-lot'], inDoubt: false });
    assert.deepEqual(red(r), ['duplicates.decisions', 'duplicates.orders', 'lost.fills', 'lost.positions']);
    // drop-fill: one fill the venue made is not on executions.
    assert.equal(r.verdict.lost.fills, 1);
    assert.equal(r.verdict.fillsOnExecutions, r.verdict.venueFills - 1);
    assert.ok(r.verdict.examples.some((e) => e.startsWith('venue fill not on executions')), r.verdict.examples.join('\n'));
    // double-decision: every decision, and the order of each approval, twice on the topics. The gate may refuse a
    // signal of the run (then it has no order), so orders are counted against themselves, not against decisions.
    assert.equal(r.verdict.duplicates.decisions, r.verdict.decided);
    assert.equal(r.verdict.decisions, 2 * r.verdict.decided);
    assert.ok(r.verdict.duplicates.orders > 0);
    assert.equal(r.verdict.ordersOnTopic, 2 * r.verdict.duplicates.orders);
    // position-off-by-lot: every Postgres row differs from the fold of executions.
    assert.equal(r.verdict.lost.positions, r.verdict.positionRows);
    assert.ok(r.verdict.examples.some((e) => /^position .*fold \{"q":(-?[\d.]+).* vs postgres/.test(e)), r.verdict.examples.join('\n'));
  });
});
