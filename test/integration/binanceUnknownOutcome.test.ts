// Binance's unknown outcome. A submit can still take effect after the client gave up on it (the API
// waits 10 s for the matching engine; -1006/-1007 and 5xx mean "execution status unknown"), and
// newClientOrderId is unique among open orders only, so once a market order has filled the same id is
// accepted again. Each test drives the client the way the runtime does — after a failed submit, look
// the order up and send again only if the look-up says it is absent — and checks the orders the
// venue ended up with. The window here is the production default (10 s).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import type { VenueClient, VenueOrderRequest, VenueOrderState } from '../../connectors/venue.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';

const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const marketBuy = (): VenueOrderRequest => ({
  clientOrderId: randomUUID().replace(/-/g, '').slice(0, 32), symbol: 'BTCUSD', side: 'BUY', quantity: 0.01, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC',
});

/** The runtime's protocol (connectors/runtime.ts submitSafely): never resend without a look-up first. */
async function submitLikeTheRuntime(client: VenueClient, order: VenueOrderRequest): Promise<{ state: VenueOrderState; sends: number }> {
  let sends = 1;
  try {
    return { state: await client.submit(order), sends };
  } catch {
    for (let attempt = 0; attempt < 5; attempt++) {
      await sleep(50 + attempt * 100);
      const found = await client.lookup(order.clientOrderId, order.symbol).catch(() => null);
      if (found) return { state: found, sends };
      sends += 1;
      try { return { state: await client.submit(order), sends }; } catch { /* look up again */ }
    }
    throw new Error('unresolved');
  }
}

describe('binance unknown outcome: look up until the window has passed', { timeout: 90_000 }, () => {
  let fake: BinanceFake;
  let client: VenueClient;
  before(async () => {
    fake = await startBinanceFake({ apiKey, secretKey });
    client = createBinanceClient(parseBinanceConfig({ baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 300, reconnectMs: 100 }));
    await client.connect();
  });
  after(async () => { await client?.disconnect(); await fake?.stop(); });

  it('finds a market order that reaches the matching engine 3 s after its submit timed out, instead of buying twice', async () => {
    const order = marketBuy();
    const sentAt = Date.now();
    fake.knobs.delayNextSubmit(3_000, 'none');
    const { state } = await submitLikeTheRuntime(client, order);
    await sleep(sentAt + 3_500 - Date.now()); // the delayed original has landed by now, whatever the client did
    assert.equal(fake.knobs.ordersWithId(order.clientOrderId).length, 1, 'one market order at the venue');
    assert.equal(state.status, 'FILLED');
    assert.equal(state.filledQty, 0.01);
  });

  it('treats -1007 "execution status unknown" the same way', async () => {
    const order = marketBuy();
    const sentAt = Date.now();
    fake.knobs.delayNextSubmit(2_000, { status: 503, code: -1007 });
    const { state } = await submitLikeTheRuntime(client, order);
    await sleep(sentAt + 2_500 - Date.now());
    assert.equal(fake.knobs.ordersWithId(order.clientOrderId).length, 1);
    assert.equal(state.status, 'FILLED');
  });

  it('sends again once the window has passed with nothing found, and the venue then has exactly one order', async () => {
    const order = marketBuy();
    await fake.controls.failNextSubmit(503, false); // refused before the matching engine, though the client cannot tell
    const lookupsBefore = fake.knobs.requests('GET /api/v3/order');
    const { state, sends } = await submitLikeTheRuntime(client, order);
    assert.equal(sends, 2);
    assert.equal(state.status, 'FILLED');
    assert.equal(fake.knobs.ordersWithId(order.clientOrderId).length, 1);
    assert.ok(fake.knobs.requests('GET /api/v3/order') - lookupsBefore > 2, 'the look-up kept looking through the window');
  });
});
