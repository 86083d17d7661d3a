// 10,000 copies of one alert at once: one record on `signals`, one decision, one order at the venue.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDuplicates } from '../../scripts/chaos/scenarios/duplicates.ts';

const COPIES = Number(process.env.RELIABILITY_DUPLICATE_COPIES ?? 10_000);

describe('duplicates', () => {
  it(`turns ${COPIES} concurrent copies of one alert into one signal and one order`, { timeout: 300_000 }, async (t) => {
    const r = await runDuplicates({ copies: COPIES });
    const { examples, ...figures } = r.verdict;
    t.diagnostic(JSON.stringify({ statuses: r.statuses, signalsOnTopic: r.signalsOnTopic, figures, examples, crashes: r.crashes }));
    assert.equal(r.accepted, 1, 'exactly one 202');
    assert.equal(r.statuses[200], COPIES - 1, 'every other copy is answered as a repeat');
    assert.equal(r.signalsOnTopic, 1, 'one record on signals');
    assert.equal(r.verdict.decisions, 1, 'one decision');
    assert.equal(r.verdict.ordersOnTopic, 1, 'one order');
    assert.equal(r.verdict.venueOrdersCreated, 1, 'one order at the venue');
    assert.equal(r.verdict.duplicates.total, 0);
    assert.equal(r.verdict.lost.total, 0);
    assert.ok(r.verdict.parquet.checked && r.verdict.parquet.fills === 1, `the one fill read from Parquet: ${JSON.stringify(r.verdict.parquet)}`);
    assert.deepEqual(r.verdict.failures, []);
    assert.deepEqual(r.crashes, []);
  });
});
