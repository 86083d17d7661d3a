// The whole path on the real stack: TradingView alert → edge → signals → decide → orders → paper
// venue → executions → Postgres positions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { signatureHeader } from '../../edge/auth.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { isolatedEnv, readAll, testLog, tradingViewAlert, waitFor, TEST_SECRET, TEST_SECRET_2 } from '../helpers/env.ts';

describe('pipeline end to end', () => {
  const env = isolatedEnv();
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 7, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog() });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
  });
  after(async () => {
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) => fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const positions = async () => (await pool.query('SELECT account_id, symbol, venue, quantity FROM positions ORDER BY symbol')).rows;

  it('turns one alert into exactly one order and one position change; a repeat changes nothing', async () => {
    const alert = tradingViewAlert({ contracts: '10' });
    const first = await post(alert);
    assert.equal(first.status, 202);
    const { signalId, duplicate } = (await first.json()) as { signalId: string; duplicate: boolean };
    assert.equal(duplicate, false);

    const rows = await waitFor('the AAPL position', async () => {
      const r = await positions();
      return r.length === 1 && r[0].quantity === 10 ? r : null;
    });
    assert.deepEqual(rows, [{ account_id: 'ACC-1', symbol: 'AAPL', venue: 'paper', quantity: 10 }]);

    const again = await post(alert);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { signalId, duplicate: true });

    const orders = await readAll(env, pipeline.topics.orders);
    assert.equal(orders.length, 1, 'one order at the orders topic');
    const stats = (await (await fetch(`${env.PAPER_VENUE_URL}/v1/stats`)).json()) as { ordersCreated: number };
    assert.equal(stats.ordersCreated, 1, 'one order at the venue');
    assert.deepEqual(await positions(), rows, 'the repeat changed no position');
  });

  it('refuses a wrong secret with 401 and produces nothing', async () => {
    const before = (await readAll(env, pipeline.topics.signals)).length;
    const res = await post(tradingViewAlert({ secret: 'wrong-secret-wrong-secret', time: new Date().toISOString() }));
    assert.equal(res.status, 401);
    const body = await res.text();
    assert.ok(!body.includes('wrong-secret'), 'the answer does not echo the secret');
    assert.equal((await readAll(env, pipeline.topics.signals)).length, before);
  });

  it('accepts a signed strategy signal with either active secret, and refuses a bad signature', async () => {
    const body = JSON.stringify({ strategy: 'trend-1', symbol: 'MSFT', intent: 'delta', side: 'buy', quantity: 3, time: new Date().toISOString() });
    const t = Math.floor(Date.now() / 1000);
    const send = (sig: string) => fetch(`${pipeline.edgeUrl}/signals`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': sig }, body });
    assert.equal((await send(signatureHeader('x'.repeat(32), t, body))).status, 401);
    assert.equal((await send(signatureHeader(TEST_SECRET_2, t, body))).status, 202);
    assert.equal((await send(signatureHeader(TEST_SECRET, t, body))).status, 200, 'the same signal signed with the other secret is a repeat');
    await waitFor('the MSFT position', async () => (await positions()).find((r) => r.symbol === 'MSFT' && r.quantity === 3));
  });
});
