// MT5 trades whose outcome nobody can know: the bridge keeps no idempotency key and its terminal lists a
// new order only after a sync lag, so a look-up that finds nothing proves nothing. Such an order becomes
// VENUE_OUTCOME_UNKNOWN (retriable, never a REJECT), is never sent again, and is settled by the bridge
// listing it; failures that executed nothing (a 503, a requote) may still be sent again.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMt5Client, type Mt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';

const TOKEN = 'mt5-bridge-token-unknown-0001';
const ACCOUNT = '7a8b9c0d-unkn-4e1f-9a2b-3c4d5e6f7a8b';
const LAG_MS = 1_500;

const market = (clientOrderId: string): VenueOrderRequest => ({
  clientOrderId, symbol: 'EURUSD', side: 'BUY', quantity: 10_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC',
});

async function failure(p: Promise<unknown>): Promise<{ code: string; retriable: boolean; message: string }> {
  try { await p; } catch (e) { return e as { code: string; retriable: boolean; message: string }; }
  assert.fail('expected a failure');
}

describe('mt5 unknown trade outcomes', () => {
  let fake: FakeMt5Bridge;
  let client: Mt5Client;
  const created = (cid: string) => fake.ordersWithComment(commentToken(cid)).length;
  const sent = (cid: string) => fake.submitsWithComment(commentToken(cid));

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN });
    const url = await fake.start();
    client = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 300, pollMs: 60_000 }) });
    await client.connect();
  });
  afterEach(() => { Object.assign(fake.term.faults, { dropTrades: 0, failTrade: null, retcodeNext: null, syncLagMs: 0 }); });
  after(async () => { await client.disconnect(); await fake.stop(); });

  // What the runtime does after a retriable failure: look up, and submit again if nothing is found.
  async function runtimeRetry(cid: string) {
    const found = await client.lookup(cid);
    return found ?? client.submit(market(cid));
  }

  for (const [name, fault] of [
    ['an answer that never came', (f: FakeMt5Bridge) => { f.term.faults.dropTrades = 1; }],
    ['TRADE_RETCODE_DISCONNECTED_DURING_TRADE (-11)', (f: FakeMt5Bridge) => { f.term.faults.retcodeNext = { code: -11, executed: true }; }],
    ['TRADE_RETCODE_TIMEOUT (10012)', (f: FakeMt5Bridge) => { f.term.faults.retcodeNext = { code: 10012, executed: true }; }],
    ['HTTP 500 after the trade', (f: FakeMt5Bridge) => { f.term.faults.failTrade = { status: 500, created: true }; }],
  ] as const) {
    it(`after ${name}, an order the bridge does not list yet is UNKNOWN and never sent again`, async () => {
      const cid = `mt-unk-${name.length}-${Date.now()}`;
      fake.term.faults.syncLagMs = LAG_MS;
      fault(fake);
      const err = await failure(client.submit(market(cid)));
      const again = await runtimeRetry(cid).then(() => null, (e: { code: string }) => e);
      assert.equal(sent(cid), 1, 'no second trade request');
      assert.deepEqual([err.code, err.retriable], ['VENUE_OUTCOME_UNKNOWN', true]);
      assert.match(err.message, new RegExp(cid));
      assert.equal(again?.code, 'VENUE_OUTCOME_UNKNOWN');
      assert.deepEqual(client.unknownOrders().map((u) => u.clientOrderId), [cid]);
      await sleep(LAG_MS);
      const settled = await runtimeRetry(cid);
      assert.deepEqual([settled.status, settled.filledQty], ['FILLED', 10_000]);
      assert.equal(created(cid), 1);
      assert.equal(sent(cid), 1);
      assert.deepEqual(client.unknownOrders(), [], 'settled once the bridge listed it');
    });
  }

  it('keeps an order UNKNOWN when the bridge never lists it, and still sends nothing', async () => {
    const cid = `mt-unk-never-${Date.now()}`;
    fake.term.faults.failTrade = { status: 502, created: false };
    const first = await failure(client.submit(market(cid)));
    const later = [];
    for (let i = 0; i < 3; i++) later.push(await runtimeRetry(cid).then(() => null, (e: { code: string }) => e.code));
    assert.deepEqual([sent(cid), created(cid)], [1, 0], 'a 502 may have traded: never sent again');
    assert.deepEqual([first.code, ...later], Array(4).fill('VENUE_OUTCOME_UNKNOWN'));
    const [u] = client.unknownOrders().filter((x) => x.clientOrderId === cid);
    assert.equal(u.reason, 'VENUE_UNAVAILABLE HTTP 502');
  });

  it('sends again after failures that executed nothing: a 503, a requote', async () => {
    const a = `mt-unk-503-${Date.now()}`;
    fake.term.faults.failTrade = { status: 503, created: false };
    assert.equal((await failure(client.submit(market(a)))).code, 'VENUE_UNAVAILABLE');
    assert.equal((await runtimeRetry(a)).status, 'FILLED');
    const b = `mt-unk-requote-${Date.now()}`;
    fake.term.faults.retcodeNext = { code: 10004, executed: false };
    assert.equal((await failure(client.submit(market(b)))).code, 'VENUE_UNAVAILABLE');
    assert.equal((await runtimeRetry(b)).status, 'FILLED');
    assert.deepEqual([created(a), created(b)], [1, 1]);
  });
});
