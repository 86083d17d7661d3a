// Issue 17 item 2 on the real stack: a TradingView entry with take_profit and stop_loss → decide →
// orders → paper venue; its fill → the brackets processor → both exits on `orders` (with the parent's
// id) and resting at the venue; the market reaches the take-profit (another participant buys through
// it) → the take-profit fills → the stop-loss is canceled (one OCO request, one CANCEL); the position
// is flat; `audit trail` of the entry shows the exits and the cancel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import type { VenueClient } from '../../connectors/venue.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { auditTrail } from '../../streams/audit/trail.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { isolatedEnv, readAll, testKafka, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';

describe('bracket exits, end to end', () => {
  const env = isolatedEnv();
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  let market: VenueClient;

  before(async () => {
    // No market-data timer: the quote moves only when this test trades, so the run is the same every time.
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
    market = createPaperClient({ baseUrl: env.PAPER_VENUE_URL!, timeoutMs: 2_000, reconnectMs: 50 });
  });
  after(async () => {
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  const codec = () => createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
  const orders = async (): Promise<Order[]> => Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec().decode('Order', m.value!)));
  const executions = async (): Promise<ExecutionReport[]> =>
    Promise.all((await readAll(env, pipeline.topics.executions)).map((m) => codec().decode('ExecutionReport', m.value!)));
  const venueStatus = async (clientOrderId: string) => {
    const r = await fetch(`${env.PAPER_VENUE_URL}/v1/orders/${clientOrderId}`);
    return r.status === 200 ? ((await r.json()) as { status: string; filledQty: number }) : null;
  };
  const position = async () => (await pool.query("SELECT quantity FROM positions WHERE symbol = 'AAPL'")).rows[0]?.quantity ?? null;
  const top = async () => ((await (await fetch(`${env.PAPER_VENUE_URL}/v1/quotes?symbols=AAPL`)).json()) as { ask: number; bid: number }[])[0];

  /**
   * The venue's quote as decide prices it: on `quotes` (the connector publishes it every 500 ms) and then
   * read by decide. An alert sent before that is priced from the cost model's reference mark, and a
   * take-profit two ticks over the venue's ask can then be on the wrong side of it (DENIED).
   */
  const quoted = async () => {
    const { ask } = await top();
    await waitFor('the venue\'s quote on quotes', async () => {
      const qs = await Promise.all((await readAll(env, pipeline.topics.quotes)).map((m) => codec().decode('Quote', m.value!)));
      return qs.some((q) => q.venue === 'paper' && q.symbol === 'AAPL' && q.ask === ask) ? true : null;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // decide's state tail reads it in its next window
    return ask;
  };

  it('places both exits once the entry fills; the take-profit fills when the market reaches it and the stop is canceled', { timeout: 120_000 }, async () => {
    const ask = await quoted();
    const tpPrice = Math.round((ask + 0.02) * 100) / 100; // two ticks over the ask: resting until someone buys through it
    const slPrice = Math.round((ask - 1) * 100) / 100;
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ order_id: randomUUID(), take_profit: { price: String(tpPrice) }, stop_loss: { type: 'stop', price: String(slPrice) } })),
    });
    assert.equal(res.status, 202);

    const placed = await waitFor('the entry and its two exits on orders', async () => {
      const all = await orders();
      const entry = all.find((o) => o.takeProfit !== null);
      const exits = entry === undefined ? [] : all.filter((o) => o.parentOrderId === entry.orderId);
      return entry !== undefined && exits.length >= 2 ? { entry, exits } : null;
    }, 60_000);
    const { entry } = placed;
    assert.deepEqual([entry.side, entry.quantity, entry.orderType, entry.takeProfit?.price, entry.stopLoss?.price, entry.stopLoss?.orderType], ['BUY', 10, 'MARKET', tpPrice, slPrice, 'STOP']);
    const exits = placed.exits.sort((a, b) => a.exitRole!.localeCompare(b.exitRole!)); // STOP_LOSS, TAKE_PROFIT
    const [sl, tp] = exits;
    assert.deepEqual(exits.map((o) => [o.exitRole, o.side, o.quantity, o.orderType, o.limitPrice, o.stopPrice, o.timeInForce, o.signalId]), [
      ['STOP_LOSS', 'SELL', 10, 'STOP', null, slPrice, 'GTC', entry.signalId],
      ['TAKE_PROFIT', 'SELL', 10, 'LIMIT', tpPrice, null, 'GTC', entry.signalId],
    ]);
    assert.equal(tp.ocoGroup, sl.ocoGroup);
    assert.ok(tp.ocoGroup !== null);
    await waitFor('both exits resting at the venue', async () => (
      (await venueStatus(tp.clientOrderId))?.status === 'NEW' && (await venueStatus(sl.clientOrderId))?.status === 'NEW' ? true : null));
    assert.equal(await waitFor('long 10', async () => ((await position()) === 10 ? 10 : null)), 10);

    // Another participant buys everything up to the take-profit's price: the market reaches it.
    const sweep = await market.submit({ clientOrderId: `sweep-${randomUUID().slice(0, 8)}`, symbol: 'AAPL', side: 'BUY', quantity: 100_000, orderType: 'LIMIT', limitPrice: tpPrice, timeInForce: 'IOC' });
    assert.ok(sweep.filledQty > 0);
    await waitFor('the take-profit filled at the venue', async () => ((await venueStatus(tp.clientOrderId))?.status === 'FILLED' ? true : null));
    await waitFor('the stop-loss canceled at the venue', async () => ((await venueStatus(sl.clientOrderId))?.status === 'CANCELED' ? true : null), 30_000);
    await waitFor('flat', async () => ((await position()) === 0 ? true : null));

    const reports = await waitFor('the stop\'s CANCEL on executions', async () => {
      const all = await executions();
      return all.some((r) => r.orderId === sl.orderId && r.type === 'CANCEL') ? all : null;
    });
    assert.deepEqual(reports.filter((r) => r.orderId === tp.orderId && r.type !== 'ACK').map((r) => [r.type, r.lastQty, r.lastPrice]), [['FILL', 10, tpPrice]]);
    assert.deepEqual(reports.filter((r) => r.orderId === sl.orderId).map((r) => r.type), ['ACK', 'CANCEL']);
    const requests = await Promise.all((await readAll(env, pipeline.topics.cancelRequests)).map((m) => codec().decode('CancelRequest', m.value!)));
    assert.deepEqual(requests.map((r) => [r.orderId, r.source, r.requestId]), [[sl.orderId, 'oco', `oco|${tp.ocoGroup}`]]);
    // Exactly one of each exit on the topic.
    const all = await orders();
    assert.deepEqual(all.filter((o) => o.parentOrderId === entry.orderId).map((o) => o.orderId).sort(), [sl.orderId, tp.orderId].sort());

    const trail = await auditTrail({ kafka: testKafka(env), codec: codec(), topics: pipeline.topics, pool }, entry.orderId);
    const lines = trail.steps.map((s) => `${s.kind} ${s.headline}`);
    assert.ok(lines.some((l) => l.startsWith(`order TAKE_PROFIT of ${entry.orderId}:`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`order STOP_LOSS of ${entry.orderId}:`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('cancel ')), lines.join('\n'));
  });

  it('a partial fill gets exits for what filled; an exit alert closes the position and cancels them', { timeout: 120_000 }, async () => {
    const knobs = (patch: Record<string, unknown>) => fetch(`${env.PAPER_VENUE_URL}/v1/admin/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
    assert.equal((await knobs({ partialFillRatio: 0.4 })).status, 200);
    const { ask } = await top();
    const before = new Set((await orders()).map((o) => o.orderId));
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ order_id: randomUUID(), take_profit: { amount: '2' }, stop_loss: { type: 'trailing_stop', percent: '1' } })),
    });
    assert.equal(res.status, 202);
    const { entry, exits } = await waitFor('the partly filled entry and its exits', async () => {
      const fresh = (await orders()).filter((o) => !before.has(o.orderId));
      const e = fresh.find((o) => o.takeProfit !== null);
      const x = e === undefined ? [] : fresh.filter((o) => o.parentOrderId === e.orderId);
      return e !== undefined && x.length >= 2 ? { entry: e, exits: x } : null;
    }, 60_000);
    assert.equal((await knobs({ partialFillRatio: 1 })).status, 200);
    const fills = (await executions()).filter((r) => r.orderId === entry.orderId && (r.type === 'FILL' || r.type === 'PARTIAL_FILL'));
    assert.deepEqual(fills.map((f) => f.lastQty), [4], 'the book filled 4 of 10, the IOC rest was canceled');
    const tp = exits.find((o) => o.exitRole === 'TAKE_PROFIT')!;
    const sl = exits.find((o) => o.exitRole === 'STOP_LOSS')!;
    assert.deepEqual([tp.quantity, tp.limitPrice, sl.quantity, sl.orderType, sl.trailPercent], [4, Math.round((fills[0].lastPrice + 2) * 100) / 100, 4, 'TRAILING_STOP', 1]);
    await waitFor('both exits resting at the venue', async () => (
      (await venueStatus(tp.clientOrderId))?.status === 'NEW' && (await venueStatus(sl.clientOrderId))?.status === 'NEW' ? true : null));
    await waitFor('long 4', async () => ((await position()) === 4 ? true : null));

    // Exits are not counted in where an exit aims: it sells the 4, and cancels both exits in its decision.
    const exit = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ order_id: randomUUID(), action: 'exit', contracts: undefined })),
    });
    assert.equal(exit.status, 202);
    await waitFor('flat', async () => ((await position()) === 0 ? true : null));
    await waitFor('both exits canceled at the venue', async () => (
      (await venueStatus(tp.clientOrderId))?.status === 'CANCELED' && (await venueStatus(sl.clientOrderId))?.status === 'CANCELED' ? true : null), 30_000);
    const requests = await Promise.all((await readAll(env, pipeline.topics.cancelRequests)).map((m) => codec().decode('CancelRequest', m.value!)));
    assert.deepEqual(requests.filter((r) => r.orderId === tp.orderId || r.orderId === sl.orderId).map((r) => [r.source, r.reason?.startsWith('exit alert')]), [['alert', true], ['alert', true]]);
  });
});
