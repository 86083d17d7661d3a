// The venue's instrument rules before an order leaves: each rule at its boundary (just under, at, just
// over), the order they are checked in, and the book that reads, keeps and publishes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { checkInstrument, createInstrumentBook, instrumentKey } from '../../connectors/instrumentRules.ts';
import type { VenueInstrument } from '../../connectors/venueCapabilities.ts';
import type { Codec } from '../../schemas/codec.ts';

const btc: VenueInstrument = { symbol: 'BTCUSD', venueSymbol: 'BTCUSDT', trading: true, lotSize: 0.00001, tickSize: 0.01, minQty: 0.00001, maxQty: 9000, minNotional: 5 };
const limit = (quantity: number, limitPrice: number | null = 60000) => ({ quantity, orderType: 'LIMIT' as const, limitPrice, arrivalMid: null });
const code = (o: Parameters<typeof checkInstrument>[0], r = btc) => checkInstrument(o, r)?.code ?? null;

describe('instrument rules (pure)', () => {
  it('lot: a multiple of the step passes, float noise included; off the step is LOT_SIZE', () => {
    assert.equal(code(limit(0.00012)), null);
    assert.equal(code(limit(0.1 + 0.2)), null, '0.30000000000000004 is on a 0.00001 step');
    assert.equal(code(limit(0.000125)), 'LOT_SIZE');
  });
  it('tick: a limit on the tick passes, off it is TICK_SIZE; a market order has no tick', () => {
    assert.equal(code(limit(0.001, 60000.01)), null);
    assert.equal(code(limit(0.001, 60000.005)), 'TICK_SIZE');
    assert.equal(code({ quantity: 0.001, orderType: 'MARKET', limitPrice: null, arrivalMid: 60000.005 }), null);
  });
  it('minimum and maximum quantity at their boundaries', () => {
    assert.equal(code(limit(0.00001)), 'MIN_NOTIONAL', 'at the minimum quantity, but 0.6 of notional');
    assert.equal(code(limit(0.00001), { ...btc, minNotional: 0 }), null);
    assert.equal(code(limit(0.000001), { ...btc, lotSize: 0 }), 'MIN_QTY');
    assert.equal(code(limit(9000, 1)), null);
    assert.equal(code(limit(9000.00001, 1)), 'MAX_QTY');
  });
  it('notional: the limit price, else the arrival mid, else unchecked', () => {
    assert.deepEqual(checkInstrument(limit(0.00008, 60000), btc), { code: 'MIN_NOTIONAL', detail: 'notional 4.8 < minimum 5' });
    assert.equal(code(limit(0.00009, 60000)), null, '5.4 >= 5');
    assert.equal(code({ quantity: 0.00008, orderType: 'MARKET', limitPrice: null, arrivalMid: 60000 }), 'MIN_NOTIONAL');
    assert.equal(code({ quantity: 0.00008, orderType: 'MARKET', limitPrice: null, arrivalMid: null }), null);
  });
  it('a symbol that does not trade is refused first', () => {
    assert.equal(code(limit(0.000125), { ...btc, trading: false }), 'NOT_TRADING');
  });
});

describe('instrument book', () => {
  it('reads, publishes keyed by venue|symbol, keeps the last rules when a read fails, and refuses with RULE_<code>', async () => {
    const published: { key: string; value: Buffer }[][] = [];
    let fail = false;
    const book = createInstrumentBook({
      venue: 'binance', symbols: ['BTCUSD', 'NOPE'], read: async () => { if (fail) throw new Error('down'); return [btc]; },
      publish: async (r) => { published.push(r); }, codec: { encode: (_t: string, v: unknown) => Buffer.from(JSON.stringify(v)) } as unknown as Codec,
      topic: 'instruments', hlc: () => 1, log: pino({ level: 'silent' }), clock: () => 1000,
    });
    assert.equal(book.refusal({ symbol: 'BTCUSD', ...limit(0.000125) }), null, 'nothing read yet: unchecked');
    assert.equal(await book.refresh(), true);
    assert.equal(published[0][0].key, instrumentKey('binance', 'BTCUSD'));
    assert.deepEqual(JSON.parse(published[0][0].value.toString()), { venue: 'binance', symbol: 'BTCUSD', venueSymbol: 'BTCUSDT', trading: true, lotSize: 0.00001, tickSize: 0.01, minQty: 0.00001, maxQty: 9000, minNotional: 5, readAt: 1000, hlc: 1 });
    fail = true;
    assert.equal(await book.refresh(), false);
    assert.equal(book.refusal({ symbol: 'BTCUSD', ...limit(0.000125) }), 'RULE_LOT_SIZE: quantity 0.000125 is not a multiple of 0.00001');
    assert.equal(book.refusal({ symbol: 'NOPE', ...limit(0.000125) }), null, 'a symbol without rules is not checked');
    book.stop();
  });
});
