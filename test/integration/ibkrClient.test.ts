// The IBKR client against a local gateway that speaks the Client Portal wire format, with its faults.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createIbkrClient } from '../../connectors/ibkr/client.ts';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import { IbkrError } from '../../connectors/ibkr/errors.ts';
import { createFakeIbkrGateway, type FakeIbkrGateway } from '../fakes/ibkr/fake.ts';
import type { VenueClient, VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';

const ACCOUNT = 'DU7654321';
const COOKIE = 'cookie-secret-4f1d9a77';

const order = (clientOrderId: string, over: Partial<VenueOrderRequest> = {}): VenueOrderRequest => ({
  clientOrderId, symbol: 'AAPL', side: 'BUY', quantity: 100, orderType: 'LIMIT', limitPrice: 190, timeInForce: 'DAY', ...over,
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

async function failure(p: Promise<unknown>): Promise<IbkrError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof IbkrError, `expected IbkrError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('ibkr client against the fake gateway', () => {
  let fake: FakeIbkrGateway;
  let baseUrl: string;
  let client: VenueClient;
  let logText = '';
  const events: VenueEvent[] = [];
  let unsubscribe: () => void;

  const makeClient = (over: Record<string, unknown> = {}): VenueClient => createIbkrClient({
    config: parseIbkrConfig({
      baseUrl, accountId: ACCOUNT, sessionCookie: COOKIE, timeoutMs: 400, ordersPacingMs: 0, tradesPacingMs: 0,
      pollMs: 100, reconcileMs: 300, tickleMs: 200, streamIdleMs: 500, reconnectMs: 50, requestsPerSecond: 50, ...over,
    }),
    log: pino({ level: 'debug' }, new Writable({ write(chunk, _enc, done) { logText += String(chunk); done(); } })),
  });

  before(async () => {
    fake = createFakeIbkrGateway({ accountId: ACCOUNT, heartbeatMs: 100 });
    baseUrl = await fake.start();
    client = makeClient();
    await client.connect();
    unsubscribe = client.onEvent((e) => events.push(e));
  });
  after(async () => {
    if (process.env.DUMP_LOG) console.error(logText);
    unsubscribe();
    await client.disconnect();
    await fake.stop();
  });
  afterEach(() => {
    // Whatever a test broke, the next one starts from a healthy gateway.
    Object.assign(fake.state.faults, { faultPath: /./, dropSubmits: 0, serverErrors: 0, rateLimited: 0, silentStream: false, questions: [], marketFillRatio: 1 });
    if (fake.state.faults.sessionExpired) fake.login();
  });

  const orderEvents = (cid: string) => events.flatMap((e) => (e.kind === 'order' && e.order.clientOrderId === cid ? [e.order] : []));

  it('places a market order and streams its fill', async () => {
    const placed = await client.submit(order('ib-mkt-1', { orderType: 'MARKET', limitPrice: null, quantity: 10 }));
    assert.equal(placed.clientOrderId, 'ib-mkt-1');
    assert.match(placed.venueOrderId, /^\d+$/);
    // The order status can say Filled before /trades lists the execution: wait for both.
    const filled = await until('fill event', () => orderEvents('ib-mkt-1').find((o) => o.status === 'FILLED' && o.fills.length > 0));
    assert.equal(filled.filledQty, 10);
    assert.equal(filled.fills.length, 1);
    assert.equal(filled.fills[0].price, 190.12);
    assert.equal(filled.symbol, 'AAPL');
  });

  it('resolves a submit that timed out by looking it up: exactly one order at the gateway', async () => {
    const before = fake.state.counters.ordersCreated;
    fake.state.faults.dropSubmits = 1;
    const err = await failure(client.submit(order('ib-timeout-1')));
    assert.equal(err.code, 'VENUE_TIMEOUT');
    assert.equal(err.retriable, true);
    assert.match(err.message, /ib-timeout-1/);
    const found = await client.lookup('ib-timeout-1');
    assert.equal(found?.status, 'NEW');
    const again = await client.submit(order('ib-timeout-1'));
    assert.equal(again.venueOrderId, found?.venueOrderId);
    // A second process that never saw the order: the gateway refuses the cOID, the client looks it up.
    const other = makeClient();
    await other.connect();
    const fromOther = await other.submit(order('ib-timeout-1'));
    await other.disconnect();
    assert.equal(fromOther.venueOrderId, found?.venueOrderId);
    assert.equal(fake.state.counters.ordersCreated - before, 1);
  });

  it('answers allowed confirmation questions over several rounds', async () => {
    fake.state.faults.questions = [
      { messageId: 'o163', text: 'The following order price exceeds the Percentage constraint of 3%.' },
      { messageId: 'o354', text: 'You are submitting an order without market data.' },
    ];
    const placed = await client.submit(order('ib-q-1'));
    assert.equal(placed.status, 'NEW');
    assert.ok(fake.state.byCoid('ib-q-1'));
    assert.match(logText, /ibkr confirmation answered/);
  });

  it('refuses a question outside the allow-list and places nothing', async () => {
    const before = fake.state.counters.ordersCreated;
    fake.state.faults.questions = [{ messageId: 'o10164', text: 'This order will most likely trigger and fill immediately.' }];
    const err = await failure(client.submit(order('ib-q-2')));
    assert.equal(err.code, 'VENUE_CONFIRMATION_REFUSED');
    assert.equal(err.retriable, false);
    assert.equal(err.messageId, 'o10164');
    assert.match(err.message, /ib-q-2/);
    assert.equal(fake.state.counters.ordersCreated, before);
    assert.equal(await client.lookup('ib-q-2'), null);
  });

  it('reports a partial fill and counts a repeated execution once', async () => {
    await client.submit(order('ib-part-1'));
    const trade = fake.fill('ib-part-1', 40, 189.99);
    fake.repeatTrade(trade.executionId);
    const partial = await until('partial', () => orderEvents('ib-part-1').find((o) => o.status === 'PARTIALLY_FILLED'));
    assert.equal(partial.filledQty, 40);
    await sleep(300); // several polls and the repeated `str` frame
    const seen = orderEvents('ib-part-1').flatMap((o) => o.fills.map((f) => f.tradeId));
    assert.deepEqual([...new Set(seen)], [trade.executionId]);
    const looked = await client.lookup('ib-part-1');
    assert.equal(looked?.fills.length, 1);
    assert.equal(looked?.filledQty, 40);
    assert.equal(looked?.status, 'PARTIALLY_FILLED');
    const canceled = await client.cancel('ib-part-1');
    assert.equal(canceled.status, 'CANCELED');
    assert.equal(canceled.filledQty, 40);
  });

  it('turns a later change of an execution into a correction event', async () => {
    await client.submit(order('ib-corr-1', { quantity: 5 }));
    const trade = fake.fill('ib-corr-1', 5, 190);
    await until('fill', () => orderEvents('ib-corr-1').find((o) => o.status === 'FILLED'));
    fake.correctTrade(trade.executionId, { price: 189.95 });
    const fix = await until('correction', () => events.find((e) => e.kind === 'correction' && e.tradeId === trade.executionId));
    assert.deepEqual({ ...fix, venueTime: 0 }, { kind: 'correction', clientOrderId: 'ib-corr-1', tradeId: trade.executionId, quantity: 5, price: 189.95, fee: 1, venueTime: 0 });
    await sleep(300);
    assert.equal(events.filter((e) => e.kind === 'correction' && e.tradeId === trade.executionId).length, 1);
  });

  it('drops an execution the gateway stops listing (a bust) from a complete statement of fills', async () => {
    await client.submit(order('ib-bust-1', { quantity: 4 }));
    const trade = fake.fill('ib-bust-1', 4, 190.2);
    await until('fill', () => orderEvents('ib-bust-1').find((o) => o.status === 'FILLED'));
    fake.bustTrade(trade.executionId);
    await sleep(2_200); // the gateway's /trades lags `str`; only after that is an absence a bust
    const looked = await client.lookup('ib-bust-1') as (Awaited<ReturnType<VenueClient['lookup']>> & { fillsComplete?: boolean });
    assert.deepEqual(looked?.fills, []);
    assert.equal(looked?.fillsComplete, true);
  });

  it('reports websocket activity, heartbeats included', async () => {
    const last = (client as VenueClient & { lastStreamActivity(): number | null }).lastStreamActivity();
    assert.ok(last !== null && Date.now() - last < 1_000, `last activity ${last} now ${Date.now()}`);
  });

  it('keeps delivering through a silent websocket (the poll is the guarantee)', async () => {
    fake.state.faults.silentStream = true;
    await client.submit(order('ib-silent-1', { quantity: 3 }));
    fake.fill('ib-silent-1', 3, 190.01);
    const filled = await until('fill through the poll', () => orderEvents('ib-silent-1').find((o) => o.status === 'FILLED' && o.fills.length > 0));
    assert.equal(filled.fills[0].price, 190.01);
  });

  it('session expiry: submits fail retriable, health is down, and a new login recovers', async () => {
    fake.expireSession();
    const err = await failure(client.submit(order('ib-sess-1')));
    assert.equal(err.code, 'VENUE_SESSION_EXPIRED');
    assert.equal(err.retriable, true);
    const down = await client.health();
    assert.equal(down.up, false);
    assert.match(down.detail ?? '', /not authenticated/);
    fake.login();
    assert.equal((await client.health()).up, true);
    const placed = await client.submit(order('ib-sess-1'));
    assert.equal(placed.status, 'NEW');
  });

  it('re-establishes the session by itself when the SSO login still stands', async () => {
    fake.expireSession({ reauth: true });
    await until('session back', () => !fake.state.faults.sessionExpired, 3_000);
    assert.equal((await client.health()).up, true);
    assert.equal((await client.submit(order('ib-sess-2'))).status, 'NEW');
  });

  it('maps 5xx and 429 (with Retry-After) to retriable errors and waits the penalty out', async () => {
    await client.submit(order('ib-rl-1'));
    await until('the stream settled', () => orderEvents('ib-rl-1').length > 0);
    await sleep(50);
    fake.state.faults.faultPath = new RegExp(`order/status/${fake.state.byCoid('ib-rl-1')!.orderId}$`);
    fake.state.faults.serverErrors = 1;
    const e5 = await failure(client.lookup('ib-rl-1'));
    assert.equal(e5.code, 'VENUE_UNAVAILABLE');
    assert.equal(e5.retriable, true);
    fake.state.faults.rateLimited = 1;
    fake.state.faults.retryAfterSec = 0.3;
    const e429 = await failure(client.lookup('ib-rl-1'));
    assert.equal(e429.code, 'VENUE_RATE_LIMITED');
    assert.equal(e429.retriable, true);
    assert.equal(e429.retryAfterMs, 300);
    const started = Date.now();
    assert.equal((await client.lookup('ib-rl-1'))?.status, 'NEW');
    assert.ok(Date.now() - started >= 250, 'the next request waited for Retry-After');
  });

  it('refuses an unknown symbol before any request', async () => {
    const err = await failure(client.submit(order('ib-sym-1', { symbol: 'BTCUSD' })));
    assert.equal(err.code, 'VENUE_UNKNOWN_SYMBOL');
    assert.equal(err.retriable, false);
  });

  it('lists open orders for reconciliation', async () => {
    const open = await client.openOrders();
    assert.ok(open.length > 0);
    assert.ok(open.every((o) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'));
    assert.ok(open.some((o) => o.clientOrderId === 'ib-q-1'));
  });

  it('never writes the account id or the session cookie to the logs', () => {
    assert.ok(logText.length > 0);
    assert.ok(!logText.includes(ACCOUNT), 'account id leaked into logs');
    assert.ok(!logText.includes(COOKIE), 'session cookie leaked into logs');
  });
});
