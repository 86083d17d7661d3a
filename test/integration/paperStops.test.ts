// Stops and fill-or-kill through the paper venue's HTTP API and its own client: the order shapes on the
// wire, the venue holding a stop until its market data reaches the trigger, and the refusals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperVenueServer, type PaperVenueServer } from '../../connectors/paper/server.ts';
import type { VenueClient, VenueOrderRequest, VenueQuote } from '../../connectors/venue.ts';

const log = pino({ level: 'silent' });
const order = (over: Partial<VenueOrderRequest> & Pick<VenueOrderRequest, 'clientOrderId'>): VenueOrderRequest => ({
  symbol: 'MSFT', side: 'SELL', quantity: 5, orderType: 'STOP', limitPrice: null, timeInForce: 'GTC', ...over,
});

describe('paper venue over HTTP: stops and FOK (still market, no timer)', () => {
  let server: PaperVenueServer;
  let url: string;
  let client: VenueClient;
  const quote = async (): Promise<VenueQuote> => ((await (await fetch(`${url}/v1/quotes?symbols=MSFT`)).json()) as VenueQuote[])[0];

  before(async () => {
    server = createPaperVenueServer({ config: parsePaperConfig({ seed: 7, tickMs: 0 }), log });
    url = await server.start(0, '127.0.0.1');
    client = createPaperClient({ baseUrl: url, timeoutMs: 2_000, reconnectMs: 50 });
    await client.connect();
  });
  after(async () => {
    await client.disconnect();
    await server.stop();
  });

  it('a sell stop under the bid waits; a sale through it triggers it; it fills at the next bid', async () => {
    const q = await quote();
    const trigger = Math.round((q.bid - 0.01) * 100) / 100;
    const placed = await client.submit(order({ clientOrderId: 'stop-1', stopPrice: trigger }));
    assert.deepEqual([placed.status, placed.filledQty], ['NEW', 0]);
    const sale = await client.submit(order({ clientOrderId: 'take-1', orderType: 'MARKET', quantity: q.bidSize, timeInForce: 'IOC' }));
    assert.equal(sale.status, 'FILLED');
    const after = await client.lookup('stop-1');
    assert.equal(after?.status, 'FILLED');
    assert.ok(after!.fills[0].price < q.bid, `filled at ${after!.fills[0].price}, under the old bid ${q.bid}`);
  });

  it('a trailing stop and a stop-limit go over the wire with their fields; a waiting stop cancels', async () => {
    const trailing = await client.submit(order({ clientOrderId: 'trail-1', orderType: 'TRAILING_STOP', trailPercent: 5 }));
    assert.equal(trailing.status, 'NEW');
    const q = await quote();
    const sl = await client.submit(order({ clientOrderId: 'sl-1', orderType: 'STOP_LIMIT', stopPrice: Math.round((q.bid - 50) * 100) / 100, limitPrice: Math.round((q.bid - 51) * 100) / 100 }));
    assert.equal(sl.status, 'NEW');
    assert.equal((await client.cancel('trail-1')).status, 'CANCELED');
    assert.equal((await client.cancel('sl-1')).status, 'CANCELED');
  });

  it('fill or kill: more than the book offers within the limit is killed whole', async () => {
    const q = await quote();
    const killed = await client.submit(order({ clientOrderId: 'fok-1', side: 'BUY', orderType: 'LIMIT', limitPrice: q.ask, quantity: q.askSize + 1, timeInForce: 'FOK' }));
    assert.deepEqual([killed.status, killed.filledQty], ['CANCELED', 0]);
    const filled = await client.submit(order({ clientOrderId: 'fok-2', side: 'BUY', orderType: 'LIMIT', limitPrice: q.ask, quantity: q.askSize, timeInForce: 'FOK' }));
    assert.deepEqual([filled.status, filled.filledQty], ['FILLED', q.askSize]);
  });

  it('the server refuses a stop without its trigger, naming the field', async () => {
    const res = await fetch(`${url}/v1/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientOrderId: 'bad-1', symbol: 'MSFT', side: 'SELL', quantity: 1, type: 'STOP', timeInForce: 'GTC' }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /stopPrice/);
  });
});
