// Pure parts of the Binance connector: when "no such order" is conclusive (unknownOutcome.ts), what a
// failed submit says about the order (errors.ts), exchangeInfo filters and the order check (rules.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { binanceError, submitOutcome } from '../../connectors/binance/errors.ts';
import * as binance from '../../connectors/binance/parse.ts';
import { checkOrder, exchangeInfoSchema, onStep, rulesFromExchangeInfo } from '../../connectors/binance/rules.ts';
import { createUnknownWindows } from '../../connectors/binance/unknownOutcome.ts';
import { VenueError } from '../../connectors/http.ts';

const fx = (name: string) => JSON.parse(readFileSync(new URL(`../../connectors/binance/fixtures/${name}.json`, import.meta.url), 'utf8'));
const ctx = { venue: 'binance', operation: 'submit', clientOrderId: 'c1', timeoutMs: 1 };

describe('binance unknown-outcome window', () => {
  const w = () => createUnknownWindows({ windowMs: 10_000, recvWindowMs: 5_000, startedAt: 1_000_000 });

  it('an id sent here stays inconclusive until 10 s after its unknown answer', () => {
    const u = w();
    u.sent('a', 2_000_000);
    u.unknown('a', 2_000_300);
    assert.equal(u.conclusiveAt('a'), 2_010_300);
    u.found('a');
    assert.ok(u.conclusiveAt('a') < 2_000_000, 'found: nothing left to wait for');
  });

  it('a refusal before the matching engine is conclusive at once; an id from before this process waits out the start', () => {
    const u = w();
    u.sent('b', 2_000_000);
    u.refused('b');
    assert.ok(u.conclusiveAt('b') <= 2_000_000);
    assert.equal(u.conclusiveAt('never-sent-here'), 1_010_000);
    u.mayHaveBeenSent('taken-over', 3_000_000);
    assert.equal(u.conclusiveAt('taken-over'), 3_010_000);
  });
});

describe('binance errors', () => {
  it('-1006 and -1007 are "execution status unknown" whatever the HTTP status', () => {
    for (const [status, code] of [[400, -1007], [503, -1007], [500, -1006]] as const) {
      const e = binanceError(status, { code, msg: 'execution status unknown' }, new Headers(), ctx, 0);
      assert.deepEqual([e.code, e.retriable, submitOutcome(e)], ['VENUE_TIMEOUT', true, 'unknown']);
    }
  });

  it('tells a refusal from an unknown outcome', () => {
    const err = (status: number, code: number, msg = 'x') => binanceError(status, { code, msg }, new Headers(), ctx, 0);
    assert.equal(submitOutcome(err(503, -1001)), 'unknown', 'rest-api.md: a 5xx is not a failure');
    assert.equal(submitOutcome(err(400, -1021)), 'refused');
    assert.equal(submitOutcome(err(429, -1003)), 'refused');
    assert.equal(submitOutcome(err(400, -2010, 'Account has insufficient balance for requested action.')), 'refused');
    assert.equal(submitOutcome(err(400, -2010, 'Duplicate order sent.')), 'unknown');
    const refusedConnection = new VenueError('VENUE_UNAVAILABLE', 'x', { ...ctx, cause: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }) });
    const reset = new VenueError('VENUE_UNAVAILABLE', 'x', { ...ctx, cause: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }) });
    assert.deepEqual([submitOutcome(refusedConnection), submitOutcome(reset)], ['refused', 'unknown']);
  });
});

describe('binance instrument rules', () => {
  const rules = rulesFromExchangeInfo(exchangeInfoSchema.parse(fx('exchange_info')));

  it('reads PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and NOTIONAL (or the older MIN_NOTIONAL)', () => {
    const [btc, ethbtc] = rules;
    assert.deepEqual([btc.symbol, btc.tickSize, btc.lotSize, btc.minQty, btc.maxQty, btc.minNotional, btc.maxNotional, btc.market?.maxQty],
      ['BTCUSD', 0.01, 0.00001, 0.00001, 9000, 5, 9_000_000, 106.88466458]);
    assert.deepEqual([ethbtc.trading, ethbtc.minNotional, ethbtc.minNotionalAppliesToMarket], [false, 0.0001, true]);
  });

  it('names the rule an order breaks', () => {
    const [btc, ethbtc] = rules;
    const o = (quantity: number, limitPrice: number | null, orderType: 'LIMIT' | 'MARKET' = 'LIMIT') => ({ side: 'BUY' as const, quantity, limitPrice, orderType });
    assert.equal(checkOrder(btc, o(0.0123, 64250.12)), null);
    assert.equal(checkOrder(btc, o(0.000001, 64250)), 'QTY_BELOW_MIN');
    assert.equal(checkOrder(btc, o(0.01, 64250.125)), 'PRICE_NOT_ON_TICK');
    assert.equal(checkOrder(btc, o(0.00005, 64250)), 'NOTIONAL_BELOW_MIN');
    assert.equal(checkOrder(btc, o(200, null, 'MARKET')), 'QTY_ABOVE_MAX', 'MARKET_LOT_SIZE caps market orders');
    assert.equal(checkOrder(btc, o(0.00005, null, 'MARKET'), 64000), 'NOTIONAL_BELOW_MIN', 'applyMinToMarket with a reference price');
    assert.equal(checkOrder(ethbtc, o(1, 0.05)), 'SYMBOL_NOT_TRADING');
    assert.ok(onStep(0.3, 0.1) && onStep(64250.12, 0.01) && !onStep(0.00015, 0.0001));
  });

  it('reads the book ticker answer', () => {
    const [t] = fx('book_ticker').map((x: unknown) => binance.bookTickerSchema.parse(x));
    assert.deepEqual([t.bidPrice, t.askPrice, t.bidQty], [64990, 65000.01, 1.25]);
  });
});
