// End to end through decide + evolveGate: what the gate approves, denies and publishes.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Control, ExecutionReport, Order, Quote, Signal } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent, type DecideResult } from '../../streams/decide/decide.ts';
import { evolveGate, hasDecided, initialGateState, type GateState } from '../../streams/decide/state.ts';

const T0 = 1_700_000_000_000;

let state: GateState;
let config: ControlConfig;
let now: number;
let seq: number;

beforeEach(() => {
  state = initialGateState();
  config = defaultControlConfig();
  now = T0;
  seq = 0;
  evolveGate(state, { kind: 'dayRoll', day: '2023-11-14' });
});

function quote(symbol: string, bid: number, ask: number, venue = 'paper'): void {
  const q: Quote = { venue, symbol, bid, ask, bidSize: 1_000, askSize: 1_000, venueTime: now, hlc: now * 1000 };
  evolveGate(state, { kind: 'quote', quote: q });
}

function signal(overrides: Partial<Signal> = {}): Signal {
  seq += 1;
  return {
    signalId: `sig-${seq}`, source: 'TRADINGVIEW', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'TARGET', side: null,
    quantity: 0, targetPosition: 10, orderType: 'MARKET', limitPrice: null, price: 100, reportedPosition: null, externalOrderId: null,
    alertTime: now - 200, receivedAt: now - 100, hlc: now * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null, ...overrides,
  };
}

/** When the gate decides a signal, and the shell folds the decision back in. */
function decideAndApply(s: Signal): DecideResult {
  const input = { signal: s, now, decisionId: `dec-${s.signalId}`, orderId: `0190a1b2-c3d4-7e5f-8a9b-${String(seq).padStart(12, '0')}`, hlc: now * 1000 + 1 };
  const result = decide(input, state, config);
  evolveGate(state, decidedEvent(input, result));
  for (const c of result.controls) config = applyControl(config, c);
  return result;
}

function fill(order: Order, qty: number, price: number, type: ExecutionReport['type'] = 'FILL'): void {
  seq += 1;
  evolveGate(state, {
    kind: 'execution',
    report: {
      executionId: `exe-${seq}`, type, orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: 'v1', venueTradeId: `t${seq}`,
      signalId: order.signalId, account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side,
      lastQty: qty, lastPrice: price, cumQty: qty, leavesQty: type === 'FILL' ? 0 : order.quantity - qty, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null,
      reason: null, venueTime: now, recordedAt: now, hlc: now * 1000,
    },
  });
}

function control(c: Partial<Control> & Pick<Control, 'kind' | 'scope' | 'target'>): void {
  config = applyControl(config, { controlId: `c${++seq}`, state: null, payload: null, actor: 'ops', reason: null, at: now, hlc: 1, ...c });
}

describe('decide', () => {
  it('given a paper quote, when a TARGET 10 alert arrives, then it is approved and the order goes to paper', () => {
    quote('AAPL', 99.99, 100.01);
    const { decision, order, controls } = decideAndApply(signal());
    assert.equal(decision.verdict, 'APPROVED');
    assert.equal(decision.reason, null);
    assert.equal(decision.positionBefore, 0);
    assert.deepEqual(decision.candidates.map((c) => c.venue), ['paper']);
    assert.deepEqual(controls, []);
    assert.ok(order !== null);
    assert.deepEqual(
      { venue: order.venue, side: order.side, quantity: order.quantity, type: order.orderType, tif: order.timeInForce, mid: order.arrivalMid, px: order.signalPrice },
      { venue: 'paper', side: 'BUY', quantity: 10, type: 'MARKET', tif: 'IOC', mid: 100, px: 100 },
    );
    assert.equal(order.clientOrderId, order.orderId.replace(/-/g, '').slice(0, 32));
    assert.equal(order.clientOrderId.length, 32);
    assert.equal(decision.orderId, order.orderId);
  });

  it('a repeated signal is a duplicate, and a fresh alert for the same target finds nothing to do', () => {
    quote('AAPL', 99.99, 100.01);
    const first = signal();
    const { order } = decideAndApply(first);
    assert.ok(hasDecided(state, first.signalId));
    assert.equal(decideAndApply(first).decision.reason, 'DUPLICATE_SIGNAL');
    const again = decideAndApply(signal());
    assert.deepEqual([again.decision.verdict, again.decision.reason, again.decision.positionBefore], ['NO_ACTION', 'AT_TARGET', 10]);
    fill(order!, 4, 100.02, 'PARTIAL_FILL');
    assert.equal(decideAndApply(signal()).decision.reason, 'AT_TARGET', 'position 4 + open 6 is still the target');
    const down = decideAndApply(signal({ targetPosition: 3 }));
    assert.deepEqual([down.order?.side, down.order?.quantity], ['SELL', 7]);
  });

  it('a limit order rests for the day at a tick-rounded price', () => {
    quote('AAPL', 99.99, 100.01);
    const { order } = decideAndApply(signal({ orderType: 'LIMIT', limitPrice: 100.004 }));
    assert.deepEqual([order?.timeInForce, order?.limitPrice], ['DAY', 100]);
  });

  it('given the desk is halted, then the signal is denied and nothing is sent', () => {
    quote('AAPL', 99.99, 100.01);
    control({ kind: 'TRADING_STATE', scope: 'DESK', target: '*', state: 'HALTED' });
    const { decision, order } = decideAndApply(signal());
    assert.deepEqual([decision.verdict, decision.reason, order], ['DENIED', 'TRADING_HALTED', null]);
    assert.deepEqual(JSON.parse(decision.detail!), { quantity: 10, scope: 'DESK', target: '*', state: 'HALTED', positionBefore: 0, side: 'BUY', targetPosition: 10 });
    assert.equal(state.accounts.get('acc1')?.symbols.get('AAPL')?.open ?? 0, 0, 'a denial leaves no open order');
  });

  it('a halted paper venue leaves no venue for the order', () => {
    quote('AAPL', 99.99, 100.01);
    control({ kind: 'TRADING_STATE', scope: 'VENUE', target: 'paper', state: 'HALTED' });
    assert.equal(decideAndApply(signal()).decision.reason, 'NO_VENUE');
  });

  it('given marked-to-market losses reach the daily limit, then the account is halted by a control', () => {
    control({ kind: 'LIMITS', scope: 'ACCOUNT', target: 'acc1', payload: JSON.stringify({ dailyLossLimit: 1_000 }) });
    quote('AAPL', 99.99, 100.01);
    const { order } = decideAndApply(signal({ targetPosition: 100 }));
    fill(order!, 100, 100);
    quote('AAPL', 89.99, 90.01); // mid 90: 100 shares lose 1000
    const breach = decideAndApply(signal({ targetPosition: 150 }));
    assert.deepEqual([breach.decision.verdict, breach.decision.reason], ['DENIED', 'DAILY_LOSS_LIMIT']);
    assert.equal(JSON.parse(breach.decision.detail!).pnl, -1_000);
    assert.equal(breach.controls.length, 1);
    assert.deepEqual(
      (({ kind, scope, target, state: s, actor }) => ({ kind, scope, target, state: s, actor }))(breach.controls[0]),
      { kind: 'TRADING_STATE', scope: 'ACCOUNT', target: 'acc1', state: 'HALTED', actor: 'risk-gate' },
    );
    const after = decideAndApply(signal({ targetPosition: 0 }));
    assert.equal(after.decision.reason, 'TRADING_HALTED', 'the control is in force');
    assert.deepEqual(after.controls, [], 'and is not published twice');
  });

  it('with lossBreachState REDUCING, the breach still lets the position be cut', () => {
    control({ kind: 'LIMITS', scope: 'ACCOUNT', target: 'acc1', payload: JSON.stringify({ dailyLossLimit: 500, lossBreachState: 'REDUCING' }) });
    quote('AAPL', 99.99, 100.01);
    fill(decideAndApply(signal({ targetPosition: 100 })).order!, 100, 100);
    quote('AAPL', 94.99, 95.01);
    const cut = decideAndApply(signal({ targetPosition: 40 }));
    assert.equal(cut.decision.verdict, 'APPROVED');
    assert.equal(cut.controls[0]?.state, 'REDUCING');
    assert.equal(decideAndApply(signal({ targetPosition: 80 })).decision.reason, 'TRADING_REDUCING');
  });

  it('a day roll restarts the loss count from the marks', () => {
    control({ kind: 'LIMITS', scope: 'ACCOUNT', target: 'acc1', payload: JSON.stringify({ dailyLossLimit: 1_000 }) });
    quote('AAPL', 99.99, 100.01);
    fill(decideAndApply(signal({ targetPosition: 100 })).order!, 100, 100);
    quote('AAPL', 89.99, 90.01);
    evolveGate(state, { kind: 'dayRoll', day: '2023-11-15' });
    assert.equal(decideAndApply(signal({ targetPosition: 110 })).decision.verdict, 'APPROVED');
  });

  it('records drift when the sender reports a different position', () => {
    quote('AAPL', 99.99, 100.01);
    const { decision } = decideAndApply(signal({ targetPosition: 10, reportedPosition: 12 }));
    assert.equal(decision.verdict, 'APPROVED');
    assert.equal(JSON.parse(decision.detail!).drift, 2);
  });

  it('an older alert after a newer one is out of order', () => {
    quote('AAPL', 99.99, 100.01);
    decideAndApply(signal({ targetPosition: 10, alertTime: now - 100 }));
    const late = decideAndApply(signal({ targetPosition: 5, alertTime: now - 300 }));
    assert.equal(late.decision.reason, 'OUT_OF_ORDER_SIGNAL');
  });

  it('the order rate is per strategy over a sliding minute', () => {
    control({ kind: 'LIMITS', scope: 'STRATEGY', target: 'trend', payload: JSON.stringify({ maxOrdersPerMinute: 2 }) });
    quote('AAPL', 99.99, 100.01);
    const delta = () => signal({ intent: 'DELTA', side: 'BUY', quantity: 1, targetPosition: null });
    assert.equal(decideAndApply(delta()).decision.verdict, 'APPROVED');
    assert.equal(decideAndApply(delta()).decision.verdict, 'APPROVED');
    assert.equal(decideAndApply(delta()).decision.reason, 'ORDER_RATE');
    assert.equal(decideAndApply(signal({ strategy: 'other', intent: 'DELTA', side: 'BUY', quantity: 1 })).decision.verdict, 'APPROVED');
    now += 60_001;
    quote('AAPL', 99.99, 100.01);
    assert.equal(decideAndApply(delta()).decision.verdict, 'APPROVED');
  });

  it('sizes crypto to the lot and explains the rounding', () => {
    quote('BTCUSD', 40_000, 40_010);
    const { decision, order } = decideAndApply(signal({ symbol: 'BTCUSD', targetPosition: 0.123456, price: 40_005 }));
    assert.equal(order?.quantity, 0.1234);
    assert.equal(JSON.parse(decision.detail!).sizedQuantity, 0.123456);
  });

  it('an unknown symbol is denied', () => {
    assert.equal(decideAndApply(signal({ symbol: 'DOGEUSD' })).decision.reason, 'UNKNOWN_SYMBOL');
  });

  it('decide does not change the state it reads', () => {
    quote('AAPL', 99.99, 100.01);
    fill(decideAndApply(signal()).order!, 10, 100);
    const before = structuredClone(state);
    decide({ signal: signal({ targetPosition: -5 }), now, decisionId: 'd', orderId: 'o', hlc: 1 }, state, config);
    assert.deepEqual(state, before);
  });
});
