import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderBook } from '../../connectors/paper/book.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createMarketData, mulberry32 } from '../../connectors/paper/marketData.ts';
import { nextSessionEnd } from '../../connectors/paper/orderRecord.ts';
import { createPaperVenue } from '../../connectors/paper/venue.ts';
import type { VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';

const T0 = Date.UTC(2024, 0, 2, 15, 0, 0);

// A still market (volatility 0): maker quotes 99.95 / 100.05, then levels 3 ticks apart.
const STILL = { symbol: 'TEST', startPrice: 100, volatility: 0, spreadBps: 10, lotSize: 1, tickSize: 0.01, quoteSize: 10 };
const MOVING = { symbol: 'MOVE', startPrice: 100, volatility: 0.01, spreadBps: 10, lotSize: 1, tickSize: 0.01, quoteSize: 10 };

function given(overrides: Record<string, unknown> = {}) {
  let now = T0;
  const events: VenueEvent[] = [];
  const config = parsePaperConfig({ symbols: [STILL, MOVING], feeBps: 10, seed: 7, mmLevels: 3, sessionEnd: '21:00', ...overrides });
  const venue = createPaperVenue({ config, clock: () => now, random: mulberry32(99) });
  venue.onEvent((e) => events.push(e));
  return {
    venue,
    events,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const order = (over: Partial<VenueOrderRequest> & Pick<VenueOrderRequest, 'clientOrderId'>): VenueOrderRequest => ({
  symbol: 'TEST', side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 100, timeInForce: 'GTC', ...over,
});

describe('paper order book', () => {
  it('fills the better price first, then the earlier order at the same price', () => {
    // given asks A 10@101 (first), B 10@101 (second), C 10@100 (third, better price)
    const book = createOrderBook('SYM');
    book.submit({ id: 'A', owner: 'CLIENT', side: 'SELL', type: 'LIMIT', limit: 101, quantity: 10, tif: 'GTC' }, 1);
    book.submit({ id: 'B', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 101, quantity: 10, tif: 'GTC' }, 2);
    book.submit({ id: 'C', owner: 'CLIENT', side: 'SELL', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC' }, 3);
    // when a market buy for 25 arrives
    const result = book.submit({ id: 'X', owner: 'CLIENT', side: 'BUY', type: 'MARKET', limit: null, quantity: 25, tif: 'IOC' }, 4);
    // then C, then A, then 5 of B; trade ids are symbol + sequence
    assert.deepEqual(result.trades.map((t) => [t.maker.id, t.price, t.quantity, t.tradeId]), [
      ['C', 100, 10, 'SYM-1'], ['A', 101, 10, 'SYM-2'], ['B', 101, 5, 'SYM-3'],
    ]);
    assert.equal(result.outcome, 'FILLED');
    assert.deepEqual(book.best('SELL'), { price: 101, size: 5, orders: 1 });
  });

  it('walks several levels and rests the remainder of a GTC limit at its price', () => {
    // given asks 10@100 and 10@101
    const book = createOrderBook('SYM');
    book.submit({ id: 'A', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC' }, 1);
    book.submit({ id: 'B', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 101, quantity: 10, tif: 'GTC' }, 2);
    // when a buy limit 30 @ 101 GTC arrives
    const result = book.submit({ id: 'X', owner: 'CLIENT', side: 'BUY', type: 'LIMIT', limit: 101, quantity: 30, tif: 'GTC' }, 3);
    // then both levels fill and 10 rests as the best bid
    assert.deepEqual(result.trades.map((t) => [t.price, t.quantity]), [[100, 10], [101, 10]]);
    assert.equal(result.outcome, 'RESTED');
    assert.deepEqual(book.best('BUY'), { price: 101, size: 10, orders: 1 });
    assert.equal(book.best('SELL'), null);
  });

  it('cancels the remainder of an IOC order', () => {
    const book = createOrderBook('SYM');
    book.submit({ id: 'A', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC' }, 1);
    const result = book.submit({ id: 'X', owner: 'CLIENT', side: 'BUY', type: 'LIMIT', limit: 100, quantity: 25, tif: 'IOC' }, 2);
    assert.deepEqual([result.filled, result.remaining, result.outcome], [10, 15, 'CANCELED']);
    assert.equal(book.best('BUY'), null);
  });

  it('holds a still-marketable GTC order that hit its fill cap instead of resting it crossed', () => {
    const book = createOrderBook('SYM');
    book.submit({ id: 'A', owner: 'MM', side: 'SELL', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC' }, 1);
    const result = book.submit({ id: 'X', owner: 'CLIENT', side: 'BUY', type: 'LIMIT', limit: 100, quantity: 10, tif: 'GTC', maxFill: 4 }, 2);
    assert.deepEqual([result.filled, result.outcome], [4, 'HELD']);
    assert.equal(book.best('BUY'), null);
  });
});

describe('paper market data', () => {
  it('gives the same mids and quotes for the same seed, and others for another seed', () => {
    const run = (seed: number) => {
      const books = new Map([['MOVE', createOrderBook('MOVE')]]);
      const md = createMarketData({ instruments: [MOVING], books, seed, levels: 3, start: T0 });
      const seen: unknown[] = [];
      for (let i = 1; i <= 20; i += 1) {
        md.step(T0 + i * 100);
        seen.push([md.mid('MOVE'), md.top('MOVE')]);
      }
      return seen;
    };
    assert.deepEqual(run(11), run(11));
    assert.notDeepEqual(run(11), run(12));
  });
});

describe('paper venue core', () => {
  it('is idempotent by clientOrderId and mints its own venueOrderId', () => {
    const { venue } = given();
    const first = venue.submit(order({ clientOrderId: 'c-1', limitPrice: 90 }));
    const again = venue.submit(order({ clientOrderId: 'c-1', limitPrice: 90 }));
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(again.order.venueOrderId, first.order.venueOrderId);
    assert.notEqual(first.order.venueOrderId, 'c-1');
    assert.equal(first.order.status, 'NEW');
    const stats = venue.stats();
    assert.deepEqual([stats.ordersReceived, stats.ordersCreated, stats.duplicatesSeen, stats.openOrders], [2, 1, 1, 1]);
  });

  it('rejects an unknown symbol and quantities off the lot grid', () => {
    const { venue } = given();
    assert.deepEqual(pick(venue.submit(order({ clientOrderId: 'u', symbol: 'NOPE' })).order), ['REJECTED', 'UNKNOWN_SYMBOL']);
    assert.deepEqual(pick(venue.submit(order({ clientOrderId: 'q', quantity: 1.5 })).order), ['REJECTED', 'INVALID_QUANTITY']);
    assert.deepEqual(pick(venue.submit(order({ clientOrderId: 'p', limitPrice: 100.005 })).order), ['REJECTED', 'INVALID_PRICE']);
  });

  it('charges fees in bps of notional on both sides of a trade between two client orders', () => {
    // given a client sell resting inside the maker's spread (99.95 / 100.05)
    const { venue, events } = given();
    venue.submit(order({ clientOrderId: 'seller', side: 'SELL', quantity: 5, limitPrice: 100 }));
    // when another client buys 5 at market
    const buy = venue.submit(order({ clientOrderId: 'buyer', quantity: 5, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC' })).order;
    // then both fill at 100 with fee 100 * 5 * 10 bps = 0.5, under distinct trade ids
    const sell = venue.lookup('seller');
    assert.equal(buy.status, 'FILLED');
    assert.equal(sell?.status, 'FILLED');
    assert.deepEqual(buy.fills.map((f) => [f.price, f.quantity, f.fee]), [[100, 5, 0.5]]);
    assert.deepEqual(sell?.fills.map((f) => [f.price, f.quantity, f.fee]), [[100, 5, 0.5]]);
    assert.notEqual(buy.fills[0].tradeId, sell?.fills[0].tradeId);
    // and the resting order's fill is pushed as an event
    assert.ok(events.some((e) => e.kind === 'order' && e.order.clientOrderId === 'seller' && e.order.status === 'FILLED'));
  });

  it('cancels the unfilled part of an IOC and keeps what filled', () => {
    const { venue } = given();
    const o = venue.submit(order({ clientOrderId: 'ioc', quantity: 1000, limitPrice: 100.05, timeInForce: 'IOC' })).order;
    assert.equal(o.status, 'CANCELED');
    assert.ok(o.filledQty > 0 && o.filledQty < 1000);
    assert.ok(o.fills.every((f) => f.price === 100.05));
  });

  it('rests a GTC limit and fills it when the market moves through it', () => {
    // given a buy limit 50 cents under the best ask of a moving market
    const { venue, events, advance } = given();
    const ask = venue.quote('MOVE')?.ask ?? 0;
    const limit = Number((ask - 0.5).toFixed(2));
    const placed = venue.submit(order({ clientOrderId: 'gtc', symbol: 'MOVE', quantity: 3, limitPrice: limit })).order;
    assert.equal(placed.status, 'NEW');
    // when the market steps (one second per step) until it trades through the order
    for (let i = 0; i < 1000 && venue.lookup('gtc')?.status !== 'FILLED'; i += 1) {
      advance(1000);
      venue.tick();
    }
    // then it filled at its own limit price (the resting side sets the price) and the change was pushed
    const filled = venue.lookup('gtc');
    assert.equal(filled?.status, 'FILLED');
    assert.ok(filled?.fills.every((f) => f.price === limit));
    assert.ok(events.some((e) => e.kind === 'order' && e.order.clientOrderId === 'gtc' && e.order.status === 'FILLED'));
  });

  it('expires DAY orders at the session end', () => {
    // given a resting DAY order placed at 15:00 UTC with the session ending at 21:00 UTC
    const { venue, events, advance } = given();
    venue.submit(order({ clientOrderId: 'day', limitPrice: 90, timeInForce: 'DAY' }));
    assert.equal(nextSessionEnd(T0, '21:00'), Date.UTC(2024, 0, 2, 21, 0, 0));
    // when the clock passes 21:00
    advance(6 * 3_600_000 - 1);
    venue.tick();
    assert.equal(venue.lookup('day')?.status, 'NEW');
    advance(1);
    venue.tick();
    // then the order is EXPIRED, off the book and the change was pushed
    assert.equal(venue.lookup('day')?.status, 'EXPIRED');
    assert.equal(venue.openOrders().length, 0);
    assert.equal(venue.stats().expired, 1);
    assert.ok(events.some((e) => e.kind === 'order' && e.order.status === 'EXPIRED'));
  });

  it('fills only partialFillRatio at once: an IOC cancels the rest, a GTC gets the rest on the next tick', () => {
    const { venue } = given({ knobs: { partialFillRatio: 0.5 } });
    venue.submit(order({ clientOrderId: 's', side: 'SELL', quantity: 20, limitPrice: 100 }));
    const ioc = venue.submit(order({ clientOrderId: 'ioc', quantity: 4, timeInForce: 'IOC' })).order;
    assert.deepEqual([ioc.status, ioc.filledQty], ['CANCELED', 2]);
    const gtc = venue.submit(order({ clientOrderId: 'gtc', quantity: 10 })).order;
    assert.deepEqual([gtc.status, gtc.filledQty], ['PARTIALLY_FILLED', 5]);
    venue.tick();
    assert.deepEqual([venue.lookup('gtc')?.status, venue.lookup('gtc')?.filledQty], ['FILLED', 10]);
  });

  it('rejects at random when rejectRate says so', () => {
    const { venue } = given({ knobs: { rejectRate: 1 } });
    assert.deepEqual(pick(venue.submit(order({ clientOrderId: 'r' })).order), ['REJECTED', 'RANDOM_REJECT']);
    venue.setKnobs({ rejectRate: 0 });
    assert.equal(venue.submit(order({ clientOrderId: 'ok', limitPrice: 90 })).order.status, 'NEW');
  });

  it('cancels an open order and leaves a final one as it is', () => {
    const { venue } = given();
    venue.submit(order({ clientOrderId: 'c', limitPrice: 90 }));
    assert.equal(venue.cancel('c')?.status, 'CANCELED');
    assert.equal(venue.cancel('c')?.status, 'CANCELED');
    assert.equal(venue.cancel('missing'), null);
    assert.equal(venue.stats().canceled, 1);
  });

  it('emits corrections and busts that name the fill they amend', () => {
    const { venue, events } = given();
    venue.submit(order({ clientOrderId: 's', side: 'SELL', quantity: 5, limitPrice: 100 }));
    const tradeId = venue.submit(order({ clientOrderId: 'b', quantity: 5 })).order.fills[0].tradeId;
    const correction = venue.correctFill(tradeId, { price: 100.1 });
    assert.deepEqual(correction, { kind: 'correction', clientOrderId: 'b', tradeId, quantity: 5, price: 100.1, fee: 0.5005, venueTime: T0 });
    const bust = venue.bustFill(tradeId);
    assert.deepEqual(bust, { kind: 'bust', clientOrderId: 'b', tradeId, venueTime: T0 });
    assert.deepEqual(venue.lookup('b')?.fills, []);
    assert.equal(venue.bustFill(tradeId), null);
    assert.deepEqual(events.slice(-2).map((e) => e.kind), ['correction', 'bust']);
  });
});

function pick(o: { status: string; rejectReason: string | null }): [string, string | null] {
  return [o.status, o.rejectReason];
}
