// Alpaca fills: the push (trade_updates) and the statement (FILL account activities) must name each fill
// the same way, by what both documents state (order id + filled quantity after the execution), not by an
// undocumented link between an activity id's uuid and the push's execution_id; and a reconciliation
// round reads the account's activities once, not once per order, within the 200 requests a minute.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import type { VenueClient, VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';
import { startAlpacaFake, type AlpacaFake } from '../fakes/alpaca/server.ts';

const keyId = 'PKTEST-ACTIVITIES-0001';
const secretKey = 'alpaca-secret-activities-0123456789';

const limit = (clientOrderId: string, quantity = 10): VenueOrderRequest => ({
  clientOrderId, symbol: 'AAPL', side: 'BUY', quantity, orderType: 'LIMIT', limitPrice: 175.5, timeInForce: 'GTC',
});

describe('alpaca fills from the push and from the statement', () => {
  let fake: AlpacaFake;
  let client: VenueClient;
  const events: VenueEvent[] = [];

  before(async () => {
    fake = await startAlpacaFake({ keyId, secretKey, rateLimitPerMinute: 200 });
    client = createAlpacaClient(parseAlpacaConfig({ baseUrl: fake.url, keyId, secretKey, timeoutMs: 2_000, reconnectMs: 100, pingMs: 1_000 }));
    client.onEvent((e) => events.push(e));
    await client.connect();
    for (let i = 0; i < 50 && !client.lastStreamActivity?.(); i++) await sleep(20);
  });
  after(async () => { await client.disconnect(); await fake.stop(); });

  const pushedFills = (cid: string) => events.flatMap((e) => (e.kind === 'order' && e.order.clientOrderId === cid ? e.order.fills : []));

  it('names each fill the same in the push and in the activities, though the activity uuid is not the execution_id', async () => {
    await client.submit(limit('al-ids-1'));
    await fake.controls.fill('al-ids-1', 4);
    await fake.controls.fill('al-ids-1', 6);
    for (let i = 0; i < 500 && pushedFills('al-ids-1').length < 2; i++) await sleep(20);
    const pushed = pushedFills('al-ids-1').map((f) => f.tradeId);
    assert.equal(pushed.length, 2, 'both fills pushed');
    const stated = await client.lookup('al-ids-1');
    assert.deepEqual([stated?.filledQty, stated?.fillsComplete], [10, true]);
    assert.deepEqual(stated?.fills.map((f) => f.tradeId), pushed, 'the statement names the pushed fills');
    assert.deepEqual(stated?.fills.map((f) => [f.quantity, f.price]), [[4, 175.5], [6, 175.5]]);
    const uuids = fake.activitiesOf('al-ids-1').map((a) => a.id.split('::')[1]);
    assert.ok(uuids.every((u) => !pushed.includes(u)));
  });

  it('reads the account activities once per reconciliation round, not once per order', async () => {
    const cids = Array.from({ length: 12 }, (_, i) => `al-round-${i}`);
    for (const cid of cids) {
      await client.submit(limit(cid, 5));
      await fake.controls.fill(cid, 5);
    }
    // A round as the runtime makes it: open orders, then a look-up of each order it is unsure of.
    const before = fake.knobs.counters.activityRequests;
    await client.openOrders();
    const states = await Promise.all(cids.map((cid) => client.lookup(cid)));
    const used = fake.knobs.counters.activityRequests - before;
    assert.ok(states.every((s) => s?.fillsComplete === true && s.fills.length === 1 && s.filledQty === 5), 'every order stated with its fill');
    assert.ok(used <= 2, `activity requests in one round: ${used}`);
    // The next round, with one new fill: still one read of what is new.
    await client.submit(limit('al-round-late', 5));
    await fake.controls.fill('al-round-late', 5);
    const mark = fake.knobs.counters.activityRequests;
    await client.openOrders();
    for (const cid of [...cids, 'al-round-late']) assert.equal((await client.lookup(cid))?.fills.length, 1);
    assert.ok(fake.knobs.counters.activityRequests - mark <= 2, `second round: ${fake.knobs.counters.activityRequests - mark}`);
    assert.equal(fake.knobs.counters.rateLimited, 0);
  });
});
