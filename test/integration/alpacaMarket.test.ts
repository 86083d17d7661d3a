// Alpaca instrument rules from its assets and quotes from its market-data latest quotes, through the
// optional VenueClient capabilities instruments() and quotes().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlpacaClient, type AlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { hasInstruments } from '../../connectors/venueCapabilities.ts';
import { startAlpacaFake, type AlpacaFake } from '../fakes/alpaca/server.ts';

const keyId = 'PKTEST-MARKET-0001';
const secretKey = 'alpaca-secret-market-0123456789';

describe('alpaca assets and latest quotes', () => {
  let fake: AlpacaFake;
  let client: AlpacaClient;
  let now = Date.now();
  before(async () => {
    fake = await startAlpacaFake({ keyId, secretKey });
    client = createAlpacaClient(parseAlpacaConfig({ baseUrl: fake.url, dataUrl: fake.url, keyId, secretKey, quoteRefreshMs: 1, quoteStaleMs: 5_000 }), { clock: () => now });
  });
  after(async () => { await client.disconnect(); await fake.stop(); });

  it('reads tradable, fractionable and crypto minimums from the assets', async () => {
    assert.ok(hasInstruments(client));
    const [aapl, gme, old, btc] = await client.instruments(['AAPL', 'GME', 'OLDCO', 'BTCUSD', 'NOPE']);
    assert.deepEqual(aapl, { symbol: 'AAPL', venueSymbol: 'AAPL', trading: true, lotSize: 1e-9, tickSize: 0.01, minNotional: 1, minQty: 1e-9, maxQty: 0 });
    assert.deepEqual([gme.lotSize, gme.minQty, gme.minNotional], [1, 1, 0], 'not fractionable: whole shares');
    assert.equal(old.trading, false, 'inactive');
    assert.deepEqual([btc.symbol, btc.venueSymbol, btc.minQty, btc.lotSize, btc.tickSize], ['BTCUSD', 'BTC/USD', 0.000018, 1e-9, 1]);
  });

  it('quotes stocks and crypto from the latest quotes while they are fresh', async () => {
    now = Date.now();
    fake.knobs.setQuote('AAPL', { bp: 190.1, bs: 3, ap: 190.12, as: 5 });
    fake.knobs.setQuote('BTC/USD', { bp: 64_990, bs: 0.5, ap: 65_000, as: 0.25 });
    fake.knobs.setQuote('MSFT', { bp: 0, bs: 0, ap: 421.5, as: 2 });
    const quotes = await client.quotes(['AAPL', 'MSFT', 'BTCUSD']);
    assert.deepEqual(quotes.map((q) => [q.symbol, q.bid, q.ask, q.bidSize, q.askSize]), [['AAPL', 190.1, 190.12, 3, 5], ['BTCUSD', 64_990, 65_000, 0.5, 0.25]]);
    now += 60_000;
    assert.deepEqual(await client.quotes(['AAPL']), [], 'a stale quote is none');
  });
});
