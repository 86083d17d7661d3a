// The router refuses, before the order leaves, what the venue's published rules (folded from
// `instruments`) would refuse: not trading, below one lot, below the minimum or above the maximum
// quantity, a limit price that rounds to no tick, below the minimum notional. A venue whose rules refuse
// the order is not a candidate: the next one that can take it gets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, Instrument, Quote, Signal } from '../../schemas/types.ts';
import { emptyControlConfig, type ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { decide } from '../../streams/decide/decide.ts';
import { applyInstrument } from '../../streams/decide/instrumentFold.ts';
import { evolveGate, initialGateState, type GateState } from '../../streams/decide/state.ts';
import { route, type RouteRequest, type RouteResult } from '../../streams/router/route.ts';

const NOW = 1_700_000_000_000;

function control(scope: 'VENUE' | 'SYMBOL', target: string, payload: unknown): Control {
  return { controlId: `cm-${target}`, kind: 'COST_MODEL', scope, target, state: null, payload: payload === null ? null : JSON.stringify(payload), actor: 'test', reason: null, at: NOW, hlc: 1 };
}

function rules(venue: string, over: Partial<Instrument> = {}): Instrument {
  return {
    venue, symbol: 'AAPL', venueSymbol: 'AAPL', trading: true, lotSize: 1, tickSize: 0.01, minQty: 0, maxQty: 0, minNotional: 0,
    readAt: NOW, hlc: NOW * 1000, ...over,
  };
}

/** Venues A (1 bps, the cheaper) and B (4 bps) listing AAPL by hand at lot 1, tick 0.01; then what each venue publishes. */
function desk(publishedA: Partial<Instrument> | null, publishedB: Partial<Instrument> | null = null): ControlConfig {
  let config = applyControl(emptyControlConfig(), control('SYMBOL', 'AAPL', { assetClass: 'equity' }));
  for (const [venue, bps] of [['A', 1], ['B', 4]] as const) {
    config = applyControl(config, control('VENUE', venue, { enabled: true, fees: { equity: { bps } }, instruments: { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01 } } }));
  }
  if (publishedA !== null) config = applyInstrument(config, rules('A', publishedA));
  if (publishedB !== null) config = applyInstrument(config, rules('B', publishedB));
  return config;
}

function market(): GateState {
  const state = initialGateState();
  for (const venue of ['A', 'B']) evolveGate(state, { kind: 'quote', quote: { venue, symbol: 'AAPL', bid: 99.99, ask: 100.01, bidSize: 100, askSize: 100, venueTime: null, hlc: NOW * 1000 } });
  return state;
}

function routeWith(config: ControlConfig, over: Partial<RouteRequest> = {}): RouteResult {
  const req: RouteRequest = { symbol: 'AAPL', assetClass: 'equity', side: 'BUY', quantity: 100, orderType: 'MARKET', limitPrice: null, refPrice: 100, reducing: false, now: NOW, ...over };
  return route(req, market(), config.costModel, config.states.venue);
}

/** Only A is asked: B is switched off, so A's refusal is the answer. */
const aloneA = (published: Partial<Instrument>) => applyControl(desk(published), control('VENUE', 'B', null));

describe('the router refuses what the venue\'s published rules refuse', () => {
  const cases: [string, Partial<Instrument>, Partial<RouteRequest>, string, Record<string, unknown>][] = [
    ['not trading', { trading: false }, {}, 'NOT_TRADING', { venue: 'A', venueSymbol: 'AAPL' }],
    ['less than one of the venue\'s lots', { lotSize: 200 }, { quantity: 150 }, 'BELOW_LOT_SIZE', { venue: 'A', quantity: 150, lotSize: 200 }],
    ['under the venue\'s minimum quantity', { minQty: 10 }, { quantity: 9 }, 'BELOW_MIN_QTY', { venue: 'A', quantity: 9, minQty: 10 }],
    ['over the venue\'s maximum quantity', { maxQty: 50 }, { quantity: 51 }, 'ABOVE_MAX_QTY', { venue: 'A', quantity: 51, maxQty: 50 }],
    ['a limit price under one of the venue\'s ticks', { tickSize: 1 }, { orderType: 'LIMIT', limitPrice: 0.5 }, 'BELOW_TICK_SIZE', { venue: 'A', limitPrice: 0.5, tickSize: 1 }],
    ['under the venue\'s minimum notional', { minNotional: 5_000 }, { quantity: 49 }, 'BELOW_MIN_NOTIONAL', { venue: 'A', notional: 4_900, minNotional: 5_000 }],
  ];
  for (const [what, published, req, reason, detail] of cases) {
    it(`refuses ${what} with ${reason}`, () => {
      const result = routeWith(aloneA(published), req);
      assert.ok(!result.ok, 'refused');
      assert.equal(result.reason, reason);
      assert.deepEqual(result.detail, detail);
    });
  }

  it('takes an order just inside each bound', () => {
    assert.ok(routeWith(aloneA({ minQty: 10 }), { quantity: 10 }).ok);
    assert.ok(routeWith(aloneA({ maxQty: 50 }), { quantity: 50 }).ok);
    assert.ok(routeWith(aloneA({ minNotional: 5_000 }), { quantity: 50 }).ok);
  });

  it('rounds to the venue\'s published lot and tick', () => {
    const result = routeWith(aloneA({ lotSize: 25, tickSize: 0.05 }), { quantity: 99, orderType: 'LIMIT', limitPrice: 100.04 });
    assert.ok(result.ok);
    assert.equal(result.quantity, 75);
    assert.equal(result.limitPrice, 100);
  });

  it('routes to the dearer venue when the cheaper one\'s rules refuse the order', () => {
    assert.equal((routeWith(desk(null)) as { venue: string }).venue, 'A', 'A is the cheaper');
    for (const published of [{ trading: false }, { maxQty: 50 }, { minNotional: 20_000 }]) {
      const result = routeWith(desk(published));
      assert.ok(result.ok, JSON.stringify(published));
      assert.equal(result.venue, 'B');
    }
  });

  it('reports the cheapest venue\'s refusal when every venue refuses', () => {
    const result = routeWith(desk({ maxQty: 50 }, { trading: false }));
    assert.ok(!result.ok);
    assert.equal(result.reason, 'ABOVE_MAX_QTY');
  });
});

describe('decide denies with the reason code before an order exists', () => {
  function signal(over: Partial<Signal> = {}): Signal {
    return {
      signalId: 'sig-1', source: 'TRADINGVIEW', account: 'acc1', strategy: 'trend', symbol: 'AAPL', intent: 'DELTA', side: 'BUY',
      quantity: 20, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: 100, reportedPosition: null, externalOrderId: null,
      alertTime: NOW - 200, receivedAt: NOW - 100, hlc: NOW * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null,
      timeInForce: null, sizing: null, takeProfit: null, stopLoss: null, ...over,
    };
  }
  const input = { signal: signal(), now: NOW, decisionId: 'dec-1', orderId: '0190a1b2-c3d4-7e5f-8a9b-000000000001', hlc: NOW * 1000 + 1 };

  it('given paper publishes AAPL as not trading, a buy on the demo desk is DENIED NOT_TRADING and no order is made', () => {
    const quote: Quote = { venue: 'paper', symbol: 'AAPL', bid: 99.99, ask: 100.01, bidSize: 100, askSize: 100, venueTime: null, hlc: NOW * 1000 };
    const state = initialGateState();
    evolveGate(state, { kind: 'quote', quote });
    const open = decide(input, state, defaultControlConfig());
    assert.equal(open.decision.verdict, 'APPROVED');
    const closed = decide(input, state, applyInstrument(defaultControlConfig(), rules('paper', { trading: false })));
    assert.equal(closed.decision.verdict, 'DENIED');
    assert.equal(closed.decision.reason, 'NOT_TRADING');
    assert.equal(closed.order, null);
  });
});
