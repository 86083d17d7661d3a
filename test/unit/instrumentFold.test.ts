// The venues' published rules (`instruments`) folded into decide's config: the venue's rules are the
// base of a listing, the cost model's hand-typed entry overrides the mapping and can only tighten
// (streams/router/listing.ts), the latest record wins, and a bad record is refused naming its field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, Instrument } from '../../schemas/types.ts';
import { emptyControlConfig, type ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { applyInstrument, InvalidInstrumentError } from '../../streams/decide/instrumentFold.ts';
import { mergeListing, type Listing } from '../../streams/router/listing.ts';

const NOW = 1_700_000_000_000;

function published(venue: string, symbol: string, over: Partial<Instrument> = {}): Instrument {
  return {
    venue, symbol, venueSymbol: `${symbol}-V`, trading: true, lotSize: 1, tickSize: 0.01, minQty: 0, maxQty: 0, minNotional: 0,
    readAt: NOW, hlc: NOW * 1000, ...over,
  };
}

function venueControl(venue: string, doc: object): Control {
  return {
    controlId: `cm-${venue}`, kind: 'COST_MODEL', scope: 'VENUE', target: venue, state: null, payload: JSON.stringify(doc),
    actor: 'test', reason: null, at: NOW, hlc: 1,
  };
}

const listingOf = (config: ControlConfig, venue: string, symbol: string): Listing | undefined =>
  config.costModel.ranked.find((r) => r.name === venue)?.model.instruments.get(symbol);

const typed: Listing = { venueSymbol: 'T', trading: true, lotSize: 1, tickSize: 0.01, minQty: 0, maxQty: 0, minNotional: 1 };

describe('merging a venue\'s published rules with the cost model\'s entry', () => {
  it('keeps either side alone as the listing, and lists nothing without both', () => {
    assert.deepEqual(mergeListing(typed, undefined), typed);
    assert.deepEqual(mergeListing(undefined, typed), typed);
    assert.equal(mergeListing(undefined, undefined), undefined);
  });

  it('takes the typed mapping, and the stricter of each rule', () => {
    const venue: Listing = { venueSymbol: 'V', trading: true, lotSize: 0.5, tickSize: 0.05, minQty: 2, maxQty: 500, minNotional: 10 };
    const desk: Listing = { venueSymbol: 'T', trading: true, lotSize: 1, tickSize: 0.01, minQty: 1, maxQty: 100, minNotional: 50 };
    assert.deepEqual(mergeListing(desk, venue), {
      venueSymbol: 'T', trading: true,
      lotSize: 1, // a whole multiple of the venue's 0.5: coarser, so the desk's
      tickSize: 0.05, // 0.01 is finer than the venue's: the venue's
      minQty: 2, maxQty: 100, minNotional: 50,
    });
  });

  it('never takes a typed step that is not a multiple of the venue\'s, and keeps a typed step where the venue sets none', () => {
    const venue: Listing = { ...typed, lotSize: 0.3, tickSize: 0 };
    const merged = mergeListing({ ...typed, lotSize: 0.5, tickSize: 0.01 }, venue);
    assert.equal(merged?.lotSize, 0.3);
    assert.equal(merged?.tickSize, 0.01);
  });

  it('is not trading when either side says so; a max quantity of 0 is no bound', () => {
    assert.equal(mergeListing(typed, { ...typed, trading: false })?.trading, false);
    assert.equal(mergeListing({ ...typed, trading: false }, typed)?.trading, false);
    assert.equal(mergeListing({ ...typed, maxQty: 0 }, { ...typed, maxQty: 7 })?.maxQty, 7);
  });
});

describe('folding `instruments` into decide\'s config', () => {
  it('given the demo desk, when paper publishes a coarser lot and a higher minimum, then its AAPL listing follows them', () => {
    const before = defaultControlConfig();
    assert.deepEqual(listingOf(before, 'paper', 'AAPL'), { venueSymbol: 'AAPL', trading: true, lotSize: 1, tickSize: 0.01, minQty: 0, maxQty: 0, minNotional: 1 });
    const after = applyInstrument(before, published('paper', 'AAPL', { lotSize: 10, minNotional: 500, maxQty: 1_000 }));
    assert.deepEqual(listingOf(after, 'paper', 'AAPL'), { venueSymbol: 'AAPL', trading: true, lotSize: 10, tickSize: 0.01, minQty: 0, maxQty: 1_000, minNotional: 500 });
    assert.deepEqual(listingOf(before, 'paper', 'AAPL')?.lotSize, 1, 'the config given is not changed');
    assert.equal(listingOf(after, 'paper', 'MSFT')?.lotSize, 1, 'other symbols keep their listing');
  });

  it('lists a symbol the venue publishes though the cost model does not type it, under the venue\'s name', () => {
    const config = applyInstrument(defaultControlConfig(), published('binance', 'SOLUSD', { venueSymbol: 'SOLUSDT', lotSize: 0.001 }));
    assert.deepEqual(listingOf(config, 'binance', 'SOLUSD'), { venueSymbol: 'SOLUSDT', trading: true, lotSize: 0.001, tickSize: 0.01, minQty: 0, maxQty: 0, minNotional: 0 });
  });

  it('lets the latest record win, as compaction does', () => {
    let config = applyInstrument(defaultControlConfig(), published('paper', 'AAPL', { trading: false }));
    assert.equal(listingOf(config, 'paper', 'AAPL')?.trading, false);
    config = applyInstrument(config, published('paper', 'AAPL', { trading: true }));
    assert.equal(listingOf(config, 'paper', 'AAPL')?.trading, true);
  });

  it('keeps the published rules under a cost model document that arrives later, in either order', () => {
    const rule = published('X', 'AAPL', { lotSize: 5 });
    const doc = venueControl('X', { enabled: true, fees: { equity: { bps: 1 } }, instruments: { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01 } } });
    const rulesFirst = applyControl(applyInstrument(emptyControlConfig(), rule), doc);
    const docFirst = applyInstrument(applyControl(emptyControlConfig(), doc), rule);
    assert.equal(listingOf(rulesFirst, 'X', 'AAPL')?.lotSize, 5);
    assert.deepEqual(listingOf(rulesFirst, 'X', 'AAPL'), listingOf(docFirst, 'X', 'AAPL'));
  });

  it('takes min/max quantity and a trading switch from a cost model entry too', () => {
    const doc = venueControl('X', { enabled: true, fees: { equity: {} }, instruments: { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01, maxQty: 50, trading: false } } });
    const config = applyInstrument(applyControl(emptyControlConfig(), doc), published('X', 'AAPL', { maxQty: 80 }));
    assert.equal(listingOf(config, 'X', 'AAPL')?.maxQty, 50);
    assert.equal(listingOf(config, 'X', 'AAPL')?.trading, false);
  });

  it('refuses a record with a negative or non-finite rule, naming the field', () => {
    const config = defaultControlConfig();
    assert.throws(() => applyInstrument(config, published('paper', 'AAPL', { tickSize: -0.01 })), (e: unknown) => e instanceof InvalidInstrumentError && e.code === 'INVALID_INSTRUMENT' && e.field === 'tickSize');
    assert.throws(() => applyInstrument(config, published('paper', 'AAPL', { minNotional: Number.NaN })), (e: unknown) => e instanceof InvalidInstrumentError && e.field === 'minNotional');
    assert.throws(() => applyInstrument(config, published('paper', 'AAPL', { minQty: 10, maxQty: 5 })), (e: unknown) => e instanceof InvalidInstrumentError && e.field === 'maxQty');
  });
});
