// Binance market data through the client: instrument rules from exchangeInfo (filters.md) and best
// bid/ask from the bookTicker stream, read over REST only when the stream has been quiet too long.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient, type BinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import { checkOrder } from '../../connectors/binance/rules.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { waitFor } from '../helpers/env.ts';

const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

describe('binance market data', { timeout: 60_000 }, () => {
  let fake: BinanceFake;
  let client: BinanceClient;
  before(async () => {
    fake = await startBinanceFake({ apiKey, secretKey });
    client = createBinanceClient(parseBinanceConfig({
      baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 1_000, reconnectMs: 100, quoteStaleMs: 60_000,
    }));
    await client.connect();
  });
  after(async () => { await client?.disconnect(); await fake?.stop(); });

  it('reads lot, tick and notional rules from exchangeInfo and refuses what the venue would', async () => {
    const [btc] = await client.instruments(['BTCUSD']);
    assert.deepEqual([btc.symbol, btc.venueSymbol, btc.lotSize, btc.tickSize, btc.minNotional, btc.trading], ['BTCUSD', 'BTCUSDT', 0.00001, 0.01, 5, true]);
    const limit = { side: 'BUY' as const, orderType: 'LIMIT' as const };
    assert.equal(checkOrder(btc, { ...limit, quantity: 0.01, limitPrice: 64250 }), null);
    assert.equal(checkOrder(btc, { ...limit, quantity: 0.000015, limitPrice: 64250 }), 'QTY_NOT_ON_STEP');
    assert.equal(checkOrder(btc, { ...limit, quantity: 0.01, limitPrice: 64250.005 }), 'PRICE_NOT_ON_TICK');
    assert.equal(checkOrder(btc, { ...limit, quantity: 0.00005, limitPrice: 64250 }), 'NOTIONAL_BELOW_MIN');
  });

  it('publishes the book ticker, follows the stream, and reads REST only for a quote it has not got', async () => {
    const first = await client.quotes(['BTCUSD']);
    assert.deepEqual(first.map((q) => [q.symbol, q.bid, q.ask]), [['BTCUSD', 64990, 65000]]);
    assert.equal(fake.knobs.requests('GET /api/v3/ticker/bookTicker'), 1);
    await waitFor('the bookTicker stream', async () => fake.knobs.sockets().marketConnections === 1, 5_000, 20);
    fake.knobs.setTop('BTCUSDT', 65010.5, 65011, 2);
    const moved = await waitFor('the pushed top of book', async () => {
      const [q] = await client.quotes(['BTCUSD']);
      return q?.bid === 65010.5 ? q : null;
    }, 5_000, 20);
    assert.deepEqual([moved.ask, moved.bidSize, moved.askSize], [65011, 2, 2]);
    assert.equal(fake.knobs.requests('GET /api/v3/ticker/bookTicker'), 1, 'the stream kept it fresh');
  });
});
