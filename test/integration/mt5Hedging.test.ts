// MT5 on a hedging account (ACCOUNT_MARGIN_MODE_RETAIL_HEDGING): an order against our open positions
// closes them by position id instead of opening an opposite one beside them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMt5Client, type Mt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { VenueError } from '../../connectors/http.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';

const TOKEN = 'mt5-bridge-token-hedging-0001';
const ACCOUNT = '0d1e2f3a-hedg-4b5c-8d9e-0a1b2c3d4e5f';

const market = (clientOrderId: string, side: 'BUY' | 'SELL', quantity: number): VenueOrderRequest => ({
  clientOrderId, symbol: 'EURUSD', side, quantity, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC',
});

describe('mt5 on a hedging account', () => {
  let fake: FakeMt5Bridge;
  let client: Mt5Client;
  const open = () => [...fake.term.positions.values()].map((p) => [p.type, p.volume]);

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN, marginMode: 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING' });
    const url = await fake.start();
    client = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 1_000, pollMs: 60_000 }) });
    await client.connect();
  });
  after(async () => { await client.disconnect(); await fake.stop(); });

  it('reduces a long with a SELL instead of opening a short beside it', async () => {
    const buy = await client.submit(market('hd-buy-1', 'BUY', 30_000));
    assert.deepEqual([buy.status, buy.filledQty], ['FILLED', 30_000]);
    const sell = await client.submit(market('hd-sell-1', 'SELL', 10_000));
    assert.deepEqual([sell.status, sell.side, sell.filledQty, sell.fills.length], ['FILLED', 'SELL', 10_000, 1]);
    assert.deepEqual(open(), [['POSITION_TYPE_BUY', 0.2]], 'one long of 0.2 lots, no short');
    assert.equal(client.marginMode(), 'HEDGING');
    assert.deepEqual((await client.positions()).map((p) => [p.side, p.quantity]), [['BUY', 20_000]]);
  });

  it('closes positions oldest first and opens only what is left', async () => {
    await client.submit(market('hd-buy-2', 'BUY', 10_000));
    assert.deepEqual(open(), [['POSITION_TYPE_BUY', 0.2], ['POSITION_TYPE_BUY', 0.1]]);
    const flip = await client.submit(market('hd-sell-2', 'SELL', 50_000));
    assert.deepEqual([flip.status, flip.quantity, flip.filledQty, flip.fills.length], ['FILLED', 50_000, 50_000, 3]);
    assert.deepEqual(open(), [['POSITION_TYPE_SELL', 0.2]], 'both longs closed, the rest opened short');
    const looked = await client.lookup('hd-sell-2');
    assert.deepEqual([looked?.status, looked?.filledQty, looked?.fills.length, looked?.fillsComplete], ['FILLED', 50_000, 3, true]);
    assert.deepEqual((await client.positions()).map((p) => [p.side, p.quantity]), [['SELL', 20_000]]);
  });

  it('refuses a limit order that would open a position beside an opposite one', async () => {
    const err = await client.submit({ ...market('hd-limit-1', 'BUY', 10_000), orderType: 'LIMIT', limitPrice: 1.05 }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof VenueError);
    assert.deepEqual([err.code, err.retriable, err.venueCode], ['VENUE_REJECTED', false, 'HEDGING_OPPOSITE_LIMIT']);
    assert.equal(fake.term.counters.tradeRequests, 6, 'nothing sent for it');
  });
});
