// The paper venue's stop, stop-limit and trailing-stop orders and fill-or-kill: the pure trigger
// (connectors/paper/stops.ts), the book's FOK, and the venue holding a stop off the book until its
// market data reaches the trigger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderBook } from '../../connectors/paper/book.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { mulberry32 } from '../../connectors/paper/marketData.ts';
import { armStop, observe, type StopState } from '../../connectors/paper/stops.ts';
import { createPaperVenue } from '../../connectors/paper/venue.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';

const T0 = Date.UTC(2024, 0, 2, 15, 0, 0);
// A still market: the maker quotes 99.95 / 100.05, 10 lots a level, then levels 3 ticks apart.
const STILL = { symbol: 'TEST', startPrice: 100, volatility: 0, spreadBps: 10, lotSize: 1, tickSize: 0.01, quoteSize: 10 };

function venue() {
  let now = T0;
  const config = parsePaperConfig({ symbols: [STILL], feeBps: 0, seed: 7, mmLevels: 3, sessionEnd: '21:00' });
  const v = createPaperVenue({ config, clock: () => now, random: mulberry32(99) });
  return { v, advance: (ms: number) => { now += ms; } };
}
const order = (over: Partial<VenueOrderRequest> & Pick<VenueOrderRequest, 'clientOrderId'>): VenueOrderRequest => ({
  symbol: 'TEST', side: 'SELL', quantity: 5, orderType: 'STOP', limitPrice: null, timeInForce: 'GTC', ...over,
});

describe('stop triggers (pure)', () => {
  it('a buy stop watches the ask, a sell stop the bid', () => {
    const buy = armStop({ kind: 'STOP', side: 'BUY', stopTicks: 10_100, trailTicks: null, trailPercent: null });
    assert.equal(observe(buy, { bid: 10_098, ask: 10_099 }).triggered, false);
    assert.equal(observe(buy, { bid: 10_099, ask: 10_100 }).triggered, true);
    assert.equal(observe(buy, { bid: 10_200, ask: null }).triggered, false, 'no ask, nothing to watch');
    const sell = armStop({ kind: 'STOP_LIMIT', side: 'SELL', stopTicks: 9_900, trailTicks: null, trailPercent: null });
    assert.equal(observe(sell, { bid: 9_901, ask: 9_800 }).triggered, false);
    assert.equal(observe(sell, { bid: 9_900, ask: 9_905 }).triggered, true);
  });

  it('a trailing sell stop follows the highest bid, never moves back, and triggers on the retrace', () => {
    let s: StopState = armStop({ kind: 'TRAILING_STOP', side: 'SELL', stopTicks: null, trailTicks: 50, trailPercent: null });
    const step = (bid: number) => { const r = observe(s, { bid, ask: bid + 2 }); s = r.state; return r.triggered; };
    assert.equal(step(10_000), false);
    assert.equal(s.trigger, 9_950);
    assert.equal(step(10_120), false);
    assert.equal(s.trigger, 10_070);
    assert.equal(step(10_080), false);
    assert.equal(s.trigger, 10_070, 'a lower bid does not pull the trigger down');
    assert.equal(step(10_070), true);
  });

  it('a trailing buy stop by percent follows the lowest ask, rounded away from the market', () => {
    let s: StopState = armStop({ kind: 'TRAILING_STOP', side: 'BUY', stopTicks: null, trailTicks: null, trailPercent: 1 });
    s = observe(s, { bid: 9_990, ask: 10_001 }).state;
    assert.equal(s.trigger, 10_102); // 10,001 + 100.01 → 10,102
    s = observe(s, { bid: 9_890, ask: 9_900 }).state;
    assert.equal(s.trigger, 9_999);
    assert.equal(observe(s, { bid: 9_990, ask: 9_999 }).triggered, true);
  });
});

describe('fill or kill', () => {
  it('fills all of it now or nothing', () => {
    const book = createOrderBook('SYM');
    book.submit({ id: 'A', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC' }, 1);
    book.submit({ id: 'B', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 102, quantity: 10, tif: 'GTC' }, 2);
    const tooMuch = book.submit({ id: 'X', owner: 'CLIENT', side: 'BUY', type: 'LIMIT', limit: 101, quantity: 11, tif: 'FOK' }, 3);
    assert.deepEqual([tooMuch.outcome, tooMuch.trades.length, tooMuch.filled], ['CANCELED', 0, 0]);
    assert.deepEqual(book.best('SELL'), { price: 100, size: 10, orders: 1 }, 'the book is untouched');
    const capped = book.submit({ id: 'Y', owner: 'CLIENT', side: 'BUY', type: 'MARKET', limit: null, quantity: 12, tif: 'FOK', maxFill: 6 }, 4);
    assert.equal(capped.outcome, 'CANCELED', 'the fill cap would leave part of it: killed');
    const whole = book.submit({ id: 'Z', owner: 'CLIENT', side: 'BUY', type: 'MARKET', limit: null, quantity: 15, tif: 'FOK' }, 5);
    assert.deepEqual([whole.outcome, whole.filled], ['FILLED', 15]);
  });
});

describe('paper venue: stops on its market data', () => {
  it('a sell stop below the bid waits off the book, then triggers when a sale takes the bid through it', () => {
    const { v } = venue();
    v.tick();
    const stop = v.submit(order({ clientOrderId: 's1', stopPrice: 99.94 })).order;
    assert.deepEqual([stop.status, stop.filledQty], ['NEW', 0]);
    assert.deepEqual(v.quote('TEST'), { ...v.quote('TEST')!, bid: 99.95 }, 'the stop is not on the book');
    // A client sale takes every lot at 99.95: the next bid, 99.92, is through the trigger.
    const lots = v.quote('TEST')!.bidSize;
    assert.equal(v.submit(order({ clientOrderId: 'm1', orderType: 'MARKET', quantity: lots, timeInForce: 'IOC' })).order.status, 'FILLED');
    const after = v.lookup('s1')!;
    assert.deepEqual([after.status, after.filledQty, after.fills.map((f) => f.price)], ['FILLED', 5, [99.92]]);
  });

  it('a stop already through its trigger trades at once; a stop-limit rests at its limit once triggered', () => {
    const { v } = venue();
    v.tick();
    const now = v.submit(order({ clientOrderId: 'b1', side: 'BUY', stopPrice: 100.0 })).order;
    assert.deepEqual([now.status, now.fills.map((f) => f.price)], ['FILLED', [100.05]]);
    const sl = v.submit(order({ clientOrderId: 'b2', side: 'BUY', orderType: 'STOP_LIMIT', stopPrice: 100.0, limitPrice: 100.01 })).order;
    assert.deepEqual([sl.status, sl.filledQty], ['NEW', 0]);
    assert.equal(v.quote('TEST')!.bid, 100.01, 'triggered: its limit now rests as the best bid');
  });

  it('a trailing stop follows the market and triggers on the retrace; a waiting stop can be canceled or expire', () => {
    const { v, advance } = venue();
    v.tick();
    v.submit(order({ clientOrderId: 't1', orderType: 'TRAILING_STOP', trailAmount: 0.02 }));
    assert.equal(v.lookup('t1')!.status, 'NEW');
    v.submit(order({ clientOrderId: 'm1', orderType: 'MARKET', quantity: v.quote('TEST')!.bidSize, timeInForce: 'IOC' }));
    assert.deepEqual([v.lookup('t1')!.status, v.lookup('t1')!.fills.map((f) => f.price)], ['FILLED', [99.92]]);
    v.tick();
    v.submit(order({ clientOrderId: 'c1', stopPrice: 90 }));
    assert.equal(v.cancel('c1')!.status, 'CANCELED');
    v.submit(order({ clientOrderId: 'd1', stopPrice: 90, timeInForce: 'DAY' }));
    advance(7 * 3_600_000);
    v.tick();
    assert.equal(v.lookup('d1')!.status, 'EXPIRED');
  });

  it('refuses a stop without its price or a trailing stop with both trails', () => {
    const { v } = venue();
    assert.equal(v.submit(order({ clientOrderId: 'r1', stopPrice: null })).order.rejectReason, 'INVALID_STOP_PRICE');
    assert.equal(v.submit(order({ clientOrderId: 'r2', orderType: 'TRAILING_STOP', trailAmount: 1, trailPercent: 1 })).order.rejectReason, 'INVALID_TRAIL');
  });
});
