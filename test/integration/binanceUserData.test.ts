// Binance user data: the REST listen key is retired (CHANGELOG 2026-01-21, from 2026-02-20), so order
// and fill pushes must come over the WebSocket API subscription, and reconciliation must not lean on
// the 80-weight all-symbols openOrders. Client against the documentation-built fake, no Kafka needed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import type { VenueClient, VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { waitFor } from '../helpers/env.ts';

const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const cid = () => randomUUID().replace(/-/g, '').slice(0, 32);
const resting = (clientOrderId: string): VenueOrderRequest => ({ clientOrderId, symbol: 'BTCUSD', side: 'BUY', quantity: 0.02, orderType: 'LIMIT', limitPrice: 64250, timeInForce: 'GTC' });

function connect(fake: BinanceFake, over: Record<string, unknown> = {}): VenueClient {
  return createBinanceClient(parseBinanceConfig({
    baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 1_000, reconnectMs: 100, maxReconnectMs: 300, pingMs: 500, ...over,
  }));
}

describe('binance user data over the WebSocket API', { timeout: 60_000 }, () => {
  let fake: BinanceFake;
  let client: VenueClient;
  const events: VenueEvent[] = [];
  const fillsOf = (id: string) => events.flatMap((e) => (e.kind === 'order' && e.order.clientOrderId === id ? e.order.fills : []));

  before(async () => {
    fake = await startBinanceFake({ apiKey, secretKey, pingMs: 500 });
    client = connect(fake);
    client.onEvent((e) => events.push(e));
    await client.connect();
  });
  after(async () => { await client?.disconnect(); await fake?.stop(); });

  it('pushes the order and its fill without a listen key', async () => {
    const id = cid();
    await client.submit(resting(id));
    await fake.controls.fill(id, 0.01);
    const fills = await waitFor('the fill pushed over the WebSocket API', async () => (fillsOf(id).length > 0 ? fillsOf(id) : null), 5_000, 20);
    assert.equal(fills[0].quantity, 0.01);
    assert.equal(fake.knobs.requests('POST /api/v3/userDataStream'), 0, 'the retired listen key is never asked for');
    assert.notEqual(client.lastStreamActivity?.(), null, 'the stream counts as alive while subscribed');
  });

  it('subscribes again after the subscription ends or the server shuts down, and keeps pushing', async () => {
    fake.knobs.terminateSubscriptions();
    await waitFor('a new subscription', async () => fake.knobs.sockets().activeSubscriptions === 1 && fake.knobs.sockets().subscribeRequests >= 2, 5_000, 20);
    const a = cid();
    await client.submit(resting(a));
    await fake.controls.fill(a, 0.01);
    await waitFor('a fill after resubscribing', async () => fillsOf(a).length > 0, 5_000, 20);

    const before = fake.knobs.sockets().subscribeRequests;
    fake.knobs.serverShutdown();
    await waitFor('a subscription on a new connection', async () => fake.knobs.sockets().subscribeRequests > before && fake.knobs.sockets().activeSubscriptions === 1, 5_000, 20);
    const b = cid();
    await client.submit(resting(b));
    await fake.controls.fill(b, 0.01);
    await waitFor('a fill after the server shutdown', async () => fillsOf(b).length > 0, 5_000, 20);
  });

  it('reads open orders per symbol (weight 6 each), not all symbols at once (weight 80)', async () => {
    const id = cid();
    await client.submit(resting(id));
    const open = await client.openOrders();
    assert.ok(open.some((o) => o.clientOrderId === id));
    assert.equal(fake.knobs.requests('GET /api/v3/openOrders'), 3, 'one request per configured symbol');
  });

  it('does not count a connection whose subscription was refused as a live stream', async () => {
    const wrong = connect(fake, { secretKey: 'not-the-secret' });
    const refusedBefore = fake.knobs.sockets().refusedSubscriptions;
    try {
      await wrong.connect();
      await waitFor('the subscription refused', async () => fake.knobs.sockets().refusedSubscriptions > refusedBefore, 5_000, 20);
      assert.equal(wrong.lastStreamActivity?.(), null, 'no subscription: the runtime must poll rather than trust the silence');
    } finally {
      await wrong.disconnect();
    }
  });
});
