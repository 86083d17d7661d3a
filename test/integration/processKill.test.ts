// The decide processor and the projection killed with SIGKILL in the middle of a stream and
// restarted: every signal gets exactly one decision, every approval exactly one order (at the topic
// and at the venue), and the Postgres projection equals the fold of `executions`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Signal } from '../../schemas/types.ts';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { foldPositions, positionRow } from '../../streams/positions/fold.ts';
import { createPool, type Pool } from '../../streams/runtime/db.ts';
import { isolatedEnv, readAll, testKafka, testLog, waitFor } from '../helpers/env.ts';
import { kill, spawnComponent, type Child } from '../helpers/processes.ts';

const N = 300;

describe('processors killed mid-stream', () => {
  const env = isolatedEnv();
  let venue: ReturnType<typeof createPaperVenueServer>;
  let pipeline: Pipeline;
  let pool: Pool;
  let decideChild: Child | null = null;
  let projectionChild: Child | null = null;

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 11, tickMs: 0 }), log: testLog() });
    env.PAPER_VENUE_URL = await venue.start(0, '127.0.0.1');
    pipeline = await startPipeline({ env, log: testLog(), components: ['connector'] });
    pool = createPool({ DATABASE_URL: pipeline.env.DATABASE_URL, PG_SCHEMA: pipeline.env.PG_SCHEMA });
  });
  after(async () => {
    if (decideChild) await kill(decideChild);
    if (projectionChild) await kill(projectionChild);
    await pool?.end();
    await pipeline?.stop();
    await venue?.stop();
  });

  it('decides each signal once and orders each approval once', async () => {
    const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    await codec.register(pipeline.topics.signals, 'Signal');
    const producer = testKafka(env).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
    const symbols = ['AAPL', 'MSFT', 'BTCUSD', 'EURUSD'];
    const qty: Record<string, number> = { AAPL: 1, MSFT: 1, BTCUSD: 0.01, EURUSD: 1000 };
    const signals: Signal[] = Array.from({ length: N }, (_, i) => {
      const symbol = symbols[i % symbols.length];
      const now = Date.now();
      return {
        signalId: `kill-${i}`, source: 'SIGNED', account: `ACC-${i % 5}`, strategy: `strat-${i % 10}`, symbol,
        intent: 'DELTA', side: i % 3 === 0 ? 'SELL' : 'BUY', quantity: qty[symbol], targetPosition: null, orderType: 'MARKET',
        limitPrice: null, price: null, reportedPosition: null, externalOrderId: null, alertTime: null, receivedAt: now, hlc: now * 1000 + i, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
      };
    });

    // Signals wait in Kafka while the processor is down; keep them fresh enough to be approved.
    await codec.register(pipeline.topics.control, 'Control');
    await producer.send({ topic: pipeline.topics.control, acks: -1, messages: [{
      key: 'LIMITS|DESK|*', headers: accountHeaders('*'),
      value: codec.encode(pipeline.topics.control, {
        controlId: 'test-limits', kind: 'LIMITS', scope: 'DESK', target: '*', state: null,
        payload: JSON.stringify({ maxSignalAgeMs: 600_000 }), actor: 'test', reason: null, at: Date.now(), hlc: Date.now() * 1000,
      }),
    }] });

    decideChild = spawnComponent('decide', env);
    projectionChild = spawnComponent('projection', env);
    // Send in slices so the kill lands while signals are still flowing.
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 20) {
        await producer.send({ topic: pipeline.topics.signals, acks: -1, messages: signals.slice(i, Math.min(i + 20, to)).map((s) => ({
          key: s.signalId, value: codec.encode(pipeline.topics.signals, s), headers: accountHeaders(s.account),
        })) });
      }
    };
    await send(0, N / 2);
    await waitFor('the first decisions', async () => (await readAll(env, pipeline.topics.riskDecisions)).length >= 40, 60000);
    await kill(decideChild);
    await send(N / 2, (3 * N) / 4);
    decideChild = spawnComponent('decide', env);
    await waitFor('projected fills', async () => (await pool.query('SELECT count(*)::int AS n FROM executions').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n > 20, 60000);
    await kill(projectionChild);
    await send((3 * N) / 4, N);
    projectionChild = spawnComponent('projection', env);
    await producer.disconnect();

    const decisions = await waitFor('every signal decided', async () => {
      const all = await Promise.all((await readAll(env, pipeline.topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)));
      return new Set(all.map((d) => d.signalId)).size >= N ? all : null;
    }, 90000);
    const perSignal = new Map<string, number>();
    for (const d of decisions) perSignal.set(d.signalId, (perSignal.get(d.signalId) ?? 0) + 1);
    assert.equal(perSignal.size, N);
    assert.deepEqual([...perSignal.values()].filter((c) => c !== 1), [], 'no signal decided twice');

    const approved = decisions.filter((d) => d.verdict === 'APPROVED');
    const reasons = decisions.filter((d) => d.verdict !== "APPROVED").map((d) => d.reason);
    assert.ok(approved.length > N / 2, `most signals approved (${approved.length}; others: ${[...new Set(reasons)].join(", ")})`);
    const orders = await Promise.all((await readAll(env, pipeline.topics.orders)).map((m) => codec.decode('Order', m.value!)));
    assert.equal(orders.length, approved.length, 'one order per approval');
    assert.equal(new Set(orders.map((o) => o.orderId)).size, orders.length, 'no order twice');

    await waitFor('every order at the venue', async () => {
      const stats = (await (await fetch(`${env.PAPER_VENUE_URL}/v1/stats`)).json()) as { ordersCreated: number };
      return stats.ordersCreated === orders.length;
    }, 60000);

    // The projection equals the fold of `executions`.
    const executions = await Promise.all((await readAll(env, pipeline.topics.executions)).map((m) => codec.decode('ExecutionReport', m.value!)));
    const want = [...foldPositions(executions).values()].map(positionRow)
      .map(({ account_id, symbol, venue: v, quantity, avg_price, realized_pnl }) => ({ account_id, symbol, venue: v, quantity, avg_price, realized_pnl }))
      .sort((a, b) => `${a.account_id}|${a.symbol}`.localeCompare(`${b.account_id}|${b.symbol}`));
    const live = async () => (await pool.query<{ account_id: string; symbol: string; venue: string; quantity: number; avg_price: number; realized_pnl: number }>(
      'SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl FROM positions')).rows
      .sort((a, b) => `${a.account_id}|${a.symbol}`.localeCompare(`${b.account_id}|${b.symbol}`));
    const rows = await waitFor('the projection caught up', async () => {
      const r = await live();
      return JSON.stringify(r) === JSON.stringify(want) ? r : null;
    }, 60000).catch(async () => live());
    assert.deepEqual(rows, want);
  });
});
