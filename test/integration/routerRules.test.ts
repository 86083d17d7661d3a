// The router reads the venues' own rules on the real stack: a paper venue whose AAPL lot is 5 shares
// (the cost model types 1) publishes its rules through its connector on `instruments`; decide routes by
// them (12 shares go out as 10), refuses what no venue takes with BELOW_LOT_SIZE before an order exists,
// and, once a second venue lists AAPL in single shares, sends the order there instead.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Order, RiskDecision } from '../../schemas/types.ts';
import { isolatedEnv, readAll, testLog, tradingViewAlert, waitFor } from '../helpers/env.ts';

const ADMIN = 'it-admin-token-7c2e9a4f1b8d6e3c5a0f';
const instrument = (symbol: string, startPrice: number, lotSize: number, tickSize: number, quoteSize: number) =>
  ({ symbol, startPrice, volatility: 0.0003, spreadBps: 2, lotSize, tickSize, quoteSize });

describe('the router on the venues\' published rules', () => {
  const env = isolatedEnv({ OPS_TOKENS: JSON.stringify([{ name: 'alice', role: 'admin', token: ADMIN }]) });
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let codec: Codec;

  before(async () => {
    const symbols = [
      instrument('AAPL', 190, 5, 0.01, 200), instrument('MSFT', 420, 1, 0.01, 100), instrument('BTCUSD', 65000, 0.0001, 0.01, 1),
      instrument('ETHUSD', 3200, 0.001, 0.01, 10), instrument('EURUSD', 1.08, 1000, 0.00001, 1_000_000),
    ];
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 5, tickMs: 0, symbols }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, components: ['edge', 'connector', 'decide'], log: testLog() });
    codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
  });
  after(async () => {
    await pipeline?.stop();
    await venue?.stop();
  });

  async function decided(contracts: number): Promise<{ decision: RiskDecision; order: Order | undefined }> {
    const res = await fetch(`${pipeline.edgeUrl}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tradingViewAlert({ idempotency_key: randomUUID(), order_id: randomUUID(), contracts: String(contracts) })),
    });
    assert.equal(res.status, 202);
    const { signalId } = (await res.json()) as { signalId: string };
    const decision = await waitFor(`the decision for ${signalId}`, async () => {
      for (const m of await readAll(env, pipeline.topics.riskDecisions)) {
        const d = await codec.decode('RiskDecision', m.value!);
        if (d.signalId === signalId) return d;
      }
      return null;
    });
    const orders = await Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec.decode('Order', m.value!)));
    return { decision, order: orders.find((o) => o.signalId === signalId) };
  }

  it('routes by the lot paper publishes, refuses what it cannot take, and sends that to a venue that can', async () => {
    const published = await waitFor('paper|AAPL on the instruments topic', async () => {
      for (const m of await readAll(env, pipeline.topics.instruments)) {
        if (m.key?.toString() === 'paper|AAPL') return codec.decode('Instrument', m.value!);
      }
      return null;
    });
    assert.deepEqual([published.venue, published.trading, published.lotSize, published.tickSize], ['paper', true, 5, 0.01]);

    // The connector published before decide started (startPipeline starts it first), so decide has folded it.
    const rounded = await decided(12);
    assert.deepEqual([rounded.decision.verdict, rounded.decision.venue, rounded.decision.quantity], ['APPROVED', 'paper', 10]);
    assert.equal(rounded.order?.quantity, 10);

    const refused = await decided(3);
    assert.deepEqual([refused.decision.verdict, refused.decision.reason], ['DENIED', 'BELOW_LOT_SIZE']);
    assert.match(refused.decision.detail ?? '', /"lotSize":5/);
    assert.equal(refused.order, undefined, 'no order left');

    const put = await fetch(`${pipeline.edgeUrl}/ops/cost-model/venue/paper-b`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, fees: { equity: { bps: 5 } }, instruments: { AAPL: { venueSymbol: 'AAPL', lotSize: 1, tickSize: 0.01 } } }),
    });
    assert.equal(put.status, 200);
    const elsewhere = await waitFor('an order for 3 routed to paper-b', async () => {
      const r = await decided(3);
      return r.decision.verdict === 'APPROVED' ? r : null;
    });
    assert.deepEqual([elsewhere.decision.venue, elsewhere.order?.venue, elsewhere.order?.quantity], ['paper-b', 'paper-b', 3]);
    assert.ok(elsewhere.decision.candidates.some((c) => c.venue === 'paper'), 'paper was priced, and passed over');
  });
});
