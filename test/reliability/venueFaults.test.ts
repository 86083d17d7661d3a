// Venue faults under a steady stream of alerts (timeouts, answers withheld after the venue acted, 5xx
// before and after, 429 storms, a silent push stream, an outage with flow moving to a second venue):
// no order twice at any venue, no fill lost, positions equal the fold of `executions`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runVenueFaults } from '../../scripts/chaos/scenarios/venue.ts';

describe('venue faults', () => {
  it('doubles no order and loses no fill through timeouts, 5xx, 429 storms, a silent stream and an outage', { timeout: 540_000 }, async (t) => {
    const r = await runVenueFaults({ ratePerSec: 10, phaseMs: 4_000, calmMs: 2_500, silentMs: 8_000, outageMs: 8_000, failover: true });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ injected: r.injected, proxySubmits: r.proxySubmits, send: r.send, failover: r.failover, executionsByKind: r.executionsByKind, deniedByVenueState: r.deniedByVenueState, figures, examples, crashes: r.crashes }));
    if (r.tails) t.diagnostic(JSON.stringify(r.tails));
    for (const k of ['5xx-before', '5xx-after', '429', 'silent-stream']) assert.ok((r.injected[k] ?? 0) > 0, `${k} was injected: ${JSON.stringify(r.injected)}`);
    assert.equal(r.send.accepted, r.send.sent, 'the edge accepted every alert (venue faults are behind it)');
    assert.equal(r.verdict.duplicates.total, 0, 'no decision, order or fill twice');
    assert.equal(r.verdict.lost.total, 0, 'no order or fill lost');
    assert.deepEqual(r.verdict.failures, [], 'every figure clean, Parquet read');
    // Retries happened (5xx, timeouts), each after a look-up: counted at the venue and by the proxy.
    assert.equal(r.verdict.venueSubmits.blindResends, 0, `no blind resend at the venue: ${JSON.stringify(r.verdict.venueSubmits)}`);
    assert.equal(r.proxySubmits.forwarded.blindResends, 0, `no blind resend through the proxy: ${JSON.stringify(r.proxySubmits)}`);
    assert.ok(r.proxySubmits.idsRetried > 0, `the connector did retry submits: ${JSON.stringify(r.proxySubmits)}`);
    assert.deepEqual(r.crashes, []);
    assert.ok(r.failover.ordersToSecondVenue > 0, `flow moved to the second venue while paper was out: ${JSON.stringify(r.failover)}`);
    assert.equal(r.failover.ordersAtSecondVenue, r.failover.ordersToSecondVenue, 'every order routed there reached it');
    assert.equal(r.failover.doubledAtSecondVenue, 0);
    assert.equal(r.failover.blindResendsAtSecondVenue, 0);
    assert.equal(r.failover.fillsOnExecutions, r.failover.fillsMade, 'every fill there is on executions');
  });
});
