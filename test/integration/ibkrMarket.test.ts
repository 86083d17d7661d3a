// IBKR quotes and instrument rules against the fake gateway (test/fakes/ibkr, from IBKR's
// documentation): the market-data snapshot's pre-flight, delayed or stopped data never becoming a
// quote, and contract rules read from the venue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIbkrClient, type IbkrClient } from '../../connectors/ibkr/client.ts';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import { createFakeIbkrGateway, type FakeIbkrGateway } from '../fakes/ibkr/fake.ts';

const ACCOUNT = 'DU7654321';

describe('ibkr market data and instrument rules', () => {
  let fake: FakeIbkrGateway;
  let client: IbkrClient;

  before(async () => {
    fake = createFakeIbkrGateway({ accountId: ACCOUNT });
    const baseUrl = await fake.start();
    client = createIbkrClient({ config: parseIbkrConfig({ baseUrl, accountId: ACCOUNT, timeoutMs: 1_000, quotesPacingMs: 0, quoteStaleMs: 2_000 }) });
    await client.connect();
  });
  after(async () => {
    await client.disconnect();
    await fake.stop();
  });

  it('publishes nothing from the pre-flight answer, then best bid/ask in real time', async () => {
    assert.deepEqual(await client.quotes(['AAPL', 'EURUSD', 'BTCUSD']), [], 'the first request only starts the streams');
    const quotes = await client.quotes(['AAPL', 'EURUSD', 'BTCUSD']);
    assert.deepEqual(quotes.map((q) => [q.symbol, q.bid, q.ask, q.bidSize, q.askSize]), [
      ['AAPL', 190.11, 190.13, 300, 1200], ['EURUSD', 1.08425, 1.08435, 300, 1200],
    ]);
    assert.ok(quotes.every((q) => Math.abs(q.venueTime - Date.now()) < 1_000));
  });

  it('gives no quote from delayed or frozen data, nor from a feed that stopped updating', async () => {
    fake.market.availability = 'DpB';
    assert.deepEqual(await client.quotes(['AAPL']), []);
    fake.market.availability = 'RpB';
    fake.market.frozenAt = Date.now() - 5_000;
    assert.deepEqual(await client.quotes(['AAPL']), []);
    fake.market.frozenAt = null;
    assert.equal((await client.quotes(['AAPL']))[0]?.symbol, 'AAPL');
  });

  it('starts the streams again in a new session', async () => {
    fake.login(); // the gateway wants /iserver/accounts read again before market data
    assert.deepEqual(await client.quotes(['AAPL']), []);
    assert.equal((await client.quotes(['AAPL'])).length, 1);
  });

  it('reads tick sizes and tradability from the contract rules', async () => {
    const rules = await client.instruments(['AAPL', 'EURUSD', 'BTCUSD']);
    assert.deepEqual(rules.map((r) => [r.symbol, r.venueSymbol, r.tickSize, r.lotSize, r.trading]), [
      ['AAPL', '265598', 0.01, 1, true], ['EURUSD', '12087792', 0.00005, 1, true],
    ]);
    assert.deepEqual(rules[0].priceIncrements, [{ lowerEdge: 0, increment: 0.01 }]);
    assert.equal(fake.market.rulesRequests, 2, 'a symbol with no contract is never asked for');
  });
});
