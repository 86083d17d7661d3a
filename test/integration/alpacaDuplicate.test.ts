// A submit refused as a duplicate client_order_id, whose look-up then finds nothing (the order is not
// listed yet), is an order that may be live: retriable VENUE_OUTCOME_UNKNOWN, never a refusal the
// runtime would record as a REJECT; once listed, the look-up settles it and nothing was sent twice. So is
// a resend refused for what the first attempt holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import type { VenueClient, VenueOrderRequest } from '../../connectors/venue.ts';
import { isRetriable } from '../../schemas/errors.ts';
import { startAlpacaFake, type AlpacaFake } from '../fakes/alpaca/server.ts';

const keyId = 'PKTEST-DUPLICATE-0001';
const secretKey = 'alpaca-secret-duplicate-0123456789';
const order: VenueOrderRequest = { clientOrderId: 'al-dup-1', symbol: 'AAPL', side: 'BUY', quantity: 3, orderType: 'LIMIT', limitPrice: 170, timeInForce: 'GTC' };

describe('alpaca duplicate id with an empty look-up', () => {
  let fake: AlpacaFake;
  let client: VenueClient;
  before(async () => {
    fake = await startAlpacaFake({ keyId, secretKey });
    client = createAlpacaClient(parseAlpacaConfig({ baseUrl: fake.url, keyId, secretKey, timeoutMs: 300 }));
  });
  after(async () => { await client.disconnect(); await fake.stop(); });

  it('is an unknown outcome (retriable), not a refusal, and settles once the order is listed', async () => {
    fake.knobs.listLagMs = 1_500;
    await fake.controls.timeoutNextSubmit();
    await assert.rejects(client.submit(order), (e: { code?: string }) => e.code === 'VENUE_TIMEOUT');
    // The runtime looks up before any resend: not listed yet, so it sends again, and meets the duplicate.
    assert.equal(await client.lookup(order.clientOrderId), null);
    const err = await client.submit(order).then(() => null, (e: unknown) => e as { code: string });
    assert.ok(err, 'a duplicate that cannot be read is not an answer');
    assert.equal(isRetriable(err), true, 'retriable: the runtime must not record a REJECT of a possibly live order');
    assert.equal(err.code, 'VENUE_OUTCOME_UNKNOWN');
    await sleep(1_500);
    const found = await client.lookup(order.clientOrderId);
    assert.deepEqual([found?.status, found?.clientOrderId], ['NEW', order.clientOrderId]);
    assert.equal(await fake.controls.ordersCreated(order.clientOrderId), 1);
  });

  it('a resend refused for what the first attempt holds (a closing sell: "insufficient qty available") is an unknown outcome too, not a REJECT', async () => {
    await fake.controls.fill(order.clientOrderId, 3); // long 3
    const sell: VenueOrderRequest = { ...order, clientOrderId: 'al-dup-sell-1', side: 'SELL', limitPrice: 180 };
    fake.knobs.listLagMs = 1_500;
    try {
      await fake.controls.timeoutNextSubmit();
      await assert.rejects(client.submit(sell), (e: { code?: string }) => e.code === 'VENUE_TIMEOUT');
      assert.equal(await client.lookup(sell.clientOrderId), null, 'not listed yet');
      const err = await client.submit(sell).then(() => null, (e: unknown) => e as { code: string; message: string });
      assert.ok(err, 'the resend is refused: the first sell holds the 3 shares');
      assert.equal(err.code, 'VENUE_OUTCOME_UNKNOWN', err.message);
      assert.equal(isRetriable(err), true);
      await sleep(1_500);
      assert.equal((await client.lookup(sell.clientOrderId))?.status, 'NEW', 'the first sell, once listed');
      assert.equal(await fake.controls.ordersCreated(sell.clientOrderId), 1);
    } finally { fake.knobs.listLagMs = 0; }
  });
});
