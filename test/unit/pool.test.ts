import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inPool } from '../../connectors/pool.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('submit pool', () => {
  it('keeps at most the limit in flight and returns results in the order of the items', async () => {
    let inFlight = 0, most = 0;
    const out = await inPool([30, 5, 20, 1, 10, 2, 8], 3, async (ms) => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      inFlight -= 1;
      return ms * 2;
    });
    assert.deepEqual(out, [60, 10, 40, 2, 20, 4, 16]);
    assert.equal(most, 3);
  });

  it('starts the next item as soon as one slot frees, not when the slowest of a chunk is done', async () => {
    const started: number[] = [];
    const t0 = Date.now();
    await inPool([200, 10, 10, 10, 10], 2, async (ms) => { started.push(Date.now() - t0); await sleep(ms); });
    // With chunks of two, the third item would wait for the 200 ms one.
    assert.ok(started[2] < 100, `third item started after ${started[2]} ms`);
  });

  it('starts nothing more after a failure, lets the calls in flight finish, and throws the error', async () => {
    const seen: number[] = [];
    let finished = 0;
    await assert.rejects(inPool([1, 2, 3, 4, 5, 6], 2, async (n) => {
      seen.push(n);
      if (n === 2) throw new Error('venue said no');
      await sleep(20);
      finished += 1;
    }), /venue said no/);
    // 1 was in flight when 2 failed: it finishes; 3 to 6 never start.
    assert.deepEqual(seen, [1, 2]);
    assert.equal(finished, 1);
  });
});
