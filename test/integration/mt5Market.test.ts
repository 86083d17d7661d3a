// MT5 symbol rules (symbol specification) and quotes (current price) from the bridge, through the
// optional VenueClient capabilities instruments() and quotes().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMt5Client, type Mt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { VenueError } from '../../connectors/http.ts';
import { hasInstruments } from '../../connectors/venueCapabilities.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';

const TOKEN = 'mt5-bridge-token-market-0001';
const ACCOUNT = '3c4d5e6f-mrkt-4a7b-8c9d-0e1f2a3b4c5d';

describe('mt5 symbol rules and quotes', () => {
  let fake: FakeMt5Bridge;
  let client: Mt5Client;
  let now = Date.now();

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN, suffix: '.m' });
    const url = await fake.start();
    client = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, symbolSuffix: '.m', quoteStaleMs: 5_000 }), clock: () => now });
  });
  after(async () => { await client.disconnect(); await fake.stop(); });

  it('reads volume step, minimum, maximum and tick from the symbol specification, in units', async () => {
    assert.ok(hasInstruments(client));
    const [eur, aapl] = await client.instruments(['EURUSD', 'AAPL', 'XAUUSD']);
    assert.deepEqual(eur, { symbol: 'EURUSD', venueSymbol: 'EURUSD.m', trading: true, lotSize: 1_000, tickSize: 0.00001, minNotional: 0, minQty: 1_000, maxQty: 50_000_000 });
    assert.deepEqual([aapl.symbol, aapl.lotSize, aapl.minQty, aapl.tickSize], ['AAPL', 1, 1, 0.01]);
    fake.term.symbols.get('AAPL.m')!.tradeMode = 'SYMBOL_TRADE_MODE_DISABLED';
    assert.equal((await client.instruments(['AAPL']))[0].trading, false);
  });

  it('refuses an order above the venue maximum before sending it', async () => {
    fake.term.symbols.get('EURUSD.m')!.maxVolume = 1;
    await client.instruments(['EURUSD']);
    const err = await client.submit({ clientOrderId: 'mt-max-1', symbol: 'EURUSD', side: 'BUY', quantity: 200_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC' }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof VenueError);
    assert.deepEqual([err.code, err.venueCode], ['VENUE_REJECTED', 'INVALID_VOLUME']);
    assert.equal(fake.term.counters.tradeRequests, 0);
  });

  it('quotes bid and ask from the current price while it is fresh', async () => {
    now = Date.now();
    fake.setPrice('EURUSD.m', 1.1, 1.1002);
    const [q] = await client.quotes(['EURUSD', 'XAUUSD']);
    assert.deepEqual([q.symbol, q.bid, q.ask, q.bidSize, q.askSize], ['EURUSD', 1.1, 1.1002, 0, 0]);
    now += 60_000;
    assert.deepEqual(await client.quotes(['EURUSD']), [], 'a price not updated for a minute is no quote');
  });
});
