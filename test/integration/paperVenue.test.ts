// The paper venue's HTTP server in-process on a random port, driven through its own client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { PaperVenueError } from '../../connectors/paper/errors.ts';
import { createPaperVenueServer, type PaperVenueServer } from '../../connectors/paper/server.ts';
import type { VenueClient, VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';
import { hasInstruments } from '../../connectors/venueCapabilities.ts';

const log = pino({ level: 'silent' });

const order = (over: Partial<VenueOrderRequest> & Pick<VenueOrderRequest, 'clientOrderId'>): VenueOrderRequest => ({
  symbol: 'MSFT', side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 400, timeInForce: 'GTC', ...over,
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function rejection(promise: Promise<unknown>): Promise<PaperVenueError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PaperVenueError, `expected PaperVenueError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('paper venue over HTTP (still market, no timer)', () => {
  let server: PaperVenueServer;
  let url: string;
  let client: VenueClient;
  const events: VenueEvent[] = [];
  let unsubscribe: () => void;

  const admin = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const knobs = async (patch: Record<string, unknown>): Promise<void> => {
    assert.equal((await admin('PUT', '/v1/admin/knobs', patch)).status, 200);
  };
  const stats = async (): Promise<Record<string, number>> => (await admin('GET', '/v1/stats')).json() as Promise<Record<string, number>>;
  const orderEvent = (clientOrderId: string, status: string) => () =>
    events.find((e) => e.kind === 'order' && e.order.clientOrderId === clientOrderId && e.order.status === status);

  before(async () => {
    server = createPaperVenueServer({ config: parsePaperConfig({ seed: 7, tickMs: 0 }), log });
    url = await server.start(0, '127.0.0.1');
    client = createPaperClient({ baseUrl: url, timeoutMs: 2_000, reconnectMs: 50 });
    await client.connect();
    unsubscribe = client.onEvent((e) => events.push(e));
  });

  after(async () => {
    unsubscribe();
    await client.disconnect();
    await server.stop();
  });

  it('submits, looks up and cancels an order', async () => {
    const placed = await client.submit(order({ clientOrderId: 'basic-1' }));
    assert.equal(placed.status, 'NEW');
    assert.notEqual(placed.venueOrderId, 'basic-1');
    assert.deepEqual(await client.lookup('basic-1'), placed);
    assert.ok((await client.openOrders()).some((o) => o.clientOrderId === 'basic-1'));
    assert.equal((await client.cancel('basic-1')).status, 'CANCELED');
    assert.equal((await client.lookup('basic-1'))?.status, 'CANCELED');
    assert.equal(await client.lookup('never-sent'), null);
  });

  it('reads the venue\'s instrument rules for the symbols asked, leaving out those it does not list', async () => {
    assert.ok(hasInstruments(client), 'the paper client is an InstrumentSource');
    assert.deepEqual(await client.instruments(['EURUSD', 'NOPE']), [
      { symbol: 'EURUSD', venueSymbol: 'EURUSD', trading: true, lotSize: 1000, tickSize: 0.00001, minQty: 1000, maxQty: 0, minNotional: 0 },
    ]);
  });

  it('answers a malformed order with 400 and the field, as a non-retriable error', async () => {
    const err = await rejection(client.submit(order({ clientOrderId: 'bad-1', quantity: -1 })));
    assert.deepEqual([err.code, err.retriable, err.status, err.field], ['VENUE_REJECTED', false, 400, 'quantity']);
    assert.match(err.message, /bad-1/);
  });

  it('creates one order for a duplicate submit', async () => {
    const before = await stats();
    const first = await client.submit(order({ clientOrderId: 'dup-1' }));
    const second = await client.submit(order({ clientOrderId: 'dup-1' }));
    assert.equal(second.venueOrderId, first.venueOrderId);
    const now = await stats();
    assert.equal(now.ordersCreated - before.ordersCreated, 1);
    assert.equal(now.duplicatesSeen - before.duplicatesSeen, 1);
  });

  it('times out when answers are dropped, while the order exists and lookup finds it', async () => {
    const impatient = createPaperClient({ baseUrl: url, timeoutMs: 300 });
    await knobs({ dropResponses: true });
    const err = await rejection(impatient.submit(order({ clientOrderId: 'drop-1' })));
    await knobs({ dropResponses: false });
    assert.deepEqual([err.code, err.retriable], ['VENUE_TIMEOUT', true]);
    assert.match(err.message, /drop-1/);
    assert.equal((await impatient.lookup('drop-1'))?.status, 'NEW');
  });

  it('fails retriably during an outage', async () => {
    await knobs({ outage: true });
    try {
      const err = await rejection(client.submit(order({ clientOrderId: 'outage-1' })));
      assert.deepEqual([err.code, err.retriable, err.status], ['VENUE_UNAVAILABLE', true, 503]);
      assert.equal((await client.health()).up, false);
    } finally {
      await knobs({ outage: false });
    }
    assert.equal((await client.health()).up, true);
    assert.equal(await client.lookup('outage-1'), null);
  });

  it('pushes the fill of a resting limit order, then its correction and bust', async () => {
    // given a buy resting one tick above the maker's bid (inside the spread)
    const [quote] = await client.quotes?.(['MSFT']) ?? [];
    const limit = Number((quote.bid + 0.01).toFixed(2));
    assert.ok(limit < quote.ask);
    assert.equal((await client.submit(order({ clientOrderId: 'rest-1', quantity: 7, limitPrice: limit }))).status, 'NEW');
    // when someone sells 7 at market
    await client.submit(order({ clientOrderId: 'taker-1', side: 'SELL', quantity: 7, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC' }));
    // then the resting order's fill arrives without polling
    const filled = await waitFor('rest-1 FILLED', orderEvent('rest-1', 'FILLED'));
    assert.ok(filled.kind === 'order');
    assert.deepEqual(filled.order.fills.map((f) => [f.price, f.quantity]), [[limit, 7]]);
    const tradeId = filled.order.fills[0].tradeId;

    assert.equal((await admin('POST', `/v1/admin/fills/${tradeId}/correct`, { price: limit - 0.02 })).status, 200);
    const correction = await waitFor('correction', () => events.find((e) => e.kind === 'correction' && e.tradeId === tradeId));
    assert.ok(correction.kind === 'correction');
    assert.deepEqual([correction.clientOrderId, correction.price, correction.quantity], ['rest-1', Number((limit - 0.02).toFixed(2)), 7]);

    assert.equal((await admin('POST', `/v1/admin/fills/${tradeId}/bust`)).status, 200);
    const bust = await waitFor('bust', () => events.find((e) => e.kind === 'bust' && e.tradeId === tradeId));
    assert.ok(bust.kind === 'bust');
    assert.deepEqual(bust, { kind: 'bust', clientOrderId: 'rest-1', tradeId, venueTime: bust.venueTime });
    assert.equal((await admin('POST', '/v1/admin/fills/NOPE-1-B/bust')).status, 404);
  });

  it('replays events raised while the stream was down once it reconnects', async () => {
    // given a fill to amend later
    await client.submit(order({ clientOrderId: 'gap-sell', side: 'SELL', quantity: 2, limitPrice: 421 }));
    const buy = await client.submit(order({ clientOrderId: 'gap-buy', quantity: 2, limitPrice: 421 }));
    const tradeId = buy.fills[0].tradeId;
    // when an outage cuts the stream and a bust happens meanwhile (admin routes stay up)
    await knobs({ outage: true });
    assert.equal((await admin('POST', `/v1/admin/fills/${tradeId}/bust`)).status, 200);
    await sleep(100);
    await knobs({ outage: false });
    // then the subscriber still receives it, replayed with since=, exactly once
    await waitFor('replayed bust', () => events.find((e) => e.kind === 'bust' && e.tradeId === tradeId));
    await client.submit(order({ clientOrderId: 'after-gap', limitPrice: 300 }));
    await waitFor('after-gap NEW', orderEvent('after-gap', 'NEW'));
    assert.equal(events.filter((e) => e.kind === 'bust' && e.tradeId === tradeId).length, 1);
  });
});

describe('paper venue over HTTP (moving market)', () => {
  it('fills a resting order when the market timer moves through it', async () => {
    const config = parsePaperConfig({
      seed: 3, tickMs: 10,
      symbols: [{ symbol: 'VOLX', startPrice: 100, volatility: 0.01, spreadBps: 5, lotSize: 1, tickSize: 0.01, quoteSize: 100 }],
    });
    const server = createPaperVenueServer({ config, log });
    const client = createPaperClient({ baseUrl: await server.start(0), reconnectMs: 50 });
    const events: VenueEvent[] = [];
    try {
      await client.connect();
      client.onEvent((e) => events.push(e));
      const [quote] = await client.quotes?.(['VOLX']) ?? [];
      const limit = Number((quote.ask - 0.2).toFixed(2));
      const placed = await client.submit({ clientOrderId: 'mm-1', symbol: 'VOLX', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPrice: limit, timeInForce: 'GTC' });
      const filled = await waitFor('mm-1 FILLED', () =>
        events.find((e) => e.kind === 'order' && e.order.clientOrderId === 'mm-1' && e.order.status === 'FILLED'), 15_000);
      assert.ok(filled.kind === 'order');
      // Either it crossed on arrival (the market moved before it got there) or it rested and the market came to it.
      assert.ok(filled.order.fills.every((f) => f.price <= limit));
      assert.ok(placed.status === 'NEW' ? filled.order.fills[0].price === limit : true);
    } finally {
      await client.disconnect();
      await server.stop();
    }
  });
});
