// Shadow routing: a venue marked shadow never takes live flow; each live order gets exactly one twin
// per shadow venue (its own id, the shadow venue's name, the live arrival mid); a denied signal gets
// none; the paper simulation fills twins against the quotes; the report matches a hand computation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, Order, Quote, Signal } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide, decidedEvent } from '../../streams/decide/decide.ts';
import { evolveGate, initialGateState, type GateState } from '../../streams/decide/state.ts';
import { readShadowMeta, shadowHeaders } from '../../streams/shadow/headers.ts';
import { shadowReport, type OrderOutcome } from '../../streams/shadow/report.ts';
import { simulateFill } from '../../connectors/paper/shadow/simulate.ts';
import { shadowOrderIdFor } from '../../streams/shadow/twin.ts';

const NOW = 1_700_000_000_000;
const aapl = { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01, minNotional: 1 } };

function costControl(target: string, payload: unknown): Control {
  return { controlId: `cm-${target}`, kind: 'COST_MODEL', scope: 'VENUE', target, state: null, payload: JSON.stringify(payload), actor: 't', reason: null, at: NOW, hlc: 1 };
}

function setup(shadows: Record<string, object>): { state: GateState; config: ControlConfig } {
  let config = defaultControlConfig();
  for (const [name, doc] of Object.entries(shadows)) config = applyControl(config, costControl(name, { fees: { equity: { bps: 1 } }, instruments: aapl, shadow: true, ...doc }));
  const state = initialGateState();
  evolveGate(state, { kind: 'dayRoll', day: '2023-11-14' });
  for (const venue of ['paper', 'sim-a', 'sim-b']) {
    const q: Quote = { venue, symbol: 'AAPL', bid: 99.99, ask: 100.01, bidSize: 1e3, askSize: 1e3, venueTime: NOW, hlc: NOW * 1000 };
    evolveGate(state, { kind: 'quote', quote: q });
  }
  return { state, config };
}

let seq = 0;
function signal(overrides: Partial<Signal> = {}): Signal {
  seq += 1;
  return {
    signalId: `sig-${seq}`, source: 'TRADINGVIEW', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'TARGET', side: null,
    quantity: 0, targetPosition: 10 * seq, orderType: 'MARKET', limitPrice: null, price: 100, reportedPosition: null, externalOrderId: null,
    alertTime: NOW - 200, receivedAt: NOW - 100, hlc: NOW * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null, ...overrides,
  };
}

function run(state: GateState, config: ControlConfig, s: Signal) {
  const input = { signal: s, now: NOW, decisionId: `dec-${s.signalId}`, orderId: `ord-${s.signalId}`, hlc: NOW * 1000 + seq };
  const result = decide(input, state, config);
  evolveGate(state, decidedEvent(input, result));
  return result;
}

describe('shadow twins', () => {
  it('a stop order gets no twin: the simulation would fill it at once, as the market order it is not', () => {
    const { state, config } = setup({ 'sim-a': {} });
    const stop = run(state, config, signal({ orderType: 'STOP', stopPrice: 150, timeInForce: 'GTC' }));
    assert.deepEqual([stop.decision.verdict, stop.order?.orderType, stop.shadows.length], ['APPROVED', 'STOP', 0]);
    assert.equal(run(state, config, signal()).shadows.length, 1);
  });

  it('given a cheaper venue in shadow, then live flow stays on the live venue and every live order has exactly one twin there', () => {
    // sim-a at 1 bps is far cheaper than paper's $1 minimum, yet it must never be routed live.
    const { state, config } = setup({ 'sim-a': {} });
    for (let i = 0; i < 3; i++) {
      const r = run(state, config, signal());
      assert.equal(r.order?.venue, 'paper');
      assert.equal(r.shadows.length, 1);
      const twin = r.shadows[0];
      assert.deepEqual(
        [twin.order.venue, twin.order.orderId, twin.liveOrderId, twin.liveVenue, twin.order.quantity, twin.order.arrivalMid],
        ['sim-a', shadowOrderIdFor(r.order!.orderId, 'sim-a'), r.order!.orderId, 'paper', r.order!.quantity, r.order!.arrivalMid],
      );
      assert.notEqual(twin.order.clientOrderId, r.order!.clientOrderId);
      assert.ok(!r.decision.candidates.some((c) => c.venue === 'sim-a'));
    }
  });

  it('one twin per shadow venue; none for a denied signal or a halted shadow venue', () => {
    const { state, config } = setup({ 'sim-a': {}, 'sim-b': {} });
    const r = run(state, config, signal());
    assert.deepEqual(r.shadows.map((t) => t.order.venue), ['sim-a', 'sim-b']);
    assert.equal(new Set(r.shadows.map((t) => t.order.clientOrderId)).size, 2);
    const denied = run(state, config, signal({ symbol: 'NOPE' }));
    assert.equal(denied.order, null);
    assert.deepEqual(denied.shadows, []);
    const halted = applyControl(config, { ...costControl('sim-b', null), kind: 'TRADING_STATE', state: 'HALTED', payload: null });
    assert.deepEqual(run(state, halted, signal()).shadows.map((t) => t.order.venue), ['sim-a']);
  });

  it('carries the estimates in headers that read back', () => {
    const { state, config } = setup({ 'sim-a': {} });
    const twin = run(state, config, signal()).shadows[0];
    const meta = readShadowMeta(shadowHeaders(twin));
    assert.deepEqual(meta, { liveOrderId: twin.liveOrderId, liveVenue: 'paper', liveQuantity: twin.liveQuantity, estimatedBps: twin.estimatedBps, feeBps: twin.feeBps, liveEstimatedBps: twin.liveEstimatedBps });
    // 1 bps fee + 1 bps half spread
    assert.ok(Math.abs(twin.estimatedBps - 2) < 1e-6);
  });
});

describe('paper simulation of a twin', () => {
  const order = (side: 'BUY' | 'SELL', limitPrice: number | null) => ({ side, limitPrice, quantity: 5 }) as Order;
  const q = { bid: 99, ask: 101, hlc: NOW * 1000 };
  it('a market order takes the far touch; a limit fills only when it crosses; a stale quote fills nothing', () => {
    assert.deepEqual(simulateFill(order('BUY', null), q, NOW, 1000), { filledQty: 5, price: 101 });
    assert.deepEqual(simulateFill(order('SELL', null), q, NOW, 1000), { filledQty: 5, price: 99 });
    assert.deepEqual(simulateFill(order('BUY', 100), q, NOW, 1000), { filledQty: 0, price: null });
    assert.deepEqual(simulateFill(order('SELL', 98.5), q, NOW, 1000), { filledQty: 5, price: 99 });
    assert.deepEqual(simulateFill(order('BUY', null), q, NOW + 5000, 1000), { filledQty: 0, price: null });
    assert.deepEqual(simulateFill(order('BUY', null), undefined, NOW, 1000), { filledQty: 0, price: null });
  });
  it('the matching engine takes no more than the quote shows: a twin larger than the ask size fills in part', () => {
    assert.deepEqual(simulateFill(order('BUY', null), { ...q, askSize: 3, bidSize: 1 }, NOW, 1000), { filledQty: 3, price: 101 });
    assert.deepEqual(simulateFill(order('SELL', 99), { ...q, askSize: 3, bidSize: 1 }, NOW, 1000), { filledQty: 1, price: 99 });
    assert.deepEqual(simulateFill(order('BUY', 101.004), { ...q, askSize: 10 }, NOW, 1000), { filledQty: 5, price: 101 });
  });
});

describe('shadow report', () => {
  const o = (over: Partial<OrderOutcome>): OrderOutcome => ({
    book: 'live', venue: 'paper', symbol: 'AAPL', side: 'BUY', quantity: 10, filledQty: 10, avgPrice: 100.02, arrivalMid: 100, feeBps: 1, estimatedBps: 2, ...over,
  });
  it('matches a hand-computed scenario', () => {
    const lines = shadowReport([
      // live: buy 10 @100.02 vs mid 100 → 2 bps slippage; sell 30 @99.97 vs mid 100 → 3 bps. fee 1 bps each.
      o({}),
      o({ side: 'SELL', quantity: 30, filledQty: 30, avgPrice: 99.97, estimatedBps: 4 }),
      // shadow: one buy filled 10 @100.01 → 1 bps, one not filled at all.
      o({ book: 'shadow', venue: 'sim-a', avgPrice: 100.01, feeBps: 0.5, estimatedBps: 1 }),
      o({ book: 'shadow', venue: 'sim-a', filledQty: 0, avgPrice: null, estimatedBps: 1 }),
    ]);
    const round = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);
    assert.deepEqual(lines.map((l) => [l.book, l.venue, l.orders, round(l.fillRate), round(l.slippageBps), round(l.realisedCostBps), round(l.estimatedBps), round(l.vsEstimateBps)]), [
      // slippage (2×10 + 3×30)/40 = 2.75; cost +1 = 3.75; estimate (2+4)/2 = 3; off by 0.75
      ['live', 'paper', 2, 1, 2.75, 3.75, 3, 0.75],
      // fill rate 10/20; slippage 1; cost 1.5; estimate 1 (filled orders only); off by 0.5
      ['shadow', 'sim-a', 2, 0.5, 1, 1.5, 1, 0.5],
    ]);
  });
});
