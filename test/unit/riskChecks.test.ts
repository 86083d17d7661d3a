// Each risk check at its boundary (just under, at, just over), trading states at every level, and the
// order the checks run in. The LIMITS control that feeds them is tested in limitsControl.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, ControlKind, Scope, Signal, TradingState } from '../../schemas/types.ts';
import {
  CHECKS,
  checkDailyLoss,
  checkMaxGrossExposure,
  checkMaxOrderNotional,
  checkMaxOrderQty,
  checkMaxPosition,
  checkOrderRate,
  checkOutOfOrder,
  checkPriceCollar,
  checkStaleSignal,
  checkTradingState,
  checkUnknownSymbol,
  runChecks,
  type Check,
  type CheckContext,
  type ProposedOrder,
  checkDrawdown,
  checkPositionPctEquity,
} from '../../streams/decide/checks.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import type { Limits } from '../../streams/decide/limits.ts';

const NOW = 1_700_000_000_000;

const LIMITS: Limits = {
  maxPosition: 100,
  maxOrderQty: 50,
  maxOrderNotional: 5_000,
  maxGrossExposure: 20_000,
  dailyLossLimit: 1_000,
  lossBreachState: 'HALTED',
  maxOrdersPerMinute: 5,
  priceCollarBps: 100,
  maxSignalAgeMs: 10_000,
  maxPipelineDelayMs: 30_000,
  accountCash: 0,
  maxIntradayDrawdown: null,
  maxDrawdown: null,
  drawdownSince: null,
  maxPositionPctEquity: null,
};

function signal(overrides: Partial<Signal> = {}): Signal {
  return {
    signalId: 'sig-1', source: 'SIGNED', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'DELTA',
    side: 'BUY', quantity: 10, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: 100,
    reportedPosition: null, externalOrderId: null, alertTime: NOW - 1_000, receivedAt: NOW - 900, hlc: 1, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
    ...overrides,
  };
}

function control(kind: ControlKind, scope: Scope, target: string, more: { state?: TradingState; payload?: unknown } = {}): Control {
  return {
    controlId: `c-${kind}-${scope}-${target}`, kind, scope, target, state: more.state ?? null,
    payload: more.payload === undefined ? null : typeof more.payload === 'string' ? more.payload : JSON.stringify(more.payload),
    actor: 'test', reason: null, at: NOW, hlc: 1,
  };
}

function ctx(overrides: Partial<CheckContext> = {}, config: ControlConfig = defaultControlConfig()): CheckContext {
  return {
    signal: signal(), now: NOW, config, limits: LIMITS, positionBefore: 0, price: 100, mid: 100,
    grossOthers: 0, dayPnl: 0, ordersInWindow: 0, lastAlertTime: null, drawdown: { intraday: 0, sinceDate: null }, equity: 100_000, ...overrides,
  };
}

const buy = (quantity: number, limitPrice: number | null = null): ProposedOrder =>
  ({ side: 'BUY', quantity, orderType: limitPrice === null ? 'MARKET' : 'LIMIT', limitPrice });
const sell = (quantity: number, limitPrice: number | null = null): ProposedOrder =>
  ({ side: 'SELL', quantity, orderType: limitPrice === null ? 'MARKET' : 'LIMIT', limitPrice });

interface Boundary {
  name: string;
  check: Check;
  reason: string;
  under: [ProposedOrder, Partial<CheckContext>];
  at: [ProposedOrder, Partial<CheckContext>];
  over: [ProposedOrder, Partial<CheckContext>];
}

const boundaries: Boundary[] = [
  { name: 'max order quantity 50', check: checkMaxOrderQty, reason: 'MAX_ORDER_QTY', under: [buy(49), {}], at: [buy(50), {}], over: [buy(50.0001), {}] },
  {
    name: 'max order notional 5000 at price 100', check: checkMaxOrderNotional, reason: 'MAX_ORDER_NOTIONAL',
    under: [buy(49.99), {}], at: [buy(50), {}], over: [buy(50.01), {}],
  },
  {
    name: 'max position 100 from a long 60', check: checkMaxPosition, reason: 'MAX_POSITION',
    under: [buy(39), { positionBefore: 60 }], at: [buy(40), { positionBefore: 60 }], over: [buy(41), { positionBefore: 60 }],
  },
  {
    name: 'max position 100 from a short 60', check: checkMaxPosition, reason: 'MAX_POSITION',
    under: [sell(39), { positionBefore: -60 }], at: [sell(40), { positionBefore: -60 }], over: [sell(41), { positionBefore: -60 }],
  },
  {
    name: 'max gross exposure 20000 with 15000 elsewhere', check: checkMaxGrossExposure, reason: 'MAX_GROSS_EXPOSURE',
    under: [buy(49), { grossOthers: 15_000 }], at: [buy(50), { grossOthers: 15_000 }], over: [buy(51), { grossOthers: 15_000 }],
  },
  {
    // 10% of 50,000 equity is 5,000: 50 at 100 from flat.
    name: 'a position of at most 10% of equity', check: checkPositionPctEquity, reason: 'MAX_POSITION_PCT_EQUITY',
    under: [buy(49), { equity: 50_000, limits: { ...LIMITS, maxPositionPctEquity: 10 } }],
    at: [buy(50), { equity: 50_000, limits: { ...LIMITS, maxPositionPctEquity: 10 } }],
    over: [buy(51), { equity: 50_000, limits: { ...LIMITS, maxPositionPctEquity: 10 } }],
  },
  {
    name: 'order rate 5 per minute', check: checkOrderRate, reason: 'ORDER_RATE',
    under: [buy(1), { ordersInWindow: 3 }], at: [buy(1), { ordersInWindow: 4 }], over: [buy(1), { ordersInWindow: 5 }],
  },
  {
    name: 'price collar 100 bps above the mid', check: checkPriceCollar, reason: 'PRICE_COLLAR',
    under: [buy(1, 100.99), {}], at: [buy(1, 101), {}], over: [buy(1, 101.01), {}],
  },
  {
    name: 'price collar 100 bps below the mid', check: checkPriceCollar, reason: 'PRICE_COLLAR',
    under: [sell(1, 99.01), {}], at: [sell(1, 99), {}], over: [sell(1, 98.99), {}],
  },
  {
    name: 'an alert 10 s old when the edge received it', check: checkStaleSignal, reason: 'STALE_SIGNAL',
    under: [buy(1), { signal: signal({ alertTime: NOW - 10_999, receivedAt: NOW - 1_000 }) }],
    at: [buy(1), { signal: signal({ alertTime: NOW - 11_000, receivedAt: NOW - 1_000 }) }],
    over: [buy(1), { signal: signal({ alertTime: NOW - 11_001, receivedAt: NOW - 1_000 }) }],
  },
  {
    name: 'an alert waiting 30 s inside the pipeline', check: checkStaleSignal, reason: 'STALE_SIGNAL',
    under: [buy(1), { signal: signal({ alertTime: NOW - 29_999, receivedAt: NOW - 29_999 }) }],
    at: [buy(1), { signal: signal({ alertTime: NOW - 30_000, receivedAt: NOW - 30_000 }) }],
    over: [buy(1), { signal: signal({ alertTime: NOW - 30_001, receivedAt: NOW - 30_001 }) }],
  },
  {
    name: 'out of order against the last alert', check: checkOutOfOrder, reason: 'OUT_OF_ORDER_SIGNAL',
    under: [buy(1), { lastAlertTime: NOW - 5_001 }],
    at: [buy(1), { lastAlertTime: NOW - 1_000 }],
    over: [buy(1), { lastAlertTime: NOW - 999 }],
  },
];

describe('risk checks at their boundaries', () => {
  for (const b of boundaries) {
    it(`given ${b.name}, when an order is just under, at and just over it, then only just over is denied ${b.reason}`, () => {
      assert.equal(b.check(b.under[0], ctx(b.under[1])), null, 'just under');
      assert.equal(b.check(b.at[0], ctx(b.at[1])), null, 'at the limit');
      const denial = b.check(b.over[0], ctx(b.over[1]));
      assert.equal(denial?.reason, b.reason, 'just over');
      assert.ok(Object.keys(denial.detail).length >= 2, 'the detail names the compared values');
    });
  }

  it('daily loss 1000: a loss just under passes; at the limit or beyond is a breach (breach means pnl <= -limit)', () => {
    assert.equal(checkDailyLoss(buy(1), ctx({ dayPnl: -999.99 })), null);
    assert.equal(checkDailyLoss(buy(1), ctx({ dayPnl: -1_000 }))?.reason, 'DAILY_LOSS_LIMIT');
    assert.equal(checkDailyLoss(buy(1), ctx({ dayPnl: -1_000.01 }))?.reason, 'DAILY_LOSS_LIMIT');
  });

  it('drawdown 1000 below today\'s peak or 3000 below the peak since a date: at the limit or beyond is a breach', () => {
    const limits = { ...LIMITS, maxIntradayDrawdown: 1_000, maxDrawdown: 3_000, drawdownSince: '2023-11-01' };
    const at = (intraday: number, sinceDate: number) => checkDrawdown(buy(1), ctx({ limits, drawdown: { intraday, sinceDate } }));
    assert.equal(at(999.99, 2_999.99), null);
    assert.deepEqual([at(1_000, 0)?.reason, at(1_000, 0)?.detail.measured], ['MAX_DRAWDOWN', 'intraday']);
    assert.deepEqual([at(0, 3_000)?.reason, at(0, 3_000)?.detail.measured], ['MAX_DRAWDOWN', 'sinceDate']);
    // Without a date the since-date limit is not checked; without limits nothing is.
    assert.equal(checkDrawdown(buy(1), ctx({ limits: { ...limits, drawdownSince: null }, drawdown: { intraday: 0, sinceDate: null } })), null);
    assert.equal(checkDrawdown(buy(1), ctx({ drawdown: { intraday: 1e9, sinceDate: 1e9 } })), null);
    // REDUCING lets the position shrink, as for the daily loss limit.
    const reducing = { ...limits, lossBreachState: 'REDUCING' as const };
    assert.equal(checkDrawdown(sell(10), ctx({ limits: reducing, positionBefore: 30, drawdown: { intraday: 5_000, sinceDate: 0 } })), null);
    assert.equal(checkDrawdown(buy(10), ctx({ limits: reducing, positionBefore: 30, drawdown: { intraday: 5_000, sinceDate: 0 } }))?.reason, 'MAX_DRAWDOWN');
  });

  it('the position cap lets a position shrink, and is off by default', () => {
    const capped = { ...LIMITS, maxPositionPctEquity: 10 };
    assert.equal(checkPositionPctEquity(sell(10), ctx({ limits: capped, equity: 1_000, positionBefore: 100 })), null);
    assert.equal(checkPositionPctEquity(buy(1), ctx({ limits: capped, equity: 1_000, positionBefore: 100 }))?.reason, 'MAX_POSITION_PCT_EQUITY');
    assert.equal(checkPositionPctEquity(buy(1_000), ctx({ equity: 1 })), null);
  });

  it('daily loss with lossBreachState REDUCING still lets the position shrink', () => {
    const reducing = { ...LIMITS, lossBreachState: 'REDUCING' as const };
    assert.equal(checkDailyLoss(sell(10), ctx({ dayPnl: -2_000, limits: reducing, positionBefore: 30 })), null);
    assert.equal(checkDailyLoss(buy(10), ctx({ dayPnl: -2_000, limits: reducing, positionBefore: 30 }))?.reason, 'DAILY_LOSS_LIMIT');
  });

  it('given no alert time, when the signal is checked for age, then only its wait inside the pipeline counts', () => {
    const noAlert = (receivedAt: number) => ctx({ signal: signal({ alertTime: null, receivedAt }) });
    assert.equal(checkStaleSignal(buy(1), noAlert(NOW - 30_000)), null);
    assert.equal(checkStaleSignal(buy(1), noAlert(NOW - 30_001))?.reason, 'STALE_SIGNAL');
    assert.equal(checkOutOfOrder(buy(1), { ...noAlert(NOW), lastAlertTime: NOW }), null, 'no alert time: nothing to order by');
  });

  it('given an alert fresh at receipt that then waited 20 s for a processor to restart, then it is not stale; past the pipeline limit it is', () => {
    // The two ages are not added: 1 s at receipt + 20 s inside is over the 10 s receipt limit in sum, and fine.
    const paused = ctx({ signal: signal({ alertTime: NOW - 21_000, receivedAt: NOW - 20_000 }) });
    assert.equal(checkStaleSignal(buy(1), paused), null);
    const outage = checkStaleSignal(buy(1), ctx({ signal: signal({ alertTime: NOW - 41_000, receivedAt: NOW - 40_000 }) }));
    assert.equal(outage?.reason, 'STALE_SIGNAL');
    assert.equal(outage?.detail.measured, 'inPipeline');
    const late = checkStaleSignal(buy(1), ctx({ signal: signal({ alertTime: NOW - 12_000, receivedAt: NOW - 1_000 }) }));
    assert.equal(late?.detail.measured, 'atReceipt');
  });

  it('given gross exposure already over the limit, when an order shrinks it, then it passes; when it grows it, denied', () => {
    assert.equal(checkMaxGrossExposure(sell(10), ctx({ grossOthers: 25_000, positionBefore: 30 })), null);
    assert.equal(checkMaxGrossExposure(buy(1), ctx({ grossOthers: 25_000, positionBefore: 30 }))?.reason, 'MAX_GROSS_EXPOSURE');
  });

  it('given maxOrdersPerMinute 0, when any order is checked, then it is denied ORDER_RATE', () => {
    assert.equal(checkOrderRate(buy(1), ctx({ limits: { ...LIMITS, maxOrdersPerMinute: 0 } }))?.reason, 'ORDER_RATE');
  });

  it('a position already over a lowered limit may still be reduced', () => {
    assert.equal(checkMaxPosition(sell(10), ctx({ positionBefore: 150 })), null);
    assert.equal(checkMaxPosition(buy(1), ctx({ positionBefore: 150 }))?.reason, 'MAX_POSITION');
  });

  it('an order without any price is refused NO_PRICE, and a limit order without a fresh mid too', () => {
    assert.equal(checkMaxOrderNotional(buy(1), ctx({ price: null }))?.reason, 'NO_PRICE');
    assert.equal(checkPriceCollar(buy(1, 100), ctx({ mid: null }))?.reason, 'NO_PRICE');
    assert.equal(checkPriceCollar(buy(1), ctx({ mid: null })), null, 'market orders are not collared');
  });

  it('an unknown symbol is denied, a configured one passes', () => {
    assert.equal(checkUnknownSymbol(buy(1), ctx()), null);
    assert.deepEqual(checkUnknownSymbol(buy(1), ctx({ signal: signal({ symbol: 'DOGEUSD' }) })), {
      reason: 'UNKNOWN_SYMBOL', detail: { symbol: 'DOGEUSD' },
    });
  });
});

describe('trading states', () => {
  const levels: [Scope, string][] = [['DESK', '*'], ['ACCOUNT', 'acc1'], ['STRATEGY', 'trend'], ['SYMBOL', 'AAPL']];
  for (const [scope, target] of levels) {
    it(`given ${scope} HALTED, when any order is checked, then TRADING_HALTED names the ${scope} level`, () => {
      const config = applyControl(defaultControlConfig(), control('TRADING_STATE', scope, target, { state: 'HALTED' }));
      const denial = checkTradingState(sell(1), ctx({ positionBefore: 10 }, config));
      assert.equal(denial?.reason, 'TRADING_HALTED');
      assert.equal(denial.detail.scope, scope);
      assert.equal(denial.detail.target, target);
    });
  }

  it('halting another account or strategy does not touch this one', () => {
    let config = applyControl(defaultControlConfig(), control('TRADING_STATE', 'ACCOUNT', 'acc2', { state: 'HALTED' }));
    config = applyControl(config, control('TRADING_STATE', 'STRATEGY', 'meanrev', { state: 'HALTED' }));
    assert.equal(checkTradingState(buy(1), ctx({}, config)), null);
  });

  it('the worst level wins, and clearing a halt (state null) restores trading', () => {
    let config = applyControl(defaultControlConfig(), control('TRADING_STATE', 'ACCOUNT', 'acc1', { state: 'REDUCING' }));
    config = applyControl(config, control('TRADING_STATE', 'STRATEGY', 'trend', { state: 'HALTED' }));
    assert.equal(checkTradingState(sell(1), ctx({ positionBefore: 10 }, config))?.reason, 'TRADING_HALTED');
    config = applyControl(config, control('TRADING_STATE', 'STRATEGY', 'trend'));
    assert.equal(checkTradingState(sell(1), ctx({ positionBefore: 10 }, config)), null);
  });

  it('REDUCING admits an order that shrinks |position| and denies one that grows or flips it', () => {
    const config = applyControl(defaultControlConfig(), control('TRADING_STATE', 'ACCOUNT', 'acc1', { state: 'REDUCING' }));
    assert.equal(checkTradingState(sell(20), ctx({ positionBefore: 50 }, config)), null, 'long 50, sell 20');
    assert.equal(checkTradingState(sell(50), ctx({ positionBefore: 50 }, config)), null, 'long 50, sell all');
    assert.equal(checkTradingState(buy(5), ctx({ positionBefore: -50 }, config)), null, 'short 50, buy 5');
    assert.equal(checkTradingState(buy(10), ctx({ positionBefore: 50 }, config))?.reason, 'TRADING_REDUCING', 'grows');
    assert.equal(checkTradingState(sell(60), ctx({ positionBefore: 50 }, config))?.reason, 'TRADING_REDUCING', 'flips');
    assert.equal(checkTradingState(sell(1), ctx({ positionBefore: 0 }, config))?.reason, 'TRADING_REDUCING', 'opens');
  });
});

describe('check order', () => {
  it('runs in the documented order and the first denial wins', () => {
    assert.deepEqual(
      CHECKS.map((c) => c.name),
      ['checkTradingState', 'checkUnknownSymbol', 'checkStaleSignal', 'checkOutOfOrder', 'checkMaxOrderQty', 'checkMaxOrderNotional',
        'checkMaxPosition', 'checkPositionPctEquity', 'checkMaxGrossExposure', 'checkDailyLoss', 'checkDrawdown', 'checkOrderRate', 'checkPriceCollar'],
    );
    const config = applyControl(defaultControlConfig(), control('TRADING_STATE', 'DESK', '*', { state: 'HALTED' }));
    const everythingWrong = ctx({ signal: signal({ symbol: 'NOPE', alertTime: NOW - 60_000 }), dayPnl: -5_000, ordersInWindow: 99 }, config);
    assert.equal(runChecks(buy(500), everythingWrong)?.reason, 'TRADING_HALTED');
    assert.equal(runChecks(buy(500), { ...everythingWrong, config: defaultControlConfig() })?.reason, 'UNKNOWN_SYMBOL');
    assert.equal(runChecks(buy(10), ctx()), null);
  });
});
