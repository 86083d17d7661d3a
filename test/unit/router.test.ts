// The router on constructed scenarios: fees, spread, learned slippage and degraded penalties decide;
// halted, disabled and silent venues are handled; quantities and prices are rounded; ties are stable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, Quote, Side } from '../../schemas/types.ts';
import { emptyControlConfig, type ControlConfig } from '../../streams/decide/config.ts';
import { applyControl } from '../../streams/decide/controlFold.ts';
import { evolveGate, initialGateState, type GateState } from '../../streams/decide/state.ts';
import { roundToStep, route, type RouteRequest, type RouteResult } from '../../streams/router/route.ts';

const NOW = 1_700_000_000_000;
const listing = { venueSymbol: 'X', lotSize: 1, tickSize: 0.01, minNotional: 1 };

function costControl(scope: 'DESK' | 'VENUE' | 'SYMBOL', target: string, payload: unknown): Control {
  return {
    controlId: `cm-${scope}-${target}`, kind: 'COST_MODEL', scope, target, state: null, payload: JSON.stringify(payload),
    actor: 'test', reason: null, at: NOW, hlc: 1,
  };
}

/** Given venues A and B listing AAPL with the fees, penalties and listings each scenario overrides. */
function desk(venues: Record<string, object>, deskParams: object = {}): ControlConfig {
  let config = applyControl(emptyControlConfig(), costControl('SYMBOL', 'AAPL', { assetClass: 'equity' }));
  config = applyControl(config, costControl('DESK', '*', { maxQuoteAgeMs: 1_000, defaultSpreadBps: 30, ...deskParams }));
  for (const [name, doc] of Object.entries(venues)) {
    config = applyControl(config, costControl('VENUE', name, { enabled: true, fees: { equity: { bps: 1 } }, instruments: { AAPL: listing }, ...doc }));
  }
  return config;
}

function quote(venue: string, bid: number, ask: number, ageMs = 0): Quote {
  return { venue, symbol: 'AAPL', bid, ask, bidSize: 100, askSize: 100, venueTime: null, hlc: (NOW - ageMs) * 1000 };
}

function market(...quotes: Quote[]): GateState {
  const state = initialGateState();
  for (const q of quotes) evolveGate(state, { kind: 'quote', quote: q });
  return state;
}

function request(overrides: Partial<RouteRequest> = {}): RouteRequest {
  return {
    symbol: 'AAPL', assetClass: 'equity', side: 'BUY', quantity: 100, orderType: 'MARKET', limitPrice: null,
    refPrice: 100, reducing: false, now: NOW, ...overrides,
  };
}

function routeWith(config: ControlConfig, state: GateState, overrides: Partial<RouteRequest> = {}): RouteResult {
  return route(request(overrides), state, config.costModel, config.states.venue);
}

function chosen(result: RouteResult): string {
  assert.ok(result.ok, `expected a venue, got ${result.ok ? '' : result.reason}`);
  return result.venue;
}

const tight = (venue: string) => quote(venue, 99.99, 100.01); // half spread 1 bps

describe('venue choice', () => {
  it('follows fees when spreads are equal', () => {
    const config = desk({ A: { fees: { equity: { bps: 5 } } }, B: { fees: { equity: { bps: 2 } } } });
    const result = routeWith(config, market(tight('A'), tight('B')));
    assert.equal(chosen(result), 'B');
    const a = result.candidates.find((c) => c.venue === 'A');
    assert.ok(a !== undefined && Math.abs(a.feeBps - 5) < 1e-9 && Math.abs(a.halfSpreadBps - 1) < 1e-9);
  });

  it('counts per-unit fees and the ticket minimum against the notional', () => {
    // 0.005/share at $100 = 0.5 bps; a $1 minimum on 10 shares ($1000) = 10 bps.
    const config = desk({ A: { fees: { equity: { perUnit: 0.005, minimum: 1 } } }, B: { fees: { equity: { bps: 3 } } } });
    assert.equal(chosen(routeWith(config, market(tight('A'), tight('B')), { quantity: 10 })), 'B');
    assert.equal(chosen(routeWith(config, market(tight('A'), tight('B')), { quantity: 1_000 })), 'A');
  });

  it('follows the spread when fees are close', () => {
    const config = desk({ A: { fees: { equity: { bps: 1 } } }, B: { fees: { equity: { bps: 4 } } } });
    // A: 1 + 10 bps half spread; B: 4 + 1.
    assert.equal(chosen(routeWith(config, market(quote('A', 99.9, 100.1), tight('B')))), 'B');
  });

  it('follows learned slippage: fills worse than the arrival mid make a venue dearer', () => {
    const config = desk({ A: {}, B: { fees: { equity: { bps: 3 } } } }, { slippageWeight: 0.5, ewmaAlpha: 0.5 });
    const state = market(tight('A'), tight('B'));
    assert.equal(chosen(routeWith(config, state)), 'A', 'before any fills A is cheaper');
    learn(state, 'A', 'BUY', 100, 100.08); // 8 bps worse than the mid
    learn(state, 'A', 'SELL', 100, 99.88); // 12 bps worse: EWMA(0.5) = 10
    const result = routeWith(config, state);
    assert.equal(chosen(result), 'B');
    assert.ok(Math.abs(result.candidates.find((c) => c.venue === 'A')!.slippageBps - 5) < 1e-6, 'weight 0.5 × EWMA 10');
  });

  it('adds a degraded venue penalty', () => {
    const config = desk({ A: { degradedPenaltyBps: 5 }, B: { fees: { equity: { bps: 3 } } } });
    const result = routeWith(config, market(tight('A'), tight('B')));
    assert.equal(chosen(result), 'B');
    assert.equal(result.candidates.find((c) => c.venue === 'A')?.penaltyBps, 5);
  });

  it('excludes a halted venue, a disabled one and one that does not list the symbol', () => {
    let config = desk({ A: {}, B: { fees: { equity: { bps: 9 } } }, C: { enabled: false, fees: { equity: { bps: 0 } } }, D: { instruments: {} } });
    config = applyControl(config, { ...costControl('DESK', '*', {}), kind: 'TRADING_STATE', scope: 'VENUE', target: 'A', state: 'HALTED', payload: null });
    const result = routeWith(config, market(tight('A'), tight('B'), tight('C'), tight('D')));
    assert.equal(chosen(result), 'B');
    assert.deepEqual(result.candidates.map((c) => c.venue), ['B']);
  });

  it('a REDUCING venue takes only orders that reduce', () => {
    let config = desk({ A: {}, B: { fees: { equity: { bps: 9 } } } });
    config = applyControl(config, { ...costControl('DESK', '*', {}), kind: 'TRADING_STATE', scope: 'VENUE', target: 'A', state: 'REDUCING', payload: null });
    assert.equal(chosen(routeWith(config, market(tight('A'), tight('B')), { reducing: false })), 'B');
    assert.equal(chosen(routeWith(config, market(tight('A'), tight('B')), { reducing: true })), 'A');
  });

  it('treats a stale quote as missing: the default spread applies and the venue is marked', () => {
    const config = desk({ A: {}, B: { fees: { equity: { bps: 3 } } } });
    const result = routeWith(config, market(quote('A', 99.99, 100.01, 1_001), tight('B')));
    assert.equal(chosen(result), 'B', 'A now costs 1 + 15 (default 30 bps spread / 2)');
    assert.equal(result.candidates.find((c) => c.venue === 'A')?.halfSpreadBps, 15);
    assert.deepEqual(result.missingQuotes, ['A']);
    const fresh = routeWith(config, market(quote('A', 99.99, 100.01, 1_000), tight('B')));
    assert.equal(chosen(fresh), 'A', 'exactly maxQuoteAgeMs old is still fresh');
    assert.equal(fresh.missingQuotes, null);
  });

  it('with no quote at all the venue is still a candidate at the default spread, with no arrival mid', () => {
    const result = routeWith(desk({ A: {} }), market());
    assert.equal(chosen(result), 'A');
    assert.ok(result.ok && result.arrivalMid === null);
  });

  it('answers NO_VENUE when nothing lists, enables or admits the symbol', () => {
    const result = routeWith(desk({ A: { enabled: false } }), market(), {});
    assert.ok(!result.ok);
    assert.equal(result.reason, 'NO_VENUE');
    assert.deepEqual(result.candidates, []);
  });

  it('breaks exact ties by venue preference, then by name', () => {
    const state = market(tight('A'), tight('B'), tight('C'));
    assert.equal(chosen(routeWith(desk({ A: {}, B: {}, C: {} }), state)), 'A', 'no preference: by name');
    assert.equal(chosen(routeWith(desk({ A: {}, B: {}, C: {} }, { venuePreference: ['C', 'B'] }), state)), 'C');
    assert.equal(chosen(routeWith(desk({ C: {}, A: {}, B: {} }, { venuePreference: ['B'] }), state)), 'B');
    for (let i = 0; i < 5; i++) assert.equal(chosen(routeWith(desk({ B: {}, A: {} }), state)), 'A', 'stable on repeat');
  });
});

describe('rounding and refusals', () => {
  it('rounds quantity down to the lot', () => {
    assert.equal(roundToStep(10.7, 1, 'down'), 10);
    assert.equal(roundToStep(0.123456, 0.0001, 'down'), 0.1234);
    assert.equal(roundToStep(0.3, 0.1, 'down'), 0.3, 'an exact multiple stays, float noise notwithstanding');
    assert.equal(roundToStep(2_500, 1_000, 'down'), 2_000);
  });

  it('rounds the limit price to the tick: buys down, sells up', () => {
    const config = desk({ A: {} });
    const buy = routeWith(config, market(tight('A')), { orderType: 'LIMIT', limitPrice: 100.017, side: 'BUY' });
    const sell = routeWith(config, market(tight('A')), { orderType: 'LIMIT', limitPrice: 100.011, side: 'SELL' });
    assert.ok(buy.ok && sell.ok);
    assert.equal(buy.limitPrice, 100.01);
    assert.equal(sell.limitPrice, 100.02);
    assert.equal(roundToStep(1.08013, 0.00005, 'up'), 1.08015);
    assert.equal(roundToStep(1.08013, 0.00005, 'down'), 1.0801);
  });

  it('routes the rounded quantity', () => {
    const result = routeWith(desk({ A: { instruments: { AAPL: { ...listing, lotSize: 10 } } } }), market(tight('A')), { quantity: 57 });
    assert.ok(result.ok);
    assert.equal(result.quantity, 50);
  });

  it('refuses BELOW_LOT_SIZE when less than one lot remains', () => {
    const result = routeWith(desk({ A: {} }), market(tight('A')), { quantity: 0.5 });
    assert.ok(!result.ok);
    assert.equal(result.reason, 'BELOW_LOT_SIZE');
    assert.deepEqual(result.detail, { venue: 'A', quantity: 0.5, lotSize: 1 });
  });

  it('refuses BELOW_MIN_NOTIONAL under the venue minimum, and passes at it', () => {
    const config = desk({ A: { instruments: { AAPL: { ...listing, minNotional: 1_000 } } } });
    const below = routeWith(config, market(quote('A', 99.99, 100.01)), { quantity: 9 });
    assert.ok(!below.ok);
    assert.equal(below.reason, 'BELOW_MIN_NOTIONAL');
    assert.ok(routeWith(config, market(quote('A', 99.99, 100.01)), { quantity: 10 }).ok);
  });

  it('passes over a cheaper venue that cannot take the size to one that can', () => {
    const config = desk({ A: {}, B: { fees: { equity: { bps: 4 } }, instruments: { AAPL: { ...listing, lotSize: 0.1 } } } });
    const result = routeWith(config, market(tight('A'), tight('B')), { quantity: 0.5 });
    assert.equal(chosen(result), 'B');
    assert.ok(result.ok && result.quantity === 0.5);
  });
});

/** A filled order at `venue` decided at `mid`, to teach the EWMA. */
let learned = 0;
function learn(state: GateState, venue: string, side: Side, mid: number, price: number): void {
  const n = ++learned;
  const orderId = `o-${n}`;
  evolveGate(state, {
    kind: 'decided',
    alertTime: null,
    decision: {
      decisionId: `d-${n}`, signalId: `s-${n}`, account: 'acc', strategy: 'st', symbol: 'AAPL', verdict: 'APPROVED', reason: null,
      detail: null, orderId, venue, side, quantity: 1, positionBefore: 0, candidates: [], alertTime: null, signalHlc: 0, decidedAt: NOW, hlc: 0,
    },
    order: {
      orderId, clientOrderId: orderId, signalId: `s-${n}`, decisionId: `d-${n}`, account: 'acc', strategy: 'st', symbol: 'AAPL', venue,
      side, quantity: 1, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: mid, createdAt: NOW, hlc: 0,
    },
  }, 0.5);
  evolveGate(state, {
    kind: 'execution',
    report: {
      executionId: `e-${n}`, type: 'FILL', orderId, clientOrderId: orderId, venueOrderId: null, venueTradeId: null, signalId: `s-${n}`,
      account: 'acc', strategy: 'st', symbol: 'AAPL', venue, side, lastQty: 1, lastPrice: price, cumQty: 1, leavesQty: 0, fee: 0,
      feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: null, recordedAt: NOW, hlc: 0,
    },
  }, 0.5);
}
