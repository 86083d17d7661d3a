import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecType, ExecutionReport, Side } from '../../schemas/types.ts';
import { evolve, foldPositions, positionKey, positionRow, type PositionState } from '../../streams/positions/fold.ts';

let hlc = 1_000_000;
const exec = (type: ExecType, executionId: string, over: Partial<ExecutionReport> = {}): ExecutionReport => ({
  executionId, type, orderId: 'o1', clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: null, signalId: 's1',
  account: 'acc', strategy: 'strat', symbol: 'AAPL', venue: 'paper', side: 'BUY',
  lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
  venueTime: null, recordedAt: 1_700_000_000_000, hlc: hlc++, ...over,
});
const fill = (id: string, side: Side, qty: number, price: number, fee = 0, type: ExecType = 'FILL') =>
  exec(type, id, { side, lastQty: qty, lastPrice: price, fee });
const correction = (id: string, ref: string, qty: number, price: number, fee = 0) =>
  exec('CORRECTION', id, { refExecutionId: ref, lastQty: qty, lastPrice: price, fee });
const bust = (id: string, ref: string) => exec('BUST', id, { refExecutionId: ref });

const run = (events: ExecutionReport[], from?: PositionState): PositionState | undefined =>
  events.reduce<PositionState | undefined>((s, e) => evolve(s, e), from);
const mustRun = (events: ExecutionReport[]): PositionState => {
  const s = run(events);
  assert.ok(s, 'expected a position');
  return s;
};
const row = (events: ExecutionReport[]) => positionRow(mustRun(events));

describe('position fold', () => {
  it('buy then sell realises P&L at average cost', () => {
    // given long 10 @ 100 and 10 @ 110 (avg 105)
    const given = [fill('f1', 'BUY', 10, 100), fill('f2', 'BUY', 10, 110)];
    // when selling 5 @ 120
    const r = row([...given, fill('f3', 'SELL', 5, 120)]);
    // then 15 remain at 105 and 5 × 15 is realised
    assert.deepEqual(r, {
      account_id: 'acc', symbol: 'AAPL', venue: 'paper', quantity: 15, avg_price: 105, realized_pnl: 75, fees: 0, fill_count: 3,
    });
  });

  it('partial fills accumulate like fills', () => {
    const s = mustRun([
      fill('p1', 'BUY', 3, 100, 0, 'PARTIAL_FILL'),
      fill('p2', 'BUY', 1, 104, 0, 'PARTIAL_FILL'),
      fill('p3', 'BUY', 0, 0, 0, 'FILL'), // terminal status without quantity
    ]);
    assert.equal(s.quantity, 4);
    assert.equal(s.avgPrice, 101);
    assert.equal(s.fillCount, 2);
    assert.equal(s.lastExecutionId, 'p2');
  });

  it('a sell through zero flips long to short at the trade price', () => {
    // given long 10 @ 100, when selling 15 @ 90
    const r = row([fill('f1', 'BUY', 10, 100), fill('f2', 'SELL', 15, 90)]);
    // then the 10 long are closed at a loss and 5 short are open at 90
    assert.equal(r.quantity, -5);
    assert.equal(r.avg_price, 90);
    assert.equal(r.realized_pnl, -100);
    // and buying back 5 @ 80 realises the short's gain and leaves the book flat
    const flat = row([fill('f1', 'BUY', 10, 100), fill('f2', 'SELL', 15, 90), fill('f3', 'BUY', 5, 80)]);
    assert.deepEqual([flat.quantity, flat.avg_price, flat.realized_pnl], [0, 0, -50]);
  });

  it('fees are summed apart from realised P&L', () => {
    const r = row([fill('f1', 'BUY', 10, 100, 1.5), fill('f2', 'SELL', 10, 101, 0.25)]);
    assert.equal(r.fees, 1.75);
    assert.equal(r.realized_pnl, 10);
  });

  it('the same fill twice changes nothing and returns the same state', () => {
    const f1 = fill('f1', 'BUY', 10, 100);
    const once = mustRun([f1]);
    assert.equal(evolve(once, f1), once);
    assert.equal(evolve(once, { ...f1, hlc: f1.hlc + 99 }), once, 'a replayed copy has the same id');
  });

  it('a correction replaces the fill price', () => {
    // given long 10 @ 100 then sold 10 @ 110, when the buy is corrected to 10 @ 102
    const r = row([fill('f1', 'BUY', 10, 100, 1), fill('f2', 'SELL', 10, 110), correction('c1', 'f1', 10, 102, 1)]);
    assert.equal(r.realized_pnl, 80);
    assert.equal(r.fill_count, 2);
  });

  it('a correction replaces the fill quantity and fee', () => {
    const s = mustRun([fill('f1', 'BUY', 10, 100, 1), fill('f2', 'BUY', 10, 110), correction('c1', 'f1', 30, 100, 2)]);
    assert.equal(s.quantity, 40);
    assert.equal(s.avgPrice, 102.5);
    assert.equal(s.fees, 2);
    // the original fill is still known, so its replay is ignored
    assert.equal(evolve(s, fill('f1', 'BUY', 10, 100, 1)), s);
  });

  it('a second correction applies on top of the first, and a repeated one is ignored', () => {
    const given = [fill('f1', 'BUY', 10, 100), correction('c1', 'f1', 8, 100), correction('c2', 'f1', 6, 100)];
    const s = mustRun(given);
    assert.equal(s.quantity, 6);
    assert.equal(evolve(s, given[1]), s);
  });

  it('a bust removes the fill and its fee, and a replay of the fill stays removed', () => {
    const s = mustRun([fill('f1', 'BUY', 10, 100, 1), fill('f2', 'BUY', 5, 110, 1), bust('b1', 'f1')]);
    assert.deepEqual([s.quantity, s.avgPrice, s.fees, s.fillCount], [5, 110, 1, 1]);
    assert.equal(evolve(s, fill('f1', 'BUY', 10, 100, 1)), s);
  });

  it('a bust of the only fill leaves a flat position, not a missing one', () => {
    const r = row([fill('f1', 'SELL', 10, 100), bust('b1', 'f1')]);
    assert.deepEqual([r.quantity, r.avg_price, r.realized_pnl, r.fill_count], [0, 0, 0, 0]);
  });

  it('an amendment before its fill waits and applies when the fill arrives', () => {
    // given a correction whose fill has not been seen
    const parked = mustRun([correction('c1', 'f1', 4, 99)]);
    assert.equal(parked.quantity, 0);
    assert.equal(parked.pendingAmendments.length, 1);
    // when the fill arrives, then it counts as corrected
    const s = evolve(parked, fill('f1', 'BUY', 10, 100));
    assert.deepEqual([s.quantity, s.avgPrice, s.pendingAmendments.length], [4, 99, 0]);
    assert.deepEqual(s.amendmentIds, ['c1']);
    // and a parked bust followed by a later correction reinstates it (latest wins)
    const b = mustRun([bust('b1', 'f9'), fill('f9', 'SELL', 2, 50), correction('c9', 'f9', 3, 51)]);
    assert.deepEqual([b.quantity, b.avgPrice], [-3, 51]);
  });

  it('ACK, REJECT and CANCEL change nothing', () => {
    assert.equal(evolve(undefined, exec('ACK', 'a1')), undefined);
    const s = mustRun([fill('f1', 'BUY', 1, 10)]);
    for (const t of ['ACK', 'REJECT', 'CANCEL'] as const) assert.equal(evolve(s, exec(t, `${t}-1`)), s);
  });

  it('an amendment without a reference is refused, not guessed', () => {
    assert.throws(() => evolve(undefined, exec('BUST', 'b1')), { code: 'AMENDMENT_WITHOUT_REF' });
  });

  it('evolve never mutates the state it is given', () => {
    const s = mustRun([fill('f1', 'BUY', 10, 100), fill('f2', 'BUY', 10, 110)]);
    const before = structuredClone(s);
    evolve(s, correction('c1', 'f1', 1, 1));
    evolve(s, fill('f3', 'SELL', 3, 1));
    assert.deepEqual(s, before);
  });

  it('foldPositions keys by account, symbol and venue, and matches evolve', () => {
    const events = [
      fill('f1', 'BUY', 10, 100),
      { ...fill('f2', 'SELL', 4, 20), symbol: 'MSFT' },
      { ...fill('f3', 'BUY', 1, 20), venue: 'alpaca' },
      exec('REJECT', 'r1', { account: 'other' }),
    ];
    const m = foldPositions(events);
    assert.deepEqual([...m.keys()], ['acc|AAPL|paper', 'acc|MSFT|paper', 'acc|AAPL|alpaca']);
    assert.equal(positionKey(events[1]), 'acc|MSFT|paper');
    assert.deepEqual(m.get('acc|AAPL|paper'), run([events[0]]));
  });
});
