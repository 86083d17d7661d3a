// Commissions as the venue charges them, end to end through the client: a BUY paid from the base asset
// and one paid in BNB (faqs/commission_faq.md). The fee in quote currency must be the same whichever
// way the fill is read (the order answer, the push, a look-up of myTrades), or reconciliation would
// record a correction that never happened.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import type { VenueClient, VenueEvent, VenueFill, VenueOrderRequest } from '../../connectors/venue.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { waitFor } from '../helpers/env.ts';

const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
type Detailed = VenueFill & { feeDetail?: { commission: number; commissionAsset: string | null; netQuantity: number } };
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const marketBuy = (): VenueOrderRequest => ({
  clientOrderId: randomUUID().replace(/-/g, '').slice(0, 32), symbol: 'BTCUSD', side: 'BUY', quantity: 0.01, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC',
});

describe('binance commissions through the client', { timeout: 60_000 }, () => {
  let fake: BinanceFake;
  let client: VenueClient;
  const events: VenueEvent[] = [];
  const pushed = (cid: string) => events.flatMap((e) => (e.kind === 'order' && e.order.clientOrderId === cid ? e.order.fills : [])) as Detailed[];

  before(async () => {
    fake = await startBinanceFake({ apiKey, secretKey });
    client = createBinanceClient(parseBinanceConfig({ baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 1_000 }));
    client.onEvent((e) => events.push(e));
    await client.connect();
  });
  after(async () => { await client?.disconnect(); await fake?.stop(); });

  it('a BUY paid from the base asset: fee at the trade price, net quantity received, the same in the look-up', async () => {
    fake.knobs.setCommission({ payIn: 'received', rate: 0.001 });
    const order = marketBuy();
    const placed = await client.submit(order);
    const trade = fake.knobs.trades('BTCUSDT').find((t) => String(placed.venueOrderId) === String(t.orderId))!;
    assert.equal(trade.commissionAsset, 'BTC');
    const f = placed.fills[0] as Detailed;
    assert.ok(close(f.fee, trade.commission * trade.price));
    assert.ok(f.feeDetail && close(f.feeDetail.netQuantity, 0.01 - trade.commission));
    const looked = (await client.lookup(order.clientOrderId, order.symbol))!.fills[0] as Detailed;
    assert.deepEqual([looked.fee, looked.feeDetail?.netQuantity], [f.fee, f.feeDetail?.netQuantity]);
  });

  it('a BUY paid in BNB: the BNB converted at BNBUSDT for the trade\'s minute, never 0, the same in the look-up', async () => {
    fake.knobs.setCommission({ payIn: 'BNB', rate: 0.001, bnbDiscount: 0.75 });
    const order = marketBuy();
    const placed = await client.submit(order);
    const trade = fake.knobs.trades('BTCUSDT').find((t) => String(placed.venueOrderId) === String(t.orderId))!;
    assert.equal(trade.commissionAsset, 'BNB');
    const expected = trade.commission * fake.knobs.bnbPriceAt(trade.time);
    const f = placed.fills[0] as Detailed;
    assert.ok(f.fee > 0 && close(f.fee, expected), `fee ${f.fee} ≈ ${expected}`);
    assert.equal(f.feeDetail?.netQuantity, 0.01, 'a BNB fee leaves the BTC received whole');
    const looked = (await client.lookup(order.clientOrderId, order.symbol))!.fills[0];
    assert.equal(looked.fee, f.fee);
  });

  it('the pushed executionReport carries the same fee and net quantity as the answer and the look-up', async () => {
    await waitFor('the user data subscription', async () => fake.knobs.sockets().activeSubscriptions === 1, 5_000, 20);
    for (const payIn of ['BNB', 'received'] as const) {
      fake.knobs.setCommission({ payIn });
      const order = marketBuy();
      const f = (await client.submit(order)).fills[0] as Detailed;
      const looked = (await client.lookup(order.clientOrderId, order.symbol))!.fills[0] as Detailed;
      const push = await waitFor('the pushed fill', async () => pushed(order.clientOrderId)[0], 5_000, 20);
      assert.ok(f.fee > 0);
      assert.deepEqual([push.fee, push.feeDetail?.netQuantity], [f.fee, f.feeDetail?.netQuantity]);
      assert.deepEqual([looked.fee, looked.feeDetail?.netQuantity], [f.fee, f.feeDetail?.netQuantity]);
    }
  });
});
