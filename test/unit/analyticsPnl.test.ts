// The per-row P&L the sink stores: small cases by hand, and random histories against foldPositions.
// Rerun one case with SEED=<n> node --test test/unit/analyticsPnl.test.ts
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPnlFold, type PnlEffect } from '../../analytics/pnlFold.ts';
import type { ExecType, ExecutionReport, Side } from '../../schemas/types.ts';
import { foldPositions, positionRow } from '../../streams/positions/fold.ts';

let hlc = 1_000_000;
const exec = (type: ExecType, executionId: string, over: Partial<ExecutionReport> = {}): ExecutionReport => ({
  executionId, type, orderId: 'o1', clientOrderId: 'c1', venueOrderId: null, venueTradeId: null, signalId: 's1',
  account: 'acc', strategy: 'trend', symbol: 'AAPL', venue: 'paper', side: 'BUY',
  lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
  venueTime: null, recordedAt: 0, hlc: hlc++, ...over,
});
const fill = (id: string, side: Side, qty: number, price: number, fee = 0, over: Partial<ExecutionReport> = {}) =>
  exec('FILL', id, { side, lastQty: qty, lastPrice: price, fee, ...over });

const effects = (events: ExecutionReport[]): PnlEffect[] => {
  const f = createPnlFold();
  return events.map((e) => f.apply(e));
};

describe('per-row P&L', () => {
  it('realises at average cost on the row that reduces the position', () => {
    // given long 10 @ 100 and 10 @ 110, when selling 5 @ 120 and then 15 @ 90
    const r = effects([fill('f1', 'BUY', 10, 100, 1), fill('f2', 'BUY', 10, 110, 1), fill('f3', 'SELL', 5, 120, 0.5), fill('f4', 'SELL', 15, 90)]);
    // then the opening rows realise nothing, the sells realise (120 − 105) × 5 and (90 − 105) × 15
    assert.deepEqual(r.map((x) => x.realized), [0, 0, 75, -225]);
    assert.deepEqual(r.map((x) => x.fees), [1, 1, 0.5, 0]);
    assert.deepEqual(r.map((x) => x.quantity), [10, 20, 15, 0]);
    assert.deepEqual(r.map((x) => x.avgPrice), [100, 105, 105, 0]);
  });

  it('attributes a correction’s change to the correction’s own row', () => {
    // given a round trip with a 50 gain
    const r = effects([
      fill('f1', 'BUY', 10, 100), fill('f2', 'SELL', 10, 105, 0, { strategy: 'other' }),
      // when the venue corrects the buy to 98 and later busts the sell
      exec('CORRECTION', 'c1', { refExecutionId: 'f1', lastQty: 10, lastPrice: 98 }),
      exec('BUST', 'b1', { refExecutionId: 'f2' }),
    ]);
    // then the correction adds 20, and the bust takes back the whole 70
    assert.deepEqual(r.map((x) => x.realized), [0, 50, 20, -70]);
    assert.deepEqual(r.map((x) => x.quantity), [10, 0, 0, 10]);
  });

  it('gives rows that move nothing (acks, duplicates, amendments without a fill) zero P&L', () => {
    const f1 = fill('f1', 'BUY', 10, 100);
    const r = effects([exec('ACK', 'a1'), f1, { ...f1, hlc: hlc++ }, exec('BUST', 'b9'), exec('CANCEL', 'x1')]);
    assert.deepEqual(r.map((x) => x.realized), [0, 0, 0, 0, 0]);
    assert.deepEqual(r.map((x) => x.quantity), [null, 10, 10, 10, 10]);
  });

  it('keeps an amendment that names no fill from stopping the stream', () => {
    const refused: string[] = [];
    const f = createPnlFold({ onRefused: (e) => refused.push(e.executionId) });
    f.apply(fill('f1', 'BUY', 1, 10));
    assert.deepEqual(f.apply(exec('CORRECTION', 'c0', { lastQty: 1, lastPrice: 11 })), { realized: 0, fees: 0, quantity: 1, avgPrice: 10 });
    assert.deepEqual(refused, ['c0']);
  });
});

// ---- property: summed rows equal the fold, state by state ----

const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

function history(seed: number): ExecutionReport[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const events: ExecutionReport[] = [];
  const fills: ExecutionReport[] = [];
  for (let i = 0, n = 5 + int(60); i < n; i++) {
    const r = rnd();
    if (r < 0.65 || fills.length === 0) {
      const f = exec(rnd() < 0.3 ? 'PARTIAL_FILL' : 'FILL', `f${i}`, {
        account: pick(['a1', 'a2']), symbol: pick(['AAPL', 'BTCUSD']), side: rnd() < 0.5 ? 'BUY' : 'SELL',
        lastQty: rnd() < 0.8 ? 1 + int(40) : (1 + int(40)) / 10, lastPrice: 90 + int(2000) / 100, fee: int(100) / 100,
      });
      fills.push(f);
      events.push(f);
    } else if (r < 0.8) {
      const t = pick(fills);
      // Some amendments arrive before the fill they name: the fold parks them.
      const ref = rnd() < 0.15 ? `f${i + 1 + int(5)}` : t.executionId;
      events.push(exec(rnd() < 0.6 ? 'CORRECTION' : 'BUST', `x${i}`, {
        account: t.account, symbol: t.symbol, side: t.side, refExecutionId: ref, lastQty: 1 + int(40), lastPrice: 90 + int(2000) / 100, fee: int(50) / 100,
      }));
    } else if (r < 0.9) {
      events.push({ ...pick(events), hlc: hlc++ }); // a replayed duplicate
    } else {
      events.push(exec(pick(['ACK', 'REJECT', 'CANCEL'] as const), `n${i}`, { account: pick(['a1', 'a2']) }));
    }
  }
  return events;
}

describe('per-row P&L against foldPositions', () => {
  it('sums to the fold’s realized P&L and fees, and ends in the same position, on random histories', () => {
    const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: 400 }, (_, i) => i + 1);
    for (const seed of seeds) {
      const events = history(seed);
      // one event at a time, and in random batches as the sink folds Kafka fetches: the same rows
      const one = createPnlFold();
      const single = events.map((e) => one.apply(e));
      const f = createPnlFold();
      const rnd = prng(seed * 7919);
      const batched: PnlEffect[] = [];
      for (let i = 0; i < events.length;) {
        const n = 1 + Math.floor(rnd() * 12);
        batched.push(...f.applyBatch(events.slice(i, i + n)));
        i += n;
      }
      assert.deepStrictEqual(batched, single, `seed ${seed}: batching changes the rows`);
      const sums = new Map<string, { realized: number; fees: number }>();
      for (const [i, e] of events.entries()) {
        const x = batched[i];
        const k = `${e.account}|${e.symbol}|${e.venue}`;
        const s = sums.get(k) ?? { realized: 0, fees: 0 };
        s.realized += x.realized;
        s.fees += x.fees;
        sums.set(k, s);
      }
      const expected = foldPositions(events);
      assert.deepStrictEqual(f.states(), expected, `seed ${seed}: states differ from foldPositions`);
      for (const [k, s] of expected) {
        const row = positionRow(s);
        assert.ok(Math.abs(sums.get(k)!.realized - row.realized_pnl) < 1e-6, `seed ${seed} ${k}: realized`);
        assert.ok(Math.abs(sums.get(k)!.fees - row.fees) < 1e-6, `seed ${seed} ${k}: fees`);
      }
    }
  });
});
