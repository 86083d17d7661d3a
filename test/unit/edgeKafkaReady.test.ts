// The edge's readiness toward Kafka (`/readyz`), from what its produces did and when they began.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaReady } from '../../edge/accept.ts';

const STALL = 5_000;
const h = (over: Partial<{ lastFailureAt: number; lastSuccessAt: number; oldestWriteAt: number }>) => ({ lastFailureAt: 0, lastSuccessAt: 0, oldestWriteAt: 0, ...over });

describe('edge readiness toward Kafka', () => {
  it('is ready with nothing written yet, and after a success', () => {
    assert.equal(kafkaReady(h({}), 0, 1_000, STALL), true);
    assert.equal(kafkaReady(h({ lastSuccessAt: 900 }), 0, 1_000, STALL), true);
  });

  it('is not ready after a produce begun after the last success failed, until a probe begun after it succeeds', () => {
    const failed = h({ lastSuccessAt: 100, lastFailureAt: 200 });
    assert.equal(kafkaReady(failed, 0, 1_000, STALL), false);
    assert.equal(kafkaReady(failed, 150, 1_000, STALL), false);
    assert.equal(kafkaReady(failed, 250, 1_000, STALL), true);
  });

  it('stays ready when a produce begun before the last success fails afterwards (it began during an outage now over)', () => {
    assert.equal(kafkaReady(h({ lastFailureAt: 100, lastSuccessAt: 300 }), 0, 1_000, STALL), true);
  });

  it('is not ready while the oldest produce has waited past the stall limit with nothing acknowledged since it began', () => {
    assert.equal(kafkaReady(h({ oldestWriteAt: 1_000 }), 0, 1_000 + STALL + 1, STALL), false);
    assert.equal(kafkaReady(h({ oldestWriteAt: 1_000 }), 0, 1_000 + STALL - 1, STALL), true);
    assert.equal(kafkaReady(h({ oldestWriteAt: 1_000, lastSuccessAt: 2_000 }), 0, 1_000 + STALL + 1, STALL), true);
  });
});
