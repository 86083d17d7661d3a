// decide for issue 17: stop, stop-limit and trailing-stop orders with their time in force, the actions
// exit / add / cancel, and sizing by dollar amount, percent of equity and risk.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Control, ExecutionReport, Order, Quote, Signal } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent, type DecideResult } from '../../streams/decide/decide.ts';
import { quantityFor } from '../../streams/decide/sizing.ts';
import { evolveGate, initialGateState, type GateState } from '../../streams/decide/state.ts';

const T0 = 1_700_000_000_000;
let state: GateState;
let config: ControlConfig;
let seq: number;

beforeEach(() => {
  state = initialGateState();
  config = defaultControlConfig();
  seq = 0;
  evolveGate(state, { kind: 'dayRoll', day: '2023-11-14' });
});

function quote(symbol: string, bid: number, ask: number): void {
  const q: Quote = { venue: 'paper', symbol, bid, ask, bidSize: 1_000, askSize: 1_000, venueTime: T0, hlc: T0 * 1000 };
  evolveGate(state, { kind: 'quote', quote: q });
}

function signal(overrides: Partial<Signal> = {}): Signal {
  seq += 1;
  return {
    signalId: `sig-${seq}`, source: 'SIGNED', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'DELTA', side: 'BUY',
    quantity: 10, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: 100, reportedPosition: null, externalOrderId: null,
    alertTime: T0 - 200, receivedAt: T0 - 100, hlc: T0 * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null,
    timeInForce: null, sizing: null, takeProfit: null, stopLoss: null, ...overrides,
  };
}

function run(s: Signal): DecideResult {
  const input = { signal: s, now: T0, decisionId: `dec-${s.signalId}`, orderId: `0190a1b2-c3d4-7e5f-8a9b-${String(seq).padStart(12, '0')}`, hlc: T0 * 1000 + seq };
  const result = decide(input, state, config);
  evolveGate(state, decidedEvent(input, result));
  return result;
}

function fill(order: Order, partly?: number): void {
  seq += 1;
  const qty = partly ?? order.quantity;
  const report: ExecutionReport = {
    executionId: `exe-${seq}`, type: partly === undefined ? 'FILL' : 'PARTIAL_FILL', orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: 'v1', venueTradeId: `t${seq}`,
    signalId: order.signalId, account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side,
    lastQty: qty, lastPrice: 100, cumQty: qty, leavesQty: order.quantity - qty, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: T0, recordedAt: T0, hlc: T0 * 1000,
  };
  evolveGate(state, { kind: 'execution', report });
}

function limits(payload: Record<string, unknown>): void {
  const c: Control = { controlId: `c${++seq}`, kind: 'LIMITS', scope: 'ACCOUNT', target: 'acc1', state: null, payload: JSON.stringify(payload), actor: 'ops', reason: null, at: T0, hlc: 1 };
  config = applyControl(config, c);
}

const outcome = (r: DecideResult) => [r.decision.verdict, r.decision.reason];

describe('order types', () => {
  it('a buy stop reaches the order with its trigger rounded up to the tick and its time in force', () => {
    quote('AAPL', 99.99, 100.01);
    const { decision, order } = run(signal({ orderType: 'STOP', stopPrice: 101.004, timeInForce: 'GTC' }));
    assert.equal(decision.verdict, 'APPROVED');
    assert.deepEqual([order?.orderType, order?.stopPrice, order?.limitPrice, order?.timeInForce], ['STOP', 101.01, null, 'GTC']);
  });

  it('a sell stop-limit rounds its trigger down and its limit up; DAY by default', () => {
    quote('AAPL', 99.99, 100.01);
    const { order } = run(signal({ side: 'SELL', orderType: 'STOP_LIMIT', stopPrice: 98.996, limitPrice: 98.501 }));
    assert.deepEqual([order?.orderType, order?.stopPrice, order?.limitPrice, order?.timeInForce], ['STOP_LIMIT', 98.99, 98.51, 'DAY']);
  });

  it('a trailing stop carries its trail; a market order stays IOC unless FOK is asked for', () => {
    quote('AAPL', 99.99, 100.01);
    const { order } = run(signal({ orderType: 'TRAILING_STOP', trailPercent: 1.5 }));
    assert.deepEqual([order?.orderType, order?.trailPercent, order?.trailAmount, order?.stopPrice], ['TRAILING_STOP', 1.5, null, null]);
    assert.equal(run(signal()).order?.timeInForce, 'IOC');
    assert.equal(run(signal({ timeInForce: 'FOK' })).order?.timeInForce, 'FOK');
  });

  it('refuses a record whose prices do not fit its type (a hand-written or replayed signal)', () => {
    quote('AAPL', 99.99, 100.01);
    for (const bad of [
      { orderType: 'STOP' as const },
      { orderType: 'STOP_LIMIT' as const, stopPrice: 101 },
      { orderType: 'TRAILING_STOP' as const, trailAmount: 1, trailPercent: 1 },
      { orderType: 'MARKET' as const, stopPrice: 101 },
    ]) {
      const r = run(signal(bad));
      assert.deepEqual(outcome(r), ['DENIED', 'INVALID_SIGNAL'], JSON.stringify(bad));
      assert.equal(r.order, null);
    }
  });
});

describe('actions', () => {
  it('add follows the position and is refused when flat; exit closes it', () => {
    quote('AAPL', 99.99, 100.01);
    const flat = run(signal({ intent: 'ADD', side: null, quantity: 5 }));
    assert.deepEqual([...outcome(flat), flat.order], ['DENIED', 'ADD_WHEN_FLAT', null]);
    fill(run(signal({ side: 'SELL', quantity: 10 })).order!);
    const add = run(signal({ intent: 'ADD', side: null, quantity: 5 }));
    assert.deepEqual([add.order?.side, add.order?.quantity], ['SELL', 5]);
    fill(add.order!);
    const exit = run(signal({ intent: 'FLAT', side: null, quantity: 0, targetPosition: 0 }));
    assert.deepEqual([exit.order?.side, exit.order?.quantity], ['BUY', 15]);
  });

  it('a cancel asks to cancel the working orders of its own strategy in the symbol, and only those', () => {
    quote('AAPL', 99.99, 100.01);
    quote('MSFT', 299.99, 300.01);
    const nothing = run(signal({ intent: 'CANCEL', side: null, quantity: 0 }));
    assert.deepEqual([...outcome(nothing), nothing.order, nothing.cancels], ['NO_ACTION', 'NOTHING_TO_CANCEL', null, []]);
    const mine = run(signal({ orderType: 'LIMIT', limitPrice: 98.5 })).order!;
    const partly = run(signal({ orderType: 'LIMIT', limitPrice: 98.6 })).order!;
    fill(partly, 4); // 6 of 10 still working
    const done = run(signal({ orderType: 'LIMIT', limitPrice: 98.7 })).order!;
    fill(done);
    assert.equal(run(signal({ strategy: 'other', orderType: 'LIMIT', limitPrice: 98.5 })).decision.verdict, 'APPROVED');
    assert.equal(run(signal({ symbol: 'MSFT', orderType: 'LIMIT', limitPrice: 295, price: 300 })).decision.verdict, 'APPROVED');
    const cancel = run(signal({ intent: 'CANCEL', side: null, quantity: 0 }));
    assert.deepEqual([...outcome(cancel), cancel.order], ['NO_ACTION', 'CANCEL_REQUESTED', null]);
    assert.deepEqual(cancel.cancels.map((c) => [c.orderId, c.account, c.venue, c.symbol]), [
      [mine.orderId, 'acc1', mine.venue, 'AAPL'], [partly.orderId, 'acc1', partly.venue, 'AAPL'],
    ]);
  });

  it('an entry with a bracket is approved and carries it; a fixed exit on the wrong side or on a reducing entry is refused', () => {
    quote('AAPL', 99.99, 100.01);
    const tp = { orderType: 'LIMIT' as const, price: 110, percent: null, amount: null, limitPrice: null };
    const sl = { orderType: 'STOP' as const, price: null, percent: 2, amount: null, limitPrice: null };
    const ok = run(signal({ takeProfit: tp, stopLoss: sl }));
    assert.equal(ok.decision.verdict, 'APPROVED');
    assert.deepEqual([ok.order!.takeProfit, ok.order!.stopLoss, ok.order!.parentOrderId, ok.order!.exitRole], [tp, sl, null, null]);
    const wrongTp = run(signal({ takeProfit: { ...tp, price: 99 } }));
    assert.deepEqual([...outcome(wrongTp), wrongTp.order], ['DENIED', 'TAKE_PROFIT_WRONG_SIDE', null]);
    assert.deepEqual(JSON.parse(wrongTp.decision.detail!), { entryPrice: 100, exitPrice: 99 });
    const wrongSl = run(signal({ stopLoss: { ...sl, percent: null, price: 100.5 } }));
    assert.deepEqual([...outcome(wrongSl), wrongSl.order], ['DENIED', 'STOP_LOSS_WRONG_SIDE', null]);
    // A limit buy at 99.5 with a stop at 99.6: wrong side of the entry's own price, though under the market.
    const limitSl = run(signal({ orderType: 'LIMIT', limitPrice: 99.5, stopLoss: { ...sl, percent: null, price: 99.6 } }));
    assert.deepEqual(outcome(limitSl), ['DENIED', 'STOP_LOSS_WRONG_SIDE']);
    // Both approved brackets' entries of 10 fill, with the plain one: long 30.
    for (const o of [ok.order!]) fill(o);
    fill(run(signal({ quantity: 20 })).order!);
    const reducing = run(signal({ side: 'SELL', quantity: 5, takeProfit: { ...tp, price: 90 } }));
    assert.deepEqual([...outcome(reducing), reducing.order], ['DENIED', 'BRACKET_REDUCES', null]);
  });
});

describe('bracket exits in the gate', () => {
  function exitOrder(parent: Order, role: 'TAKE_PROFIT' | 'STOP_LOSS', qty: number): Order {
    return { ...parent, orderId: `${parent.orderId}-${role}`, clientOrderId: `x${role}`, side: 'SELL', quantity: qty, orderType: role === 'STOP_LOSS' ? 'STOP' : 'LIMIT',
      takeProfit: null, stopLoss: null, parentOrderId: parent.orderId, exitRole: role, ocoGroup: 'g1' };
  }

  it('exits are working orders for a cancel or an exit, never counted in the target; an exit alert cancels them in its decision', () => {
    quote('AAPL', 99.99, 100.01);
    const tp = { orderType: 'LIMIT' as const, price: 110, percent: null, amount: null, limitPrice: null };
    const entry = run(signal({ takeProfit: tp, stopLoss: { ...tp, orderType: 'STOP', price: 90 } })).order!;
    fill(entry);
    const [a, b] = [exitOrder(entry, 'TAKE_PROFIT', 10), exitOrder(entry, 'STOP_LOSS', 10)];
    evolveGate(state, { kind: 'order', order: a });
    evolveGate(state, { kind: 'order', order: b });
    // Long 10 with two sells of 10 resting: a target of 10 is already met, the exits are not counted.
    const target = run(signal({ intent: 'TARGET', side: null, targetPosition: 10 }));
    assert.deepEqual([...outcome(target), target.cancels], ['NO_ACTION', 'AT_TARGET', []]);
    const exit = run(signal({ intent: 'FLAT', side: null, quantity: 0 }));
    assert.deepEqual([exit.decision.verdict, exit.order?.side, exit.order?.quantity], ['APPROVED', 'SELL', 10]);
    assert.deepEqual(exit.cancels.map((c) => c.orderId), [a.orderId, b.orderId]);
    // Once the exit, the take-profit and the stop's cancel are reported, nothing is left to cancel.
    fill(exit.order!);
    fill(a);
    evolveGate(state, { kind: 'execution', report: { ...cancelReport(b) } });
    const cancel = run(signal({ intent: 'CANCEL', side: null, quantity: 0 }));
    assert.deepEqual(outcome(cancel), ['NO_ACTION', 'NOTHING_TO_CANCEL']);
  });
});

function cancelReport(order: Order): ExecutionReport {
  return {
    executionId: `exe-c-${order.orderId}`, type: 'CANCEL', orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: 'v1', venueTradeId: null,
    signalId: order.signalId, account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side,
    lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: 'CANCELED', venueTime: T0, recordedAt: T0, hlc: T0 * 1000,
  };
}

describe('sizing', () => {
  it('a dollar amount is notional over the mark, rounded down to the lot', () => {
    quote('AAPL', 99.99, 100.01);
    const r = run(signal({ quantity: 0, sizing: { type: 'DOLLAR_AMOUNT', amount: 1_099 } }));
    assert.deepEqual([r.decision.verdict, r.order?.quantity], ['APPROVED', 10]);
    assert.equal(JSON.parse(r.decision.detail!).dollarAmount, 1_099);
    // A limit order is sized at its own price.
    assert.equal(run(signal({ quantity: 0, orderType: 'LIMIT', limitPrice: 99, sizing: { type: 'DOLLAR_AMOUNT', amount: 990 } })).order?.quantity, 10); // 9 at the mark
    const small = run(signal({ quantity: 0, sizing: { type: 'DOLLAR_AMOUNT', amount: 50 } }));
    assert.deepEqual(outcome(small), ['DENIED', 'BELOW_LOT_SIZE']);
  });

  it('without a mark there is nothing to size by', () => {
    const r = run(signal({ quantity: 0, sizing: { type: 'DOLLAR_AMOUNT', amount: 1_000 } }));
    assert.deepEqual([...outcome(r), r.order], ['DENIED', 'NO_MARK', null]);
  });

  it('a percent of equity is of the configured cash plus the positions at the marks', () => {
    quote('AAPL', 99.99, 100.01);
    const none = run(signal({ quantity: 0, sizing: { type: 'PERCENT_OF_EQUITY', amount: 10 } }));
    assert.deepEqual(outcome(none), ['DENIED', 'NO_EQUITY']);
    limits({ accountCash: 20_000 });
    const r = run(signal({ quantity: 0, sizing: { type: 'PERCENT_OF_EQUITY', amount: 10 } }));
    assert.equal(r.order?.quantity, 20);
    fill(r.order!); // bought 20 at 100: cash flow −2,000, position worth 2,000 at the mark
    quote('AAPL', 109.99, 110.01); // +200 unrealized
    const again = run(signal({ quantity: 0, sizing: { type: 'PERCENT_OF_EQUITY', amount: 11 } }));
    assert.equal(JSON.parse(again.decision.detail!).equity, 20_200);
    assert.equal(again.order?.quantity, 20); // 2,222 / 110 = 20.2 → 20
  });

  it('a risk amount is divided by the distance to the stop loss', () => {
    const base = signal({ quantity: 0, sizing: { type: 'RISK_AMOUNT', amount: 200 } });
    const stop = (s: Partial<NonNullable<Signal['stopLoss']>>) => ({ ...base, stopLoss: { orderType: 'STOP' as const, price: null, percent: null, amount: null, limitPrice: null, ...s } });
    assert.deepEqual(quantityFor({ signal: stop({ percent: 2 }), side: 'BUY', freshMark: 100, equity: 0 }), { ok: true, quantity: 100, detail: { riskAmount: 200, stopDistance: 2, sizingPrice: 100 } });
    assert.equal((quantityFor({ signal: stop({ price: 96 }), side: 'BUY', freshMark: 100, equity: 0 }) as { quantity: number }).quantity, 50);
    assert.equal((quantityFor({ signal: stop({ amount: 4 }), side: 'SELL', freshMark: 100, equity: 0 }) as { quantity: number }).quantity, 50);
    assert.equal((quantityFor({ signal: stop({ price: 104 }), side: 'BUY', freshMark: 100, equity: 0 }) as { reason: string }).reason, 'STOP_WRONG_SIDE');
    assert.equal((quantityFor({ signal: stop({ price: 100 }), side: 'BUY', freshMark: 100, equity: 0 }) as { reason: string }).reason, 'NO_STOP');
    assert.equal((quantityFor({ signal: base, side: 'BUY', freshMark: 100, equity: 0 }) as { reason: string }).reason, 'NO_STOP');
    assert.equal((quantityFor({ signal: stop({ percent: 2 }), side: 'BUY', freshMark: null, equity: 0 }) as { reason: string }).reason, 'NO_MARK');
  });

  it('an old reader cannot mistake money for a quantity: quantity is 0 in a sized signal', () => {
    quote('AAPL', 99.99, 100.01);
    const legacy = run(signal({ quantity: 0 }));
    assert.deepEqual(outcome(legacy), ['DENIED', 'INVALID_SIGNAL']);
  });
});

describe('drawdown and the position cap', () => {
  it('a fall of equity below today\'s peak breaches maxIntradayDrawdown: denied, and the account moves to its breach state', () => {
    limits({ maxIntradayDrawdown: 150, accountCash: 100_000 });
    quote('AAPL', 99.99, 100.01);
    fill(run(signal({ quantity: 100 })).order!); // long 100 at 100
    quote('AAPL', 101.99, 102.01); // peak: +200
    quote('AAPL', 100.49, 100.51); // now +50: 150 below the peak
    const r = run(signal({ quantity: 1 }));
    assert.deepEqual(outcome(r), ['DENIED', 'MAX_DRAWDOWN']);
    assert.deepEqual(JSON.parse(r.decision.detail!).measured, 'intraday');
    assert.deepEqual(r.controls.map((c) => [c.kind, c.scope, c.target, c.state]), [['TRADING_STATE', 'ACCOUNT', 'acc1', 'HALTED']]);
    assert.match(r.controls[0].reason ?? '', /^MAX_DRAWDOWN/);
  });

  it('the peak since a date counts earlier days; without the date it is not checked', () => {
    limits({ maxDrawdown: 150 });
    quote('AAPL', 99.99, 100.01);
    fill(run(signal({ quantity: 100 })).order!);
    quote('AAPL', 102.99, 103.01); // +300 on 2023-11-14
    evolveGate(state, { kind: 'dayRoll', day: '2023-11-15' });
    quote('AAPL', 101.49, 101.51); // +150: 150 below the peak of the day before, a new day's peak
    assert.equal(run(signal({ quantity: 1 })).decision.verdict, 'APPROVED', 'no date: only today counts');
    limits({ maxDrawdown: 150, drawdownSince: '2023-11-14' });
    const r = run(signal({ quantity: 1 }));
    assert.deepEqual([...outcome(r), JSON.parse(r.decision.detail!).measured], ['DENIED', 'MAX_DRAWDOWN', 'sinceDate']);
  });

  it('caps one position at a percent of equity', () => {
    limits({ accountCash: 10_000, maxPositionPctEquity: 10 });
    quote('AAPL', 99.99, 100.01);
    assert.equal(run(signal({ quantity: 10 })).decision.verdict, 'APPROVED'); // 1,000 of 10,000
    const r = run(signal({ quantity: 1 })); // 11 open: 1,100
    assert.deepEqual(outcome(r), ['DENIED', 'MAX_POSITION_PCT_EQUITY']);
  });
});
