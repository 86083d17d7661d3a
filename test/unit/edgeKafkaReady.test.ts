// The edge's readiness toward Kafka (`/readyz`), from what its produces did and when they began.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import type { Signal } from '../../schemas/types.ts';
import { createAccept, kafkaReady } from '../../edge/accept.ts';

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

describe('the edge accept path\'s health', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const signal = (id: string) => ({ signalId: id, account: 'A', strategy: 's' }) as unknown as Signal;

  it('a produce left unanswered before a success does not hide the produces stalled after it', async () => {
    const hangs: (() => void)[] = [];
    let sends = 0;
    const producer = {
      send: async () => {
        sends += 1;
        if (sends === 2) return []; // acknowledged
        await new Promise<void>((resolve) => hangs.push(resolve)); // left unanswered (the broker went away)
        return [];
      },
    } as unknown as Producer;
    const pool = { query: async (sql: string, params: unknown[][]) => ({ rows: sql.startsWith('INSERT') ? params[0].map((id) => ({ signal_id: id, produced: false })) : [] }) } as unknown as pg.Pool;
    const codec = { encode: () => Buffer.from('x') } as unknown as Codec;
    const accept = createAccept({ producer, pool, codec, topic: 'signals' });
    void accept(signal('first'));
    await sleep(20);
    const firstAt = accept.health().oldestWriteAt;
    assert.ok(firstAt > 0);
    await accept(signal('second'));
    assert.equal(accept.health().oldestWriteAt, 0, 'the unanswered one began before the success: nothing counts as stalled');
    await sleep(5);
    void accept(signal('third'));
    await sleep(20);
    const thirdAt = accept.health().oldestWriteAt;
    assert.ok(thirdAt > accept.health().lastSuccessAt && thirdAt > firstAt, `the stalled produce after the success counts: ${thirdAt} vs ${firstAt}`);
    assert.equal(kafkaReady(accept.health(), 0, thirdAt + STALL + 1, STALL), false);
    for (const h of hangs) h();
  });
});
