// Issue 17 on the real stack: TradingView alerts → edge → signals → decide → orders → paper venue →
// executions → Postgres positions, for a buy stop (it reaches the venue as a stop and waits there), an
// `add` in the position's direction, an `exit` that closes the position, a `cancel` that cancels the
// strategy's resting orders at the venue, and a 400 naming the field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { createCodec } from '../../schemas/codec.ts';
import { isolatedEnv, readAll, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';

describe('alert order types, add and exit, end to end', () => {
  const env = isolatedEnv();
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
  });
  after(async () => {
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  const post = async (over: Record<string, unknown>) => fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tradingViewAlert({ order_id: randomUUID(), ...over })),
  });
  const orders = async () => {
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    return Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec.decode('Order', m.value!)));
  };
  const position = async () => (await pool.query("SELECT quantity FROM positions WHERE symbol = 'AAPL'")).rows[0]?.quantity ?? 0;
  const ask = async () => ((await (await fetch(`${env.PAPER_VENUE_URL}/v1/quotes?symbols=AAPL`)).json()) as { ask: number }[])[0].ask;

  it('a buy stop reaches the venue as a stop and waits; add follows the position; exit closes it', async () => {
    const stopPrice = (Math.round((await ask()) * 150) / 100).toFixed(2);
    assert.equal((await post({ order_type: 'stop', stop_price: stopPrice, time_in_force: 'gtc' })).status, 202);
    const stop = await waitFor('the stop on orders', async () => (await orders()).find((o) => o.orderType === 'STOP'));
    assert.deepEqual([stop.side, stop.quantity, stop.stopPrice, stop.timeInForce, stop.limitPrice], ['BUY', 10, Number(stopPrice), 'GTC', null]);
    const atVenue = await waitFor('the stop at the venue', async () => {
      const r = await fetch(`${env.PAPER_VENUE_URL}/v1/orders/${stop.clientOrderId}`);
      return r.status === 200 ? ((await r.json()) as { status: string; filledQty: number }) : null;
    });
    assert.deepEqual([atVenue.status, atVenue.filledQty], ['NEW', 0]);

    assert.equal((await post({ contracts: '10' })).status, 202);
    await waitFor('long 10', async () => ((await position()) === 10 ? true : null));
    // The stop's 10 still work at the venue, so the add goes the same way: 5 more.
    assert.equal((await post({ action: 'add', contracts: '5' })).status, 202);
    await waitFor('long 15', async () => ((await position()) === 15 ? true : null));
    assert.equal((await post({ action: 'exit', contracts: undefined })).status, 202);
    // FLAT counts working orders: the resting buy stop of 10 is part of where the exit aims, so the
    // exit sells 25 and the position is short 10 until the stop is canceled or fills.
    const after = await waitFor('the exit filled', async () => ((await position()) !== 15 ? await position() : null));
    assert.equal(after, -10);
  });

  it('a cancel alert cancels the resting orders of its strategy in the symbol at the venue, each once on executions', async () => {
    const limitPrice = (Math.round((await ask()) * 99) / 100).toFixed(2); // 1 % under the ask: it rests
    assert.equal((await post({ order_type: 'limit', limit_price: limitPrice, time_in_force: 'gtc' })).status, 202);
    const limit = await waitFor('the limit on orders', async () => (await orders()).find((o) => o.orderType === 'LIMIT' && o.limitPrice === Number(limitPrice)));
    const venueStatus = async (clientOrderId: string) => {
      const r = await fetch(`${env.PAPER_VENUE_URL}/v1/orders/${clientOrderId}`);
      return r.status === 200 ? ((await r.json()) as { status: string }).status : null;
    };
    await waitFor('the limit resting at the venue', async () => ((await venueStatus(limit.clientOrderId)) === 'NEW' ? true : null));
    const working = (await orders()).filter((o) => o.orderType !== 'MARKET');
    assert.equal((await post({ action: 'cancel', contracts: undefined })).status, 202);
    await waitFor('the limit canceled at the venue', async () => ((await venueStatus(limit.clientOrderId)) === 'CANCELED' ? true : null));
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    const cancels = await waitFor('its CANCEL on executions', async () => {
      const reports = await Promise.all((await readAll(env, pipeline.topics.executions)).map((m) => codec.decode('ExecutionReport', m.value!)));
      const mine = reports.filter((r) => r.type === 'CANCEL' && r.orderId === limit.orderId);
      return mine.length > 0 ? mine : null;
    });
    assert.equal(cancels.length, 1);
    const requests = await Promise.all((await readAll(env, pipeline.topics.cancelRequests)).map((m) => codec.decode('CancelRequest', m.value!)));
    // Every order of this strategy still working was asked once (the first test's stop too), nothing else.
    assert.ok(requests.every((r) => r.source === 'alert' && r.actor === 'trend-1' && working.some((o) => o.orderId === r.orderId)), JSON.stringify(requests));
    assert.equal(new Set(requests.map((r) => r.orderId)).size, requests.length);
    assert.ok(requests.some((r) => r.orderId === limit.orderId));
  });

  it('refuses a stop without its stop price, naming the field, and writes nothing', async () => {
    const before = (await readAll(env, pipeline.topics.signals)).length;
    const res = await post({ order_type: 'stop' });
    assert.equal(res.status, 400);
    assert.deepEqual(((await res.json()) as { error: { field: string } }).error.field, 'stop_price');
    assert.equal((await readAll(env, pipeline.topics.signals)).length, before);
  });
});
