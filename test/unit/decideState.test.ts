// The gate's books as the processor keeps them from the topics: positions agree with the position fold
// (corrections and busts included), earlier days never count in today's P&L, and records of another
// instance's orders arriving in any order leave the open quantity right.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { ExecType, ExecutionReport, Quote, RiskDecision } from '../../schemas/types.ts';
import { dayPnl, evolveGate, initialGateState, ordersInWindow, utcDay, type GateState } from '../../streams/decide/state.ts';
import { foldPositions } from '../../streams/positions/fold.ts';

const DAY1 = Date.UTC(2024, 2, 4, 15, 0, 0);
const DAY2 = DAY1 + 86_400_000;

let state: GateState;
let seq = 0;
beforeEach(() => {
  state = initialGateState();
  seq = 0;
});

function quote(symbol: string, mid: number, at: number, venue = 'paper'): void {
  const q: Quote = { venue, symbol, bid: mid - 0.01, ask: mid + 0.01, bidSize: 1e6, askSize: 1e6, venueTime: at, hlc: at * 1000 };
  evolveGate(state, { kind: 'quote', quote: q });
}

function report(over: Partial<ExecutionReport> & { type: ExecType }): ExecutionReport {
  seq += 1;
  return {
    executionId: `x${seq}`, orderId: 'ord-1', clientOrderId: 'c1', venueOrderId: null, venueTradeId: null, signalId: 's1',
    account: 'acc1', strategy: 'trend', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 0,
    fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: null, recordedAt: DAY2, hlc: DAY2 * 1000, ...over,
  };
}

const exec = (r: ExecutionReport) => evolveGate(state, { kind: 'execution', report: r });
const book = (symbol = 'AAPL') => state.accounts.get('acc1')?.symbols.get(symbol);
const pnl = () => dayPnl(state.accounts.get('acc1')!, state.marks);

function decision(over: Partial<RiskDecision> = {}): RiskDecision {
  return {
    decisionId: 'dec-1', signalId: 's1', account: 'acc1', strategy: 'trend', symbol: 'AAPL', verdict: 'APPROVED', reason: null, detail: null,
    orderId: 'ord-1', venue: 'paper', side: 'BUY', quantity: 10, positionBefore: 0, candidates: [], alertTime: DAY2 - 100, signalHlc: 0,
    decidedAt: DAY2, hlc: DAY2 * 1000, ...over,
  };
}

describe('positions come from the position fold', () => {
  function rng(seed: number) {
    let s = seed;
    return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  }

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`given random fills, corrections and busts on two venues (seed ${seed}), then the gate position is the fold's sum`, () => {
      const random = rng(seed);
      const events: ExecutionReport[] = [];
      const fills: ExecutionReport[] = [];
      for (let i = 0; i < 200; i++) {
        const r = random();
        if (r < 0.6 || fills.length === 0) {
          const f = report({ type: random() < 0.5 ? 'PARTIAL_FILL' : 'FILL', venue: random() < 0.5 ? 'paper' : 'ibkr', side: random() < 0.5 ? 'BUY' : 'SELL', lastQty: 1 + Math.floor(random() * 9), lastPrice: 100 + random(), fee: 0.1 });
          fills.push(f);
          events.push(f);
        } else if (r < 0.75) {
          events.push(fills[Math.floor(random() * fills.length)]); // a duplicate delivery
        } else {
          const ref = fills[Math.floor(random() * fills.length)];
          const type = r < 0.88 ? 'CORRECTION' : 'BUST';
          events.push(report({ type, venue: ref.venue, side: ref.side, refExecutionId: ref.executionId, lastQty: type === 'BUST' ? 0 : 1 + Math.floor(random() * 5), lastPrice: 100 }));
        }
      }
      for (const e of events) exec(e);
      const folded = [...foldPositions(events).values()].reduce((sum, p) => sum + p.quantity, 0);
      assert.ok(Math.abs(book()!.position - folded) < 1e-9, `gate ${book()!.position} fold ${folded}`);
      assert.deepEqual([...book()!.venues.values()].map((p) => p.quantity).sort(), [...foldPositions(events).values()].map((p) => p.quantity).sort());
    });
  }

  it('given a bust of a fill from days ago, then the position drops by it (the gate keeps every fill, as the fold does)', () => {
    const old = report({ type: 'FILL', lastQty: 10, lastPrice: 100, recordedAt: DAY1 - 5 * 86_400_000 });
    exec(old);
    exec(report({ type: 'FILL', lastQty: 5, lastPrice: 101, recordedAt: DAY2 }));
    exec(report({ type: 'BUST', refExecutionId: old.executionId, recordedAt: DAY2 }));
    assert.equal(book()!.position, 5);
  });
});

describe("today's P&L", () => {
  it('given a day roll, then P&L restarts at the marks and later moves are today', () => {
    quote('AAPL', 100, DAY1);
    exec(report({ type: 'FILL', lastQty: 10, lastPrice: 100, recordedAt: DAY1 }));
    quote('AAPL', 90, DAY1 + 1000);
    assert.equal(pnl(), -100, 'day 1: marked to market');
    evolveGate(state, { kind: 'dayRoll', day: utcDay(DAY2) });
    assert.equal(pnl(), 0, 'day 2 starts at the mark of the roll');
    quote('AAPL', 88, DAY2 + 1000);
    assert.equal(pnl(), -20);
    exec(report({ type: 'FILL', side: 'SELL', lastQty: 10, lastPrice: 87, fee: 1, recordedAt: DAY2 + 2000 }));
    assert.equal(pnl(), -31, 'sold at 87 from a start at 90, less a fee of 1');
  });

  it("given yesterday's fills read after today began (a rebuild), then they move the day's start, not today's P&L", () => {
    evolveGate(state, { kind: 'dayRoll', day: utcDay(DAY2) });
    quote('AAPL', 100, DAY2);
    exec(report({ type: 'FILL', lastQty: 10, lastPrice: 120, fee: 5, recordedAt: DAY1 }));
    exec(report({ type: 'FILL', side: 'SELL', lastQty: 4, lastPrice: 130, recordedAt: DAY1 + 1 }));
    assert.equal(book()!.position, 6, 'the position counts them');
    assert.equal(pnl(), 0, 'the realized gain and the fee were yesterday');
    quote('AAPL', 95, DAY2 + 1000);
    assert.equal(pnl(), -30, 'today: 6 held from 100 to 95');
  });

  it('given a fill from a later day, then the day rolls forward by event time, never back', () => {
    evolveGate(state, { kind: 'dayRoll', day: utcDay(DAY1) });
    exec(report({ type: 'FILL', lastQty: 1, lastPrice: 100, recordedAt: DAY2 }));
    assert.equal(state.day, utcDay(DAY2));
    evolveGate(state, { kind: 'dayRoll', day: utcDay(DAY1) });
    assert.equal(state.day, utcDay(DAY2));
  });

  it('given a correction recorded today of a fill from yesterday, then its effect is today', () => {
    quote('AAPL', 100, DAY1);
    const fill = report({ type: 'FILL', lastQty: 10, lastPrice: 100, recordedAt: DAY1 });
    exec(fill);
    evolveGate(state, { kind: 'dayRoll', day: utcDay(DAY2) });
    exec(report({ type: 'CORRECTION', refExecutionId: fill.executionId, lastQty: 10, lastPrice: 101, recordedAt: DAY2 }));
    assert.equal(pnl(), -10, 'the venue says we paid 1 more per share');
  });
});

describe("another instance's orders, read back from the topics", () => {
  it('given the fill before the decision, then the order is not counted as open', () => {
    exec(report({ type: 'PARTIAL_FILL', lastQty: 4, lastPrice: 100, leavesQty: 6 }));
    evolveGate(state, { kind: 'decided', decision: decision(), order: null, alertTime: null });
    assert.deepEqual([book()!.position, book()!.open], [4, 6]);
    exec(report({ type: 'FILL', lastQty: 6, lastPrice: 100 }));
    assert.deepEqual([book()!.position, book()!.open], [10, 0]);
  });

  it('given the cancel before the decision, then nothing stays open', () => {
    exec(report({ type: 'CANCEL' }));
    evolveGate(state, { kind: 'decided', decision: decision(), order: null, alertTime: null });
    assert.equal(book()?.open ?? 0, 0);
    assert.equal(state.orders.size, 0);
  });

  it('given the same decision twice (ours, then read back), then it counts once', () => {
    const d = decision();
    evolveGate(state, { kind: 'decided', decision: d, order: null, alertTime: null });
    evolveGate(state, { kind: 'decided', decision: d, order: null, alertTime: null });
    assert.equal(book()!.open, 10);
    assert.equal(ordersInWindow(state.accounts.get('acc1')!.strategies.get('trend'), DAY2), 1);
  });

  it('given decisions of several partitions out of time order, then the rate window still counts them', () => {
    for (const [i, t] of [DAY2, DAY2 - 30_000, DAY2 - 90_000, DAY2 + 10_000].entries()) {
      evolveGate(state, { kind: 'decided', decision: decision({ signalId: `s${i}`, orderId: `o${i}`, decidedAt: t }), order: null, alertTime: null });
    }
    assert.equal(ordersInWindow(state.accounts.get('acc1')!.strategies.get('trend'), DAY2 + 10_000), 3);
  });
});
