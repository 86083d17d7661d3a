// The MT5 client against a local MetaApi-style bridge (test/fakes/mt5/), with its faults.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createMt5Client, type Mt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import { VenueError } from '../../connectors/http.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';
import type { VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';

const TOKEN = 'mt5-bridge-token-7d41c0ffee9a2b';
const ACCOUNT = '865d3a4d-3803-486d-bdf3-a85679d9fad2';

const order = (clientOrderId: string, over: Partial<VenueOrderRequest> = {}): VenueOrderRequest => ({
  clientOrderId, symbol: 'EURUSD', side: 'BUY', quantity: 50_000, orderType: 'LIMIT', limitPrice: 1.08, timeInForce: 'GTC', ...over,
});

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function failure(p: Promise<unknown>): Promise<VenueError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VenueError, `expected VenueError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('mt5 client against the fake bridge', () => {
  let fake: FakeMt5Bridge;
  let url: string;
  let client: Mt5Client;
  let logText = '';
  const events: VenueEvent[] = [];
  let unsubscribe: () => void;

  const makeClient = (over: Record<string, unknown> = {}): Mt5Client => createMt5Client({
    config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 400, pollMs: 100, pollWindowMs: 60_000, ...over }),
    log: pino({ level: 'debug' }, new Writable({ write(chunk, _enc, done) { logText += String(chunk); done(); } })),
  });

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN });
    url = await fake.start();
    client = makeClient();
    await client.connect();
    unsubscribe = client.onEvent((e) => events.push(e));
  });
  after(async () => {
    unsubscribe();
    await client.disconnect();
    await fake.stop();
  });
  afterEach(() => {
    Object.assign(fake.term.faults, { dropTrades: 0, failTrade: null, rateLimitTradeSec: null, retcodeNext: null, terminalDisconnected: false, outage: false, historyStalled: false, syncLagMs: 0 });
  });

  // The bridge knows our orders by comment only.
  const ordersCreated = (cid: string) => fake.ordersWithComment(commentToken(cid)).length;
  const submitsReceived = (cid: string) => fake.submitsWithComment(commentToken(cid));
  const venueOrder = (cid: string) => fake.ordersWithComment(commentToken(cid)).at(-1)!;

  const orderEvents = (cid: string) => events.flatMap((e) => (e.kind === 'order' && e.order.clientOrderId === cid ? [e.order] : []));

  it('places a market order with magic number and comment token, and reads its deal back', async () => {
    const placed = await client.submit(order('mt-mkt-1', { orderType: 'MARKET', limitPrice: null, quantity: 25_000, side: 'SELL' }));
    assert.equal(placed.status, 'FILLED');
    assert.equal(placed.filledQty, 25_000);
    assert.deepEqual(placed.fills.map((f) => [f.quantity, f.price, f.fee]), [[25_000, 1.0842, 0.88]], 'a market SELL trades at the bid');
    const at = fake.term.orders.get(placed.venueOrderId)!;
    assert.equal(at.magic, 770001);
    assert.equal(at.volume, 0.25);
    assert.match(at.comment, /^or[a-z2-7]{12}$/);
    assert.notEqual(placed.venueOrderId, placed.clientOrderId);
  });

  it('resolves a trade that timed out by looking it up: exactly one order at the bridge', async () => {
    fake.term.faults.dropTrades = 1;
    const placed = await client.submit(order('mt-timeout-1'));
    assert.equal(placed.status, 'NEW', 'the look-up after the timeout found it');
    const again = await client.submit(order('mt-timeout-1'));
    assert.equal(again.venueOrderId, placed.venueOrderId);
    // Another process, which never heard of the order, finds it by comment before sending.
    const other = makeClient();
    assert.equal((await other.submit(order('mt-timeout-1'))).venueOrderId, placed.venueOrderId);
    assert.equal(ordersCreated('mt-timeout-1'), 1);
    assert.equal(submitsReceived('mt-timeout-1'), 1);
  });

  it('maps requote and no-connection to retriable errors, no money to a refusal', async () => {
    fake.term.faults.retcodeNext = { code: 10004, executed: false };
    const requote = await failure(client.submit(order('mt-rc-1')));
    assert.deepEqual([requote.code, requote.retriable, requote.venueCode], ['VENUE_UNAVAILABLE', true, 'TRADE_RETCODE_REQUOTE']);
    fake.term.faults.retcodeNext = { code: 10019, executed: false };
    const money = await failure(client.submit(order('mt-rc-1')));
    assert.deepEqual([money.code, money.retriable, money.venueCode], ['VENUE_REJECTED', false, 'TRADE_RETCODE_NO_MONEY']);
    assert.equal(ordersCreated('mt-rc-1'), 0);
  });

  it('says the terminal lost its broker link in health and in retriable submits, then recovers', async () => {
    fake.term.faults.terminalDisconnected = true;
    const err = await failure(client.submit(order('mt-conn-1')));
    assert.deepEqual([err.code, err.retriable, err.venueCode], ['VENUE_UNAVAILABLE', true, 'TRADE_RETCODE_CONNECTION']);
    const down = await client.health();
    assert.equal(down.up, false);
    assert.match(down.detail ?? '', /DISCONNECTED_FROM_BROKER/);
    fake.term.faults.terminalDisconnected = false;
    assert.equal((await client.health()).up, true);
    assert.equal((await client.submit(order('mt-conn-1'))).status, 'NEW');
  });

  it('reports a partial fill through the poll and counts a repeated deal once', async () => {
    await client.submit(order('mt-part-1'));
    const deal = fake.fill(venueOrder('mt-part-1'), 0.2, 1.08);
    fake.repeatDeal(deal.id);
    const partial = await until('partial', () => orderEvents('mt-part-1').find((o) => o.status === 'PARTIALLY_FILLED'));
    assert.equal(partial.filledQty, 20_000);
    await sleep(300);
    assert.deepEqual([...new Set(orderEvents('mt-part-1').flatMap((o) => o.fills.map((f) => f.tradeId)))], [deal.id]);
    const looked = await client.lookup('mt-part-1');
    assert.deepEqual([looked?.fills.length, looked?.filledQty, looked?.fillsComplete], [1, 20_000, true]);
    const canceled = await client.cancel('mt-part-1');
    assert.deepEqual([canceled.status, canceled.filledQty], ['CANCELED', 20_000]);
  });

  it('turns an amended deal into a correction and a canceled deal into a bust', async () => {
    await client.submit(order('mt-corr-1', { quantity: 10_000 }));
    const deal = fake.fill(venueOrder('mt-corr-1'), 0.1, 1.08);
    await until('fill', () => orderEvents('mt-corr-1').find((o) => o.status === 'FILLED'));
    fake.amendDeal(deal.id, { price: 1.0798 });
    const fix = await until('correction', () => events.find((e) => e.kind === 'correction' && e.tradeId === deal.id));
    assert.deepEqual({ ...fix, venueTime: 0 }, { kind: 'correction', clientOrderId: 'mt-corr-1', tradeId: deal.id, quantity: 10_000, price: 1.0798, fee: 0.35, venueTime: 0 });
    fake.cancelDeal(deal.id);
    await until('bust', () => events.find((e) => e.kind === 'bust' && e.tradeId === deal.id));
    const looked = await client.lookup('mt-corr-1');
    assert.deepEqual([looked?.fills.length, looked?.fillsComplete], [0, true]);
    await sleep(300);
    assert.equal(events.filter((e) => e.kind !== 'order' && e.tradeId === deal.id).length, 2, 'each amendment once');
  });

  it('stops advancing stream activity when the bridge history stalls, and look-ups by ticket still work', async () => {
    await client.submit(order('mt-silent-1', { quantity: 10_000 }));
    fake.term.faults.historyStalled = true;
    await sleep(700);
    const last = client.lastStreamActivity();
    assert.ok(last !== null && Date.now() - last >= 400, 'the poll has not completed while history stalls');
    fake.fill(venueOrder('mt-silent-1'), 0.1, 1.08);
    const looked = await client.lookup('mt-silent-1');
    assert.equal(looked?.status, 'FILLED');
    fake.term.faults.historyStalled = false;
    await until('poll alive again', () => { const t = client.lastStreamActivity(); return t !== null && Date.now() - t < 300; });
  });

  it('maps 429 with the recommended retry time and waits it out; a 503 (not handled) is retriable', async () => {
    fake.term.faults.rateLimitTradeSec = 0.4;
    const limited = await failure(client.submit(order('mt-429-1')));
    assert.equal(limited.code, 'VENUE_RATE_LIMITED');
    assert.ok((limited.retryAfterMs ?? 0) > 200);
    const before = fake.term.counters.rateLimitViolations;
    await client.submit(order('mt-429-1'));
    assert.equal(fake.term.counters.rateLimitViolations, before, 'nothing sent while the retry time ran');
    fake.term.faults.failTrade = { status: 503, created: false };
    const e5 = await failure(client.submit(order('mt-5xx-1')));
    assert.deepEqual([e5.code, e5.retriable], ['VENUE_UNAVAILABLE', true]);
    assert.equal((await client.submit(order('mt-5xx-1'))).status, 'NEW', 'sent again: a 503 handled nothing');
    assert.equal(ordersCreated('mt-5xx-1'), 1);
  });

  it('refuses a bad token, an unknown symbol and an off-step volume without retrying', async () => {
    const bad = makeClient({ token: 'wrong-token-0000000000000000' });
    const auth = await failure(bad.connect());
    assert.deepEqual([auth.code, auth.retriable], ['VENUE_AUTH', false]);
    const sym = await failure(client.submit(order('mt-bad-1', { symbol: 'XAUUSD' })));
    assert.deepEqual([sym.code, sym.venueCode], ['VENUE_REJECTED', 'UNKNOWN_SYMBOL']);
    const vol = await failure(client.submit(order('mt-bad-2', { quantity: 1_234 })));
    assert.deepEqual([vol.code, vol.venueCode], ['VENUE_REJECTED', 'INVALID_VOLUME']);
  });

  it('lists open orders and positions for reconciliation', async () => {
    await client.submit(order('mt-open-1'));
    const open = await client.openOrders();
    assert.ok(open.some((o) => o.clientOrderId === 'mt-open-1' && o.status === 'NEW'));
    const positions = await client.positions();
    assert.equal(positions.filter((p) => p.symbol === 'EURUSD').length, 1, 'a netting account holds one position per symbol');
  });

  it('never writes the token or the account id to the logs', () => {
    assert.ok(logText.length > 0);
    assert.ok(!logText.includes(TOKEN), 'bridge token leaked');
    assert.ok(!logText.includes(ACCOUNT), 'account id leaked');
  });
});
