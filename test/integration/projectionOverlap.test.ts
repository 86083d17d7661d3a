// Two projection instances writing one partition at once, as they do for a moment during a rebalance
// (the old owner still in its transaction, the new one starting from the offsets in Postgres). Before
// a partition's first write there is no offsets row to lock; both must still take turns, and the
// second must see what the first wrote instead of inserting the same executions again (a unique
// violation that stopped both projection processes in a rolling deploy).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecutionReport } from '../../schemas/types.ts';
import { foldPositions, positionRow } from '../../streams/positions/fold.ts';
import type { IncomingExecution } from '../../streams/projection/core.ts';
import { createPgStore } from '../../streams/projection/pgStore.ts';
import { createProjector } from '../../streams/projection/projector.ts';
import { createPool, migrate } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { isolatedEnv } from '../helpers/env.ts';

const fill = (i: number): ExecutionReport => ({
  executionId: `paper-t${i}`, type: 'FILL', orderId: `o${i}`, clientOrderId: `c${i}`, venueOrderId: `v${i}`, venueTradeId: `t${i}`,
  signalId: `s${i}`, account: 'ACC-1', strategy: 'trend-1', symbol: i % 2 === 0 ? 'AAPL' : 'MSFT', venue: 'paper', side: i % 3 === 0 ? 'SELL' : 'BUY',
  lastQty: 1 + (i % 4), lastPrice: 100 + i / 4, cumQty: 1 + (i % 4), leavesQty: 0, fee: 0.01 * i, feeAsset: null, feeInAsset: null, netQty: null,
  refExecutionId: null, reason: null, venueTime: 1_700_000_000_000 + i, recordedAt: 1_700_000_000_000 + i, hlc: 1_700_000_000_000_000 + i,
});

describe('projection: two owners of one partition at once', () => {
  const runtime = loadRuntimeEnv(isolatedEnv());
  let pool: ReturnType<typeof createPool>;

  before(async () => {
    await migrate(runtime);
    pool = createPool(runtime, 4);
  });
  after(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${runtime.PG_SCHEMA} CASCADE`).catch(() => {});
    await pool?.end();
  });

  it('given a partition never written, then both batches commit and every execution is stored once', async () => {
    const events = Array.from({ length: 40 }, (_, i) => fill(i));
    const messages: IncomingExecution[] = events.map((event, i) => ({ offset: String(i), event }));
    const owners = [0, 1].map(() => createProjector(createPgStore(pool, 'projection', 'executions')));
    // The new owner's batch starts where the old one's did, and overlaps it.
    const results = await Promise.allSettled([owners[0].applyBatch(3, messages.slice(0, 30)), owners[1].applyBatch(3, messages)]);
    assert.deepEqual(results.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok'), ['ok', 'ok']);

    const { rows } = await pool.query<{ execution_id: string; n: string }>('SELECT execution_id, count(*) AS n FROM executions GROUP BY execution_id');
    assert.equal(rows.length, events.length, 'every execution stored');
    assert.ok(rows.every((r) => Number(r.n) === 1), 'none twice');
    const offsets = await pool.query<{ next_offset: string }>(`SELECT next_offset FROM consumer_offsets WHERE consumer = 'projection' AND kafka_partition = 3`);
    assert.equal(offsets.rows[0]?.next_offset, String(events.length));
    const live = (await pool.query<{ account_id: string; symbol: string; quantity: string; fill_count: string }>('SELECT account_id, symbol, quantity, fill_count FROM positions ORDER BY symbol')).rows;
    const want = [...foldPositions(events).values()].map(positionRow).sort((a, b) => a.symbol.localeCompare(b.symbol));
    assert.deepEqual(live.map((r) => [r.symbol, Number(r.quantity), Number(r.fill_count)]), want.map((w) => [w.symbol, w.quantity, w.fill_count]));
  });
});
