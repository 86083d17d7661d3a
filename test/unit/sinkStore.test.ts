// The sink's write path without Kafka: Arrow → Parquet files, manifest, reconcile after a crash,
// compaction, and the DuckDB views over the result. Real DuckDB and files in a temp folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAnalyticsFiles } from '../../analytics/query/cli.ts';
import { executionsDataset, ordersDataset, type RowContext } from '../../analytics/columns.ts';
import { openAnalyticsDb, QueryError } from '../../analytics/query/db.ts';
import { emptyManifest, type Manifest } from '../../analytics/sink/manifest.ts';
import { createParquetWriter, type ParquetWriter } from '../../analytics/sink/parquet.ts';
import { createPnlFold } from '../../analytics/pnlFold.ts';
import { compactPartition, loadManifest, reconcilePartition, writeBatch } from '../../analytics/sink/store.ts';
import type { ExecutionReport, Order, Side } from '../../schemas/types.ts';
import { foldPositions, positionRow } from '../../streams/positions/fold.ts';
import { testLog } from '../helpers/env.ts';

const DAY1 = Date.UTC(2026, 10, 22, 23, 59);
const DAY2 = Date.UTC(2026, 10, 23, 0, 1);
let n = 0;
const fill = (side: Side, qty: number, price: number, ms: number, over: Partial<ExecutionReport> = {}): ExecutionReport => {
  n++;
  return {
    executionId: `e${n}`, type: 'FILL', orderId: `o${n}`, clientOrderId: `c${n}`, venueOrderId: null, venueTradeId: `t${n}`, signalId: `s${n}`,
    account: 'ACC-1', strategy: 'trend-1', symbol: 'AAPL', venue: 'paper', side, lastQty: qty, lastPrice: price, cumQty: qty, leavesQty: 0,
    fee: 0.01 * qty, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: ms, recordedAt: ms, hlc: ms * 1000 + n, ...over,
  };
};
const order = (e: ExecutionReport, arrivalMid: number, signalPrice: number): Order => ({
  orderId: e.orderId, clientOrderId: e.clientOrderId, signalId: e.signalId, decisionId: `d-${e.orderId}`, account: e.account,
  strategy: e.strategy, symbol: e.symbol, venue: e.venue, side: e.side, quantity: e.lastQty, orderType: 'MARKET', limitPrice: null,
  timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice, arrivalMid, createdAt: e.recordedAt - 5, hlc: e.hlc - 5000,
});

describe('analytics store', () => {
  let root: string;
  let writer: ParquetWriter;
  const log = testLog();
  let fold = createPnlFold();
  let m: Manifest;
  const events: ExecutionReport[] = [];

  const write = async (batch: ExecutionReport[], fault?: Parameters<typeof writeBatch>[0]['fault']) => {
    const rows: RowContext<ExecutionReport>[] = batch.map((rec, i) => ({ rec, partition: 0, offset: m.nextOffset + i, pnl: null }));
    const effects = fold.applyBatch(batch);
    rows.forEach((r, i) => { r.pnl = effects[i]; });
    m = await writeBatch({ root, writer, dataset: executionsDataset, manifest: m, rows, nextOffset: m.nextOffset + batch.length, fault });
    events.push(...batch);
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sink-store-'));
    writer = await createParquetWriter();
    m = emptyManifest('executions', 0);
  });
  after(async () => {
    writer?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('writes one file per day per batch, listed with rows, offsets and sha256', async () => {
    // given a batch that spans midnight: long 10 @ 100 on day 1, sell 4 @ 110 on day 2
    const batch = [fill('BUY', 10, 100, DAY1), fill('SELL', 4, 110, DAY2, { strategy: 'meanrev-2' })];
    await write(batch);
    assert.deepEqual(m.files.map((f) => [f.path, f.rows, f.firstOffset, f.lastOffset]), [
      ['executions/date=2026-11-22/0-0-0.parquet', 1, 0, 0],
      ['executions/date=2026-11-23/0-1-1.parquet', 1, 1, 1],
    ]);
    assert.equal(m.nextOffset, 2);
    assert.deepEqual(await loadManifest(root, 'executions', 0), m, 'the manifest on disk is the one returned');
    const v = await verifyAnalyticsFiles(root);
    assert.deepEqual(v, { files: 2, problems: [] });
  });

  it('leaves nothing behind when the process dies between rename and manifest: the next start removes the file', async () => {
    const crash = () => { throw new Error('killed after rename'); };
    await assert.rejects(() => write([fill('BUY', 5, 90, DAY2)], (point) => { if (point === 'renamed') crash(); }), /killed after rename/);
    const orphan = join(root, 'executions/date=2026-11-23/0-2-2.parquet');
    assert.ok(existsSync(orphan), 'the renamed file is there');
    await writeFile(join(root, 'executions/date=2026-11-23/.0-3-3.parquet.1-x.tmp'), 'half a file');
    // when the partition is reconciled, as the sink does on start
    m = await reconcilePartition(root, 'executions', 0, log);
    // then the orphan and the temp are gone and the manifest still ends at offset 2
    assert.equal(existsSync(orphan), false);
    assert.deepEqual(await readdir(join(root, 'executions/date=2026-11-23')), ['0-1-1.parquet']);
    assert.equal(m.nextOffset, 2);
  });

  it('answers P&L from the views equal to the position fold, to the cent', async () => {
    // a fresh fold, as a restarted sink rebuilds it from the files
    const rebuilt = createPnlFold();
    const again = await writer.readRecords(executionsDataset, m.files.map((f) => join(root, f.path)), (r) => { rebuilt.apply(r as unknown as ExecutionReport); });
    assert.equal(again, 2);
    assert.deepStrictEqual(rebuilt.states(), foldPositions(events));
    fold = rebuilt;
    const more = [fill('SELL', 8, 95, DAY2), fill('BUY', 2, 97, DAY2, { account: 'ACC-2', symbol: 'MSFT' })];
    const o = emptyManifest('orders', 0);
    await writeBatch({
      root, writer, dataset: ordersDataset, manifest: o, nextOffset: events.length + more.length,
      rows: [...events, ...more].map((e, i) => {
        const worse = e.side === 'BUY' ? -1 : 1;
        return { rec: order(e, e.lastPrice + worse * 0.05, e.lastPrice + worse * 0.1), partition: 0, offset: i, pnl: null };
      }),
    });
    await write(more);

    const db = await openAnalyticsDb({ dir: root, timeoutMs: 5000, maxRows: 100 });
    try {
      const r = await db.query('SELECT account, symbol, quantity, avg_price, realized_pnl, fees, unrealized_pnl FROM positions ORDER BY account, symbol');
      const expected = [...foldPositions(events).values()].map(positionRow).sort((a, b) => a.account_id.localeCompare(b.account_id));
      assert.deepEqual(r.rows.map((x) => [x[0], x[1], x[2], Math.round((x[4] as number) * 100) / 100]),
        expected.map((p) => [p.account_id, p.symbol, p.quantity, Math.round(p.realized_pnl * 100) / 100]));
      // long 10 @ 100, sold 4 @ 110 (+40) and 8 @ 95 (−30 on 6, then short 2 @ 95): realized 10
      assert.equal(r.rows[0][4], 10);
      const byDay = await db.pnl({ by: ['strategy', 'day'] });
      assert.deepEqual(byDay.rows.map((x) => [x[0], x[1], x[5]]), [['meanrev-2', '2026-11-23', 40], ['trend-1', '2026-11-22', 0], ['trend-1', '2026-11-23', -30]]);
      // every fill paid 0.05 over the arrival mid on buys, received 0.05 under on sells: a cost either way
      const slip = await db.query("SELECT round(min(slippage_arrival_bps), 4), round(max(order_to_fill_ms), 1) FROM fills WHERE symbol = 'AAPL'");
      assert.ok((slip.rows[0][0] as number) > 0, 'slippage is a positive cost');
      assert.equal(slip.rows[0][1], 5);
    } finally {
      db.close();
    }
  });

  it('refuses writes, other files and settings in the query database, and caps time and rows', async () => {
    const db = await openAnalyticsDb({ dir: root, timeoutMs: 300, maxRows: 3 });
    try {
      const refused = async (sql: string, code: string, pattern: RegExp) => {
        await assert.rejects(() => db.query(sql), (e: unknown) => (e as QueryError).code === code && pattern.test((e as Error).message), sql);
      };
      await refused('CREATE TABLE t AS SELECT 1', 'SQL_REFUSED', /CREATE/);
      await refused(`COPY fills TO '${root}/x.csv'`, 'SQL_REFUSED', /COPY/);
      await refused("SELECT * FROM read_csv('/etc/passwd')", 'BAD_SQL', /Permission Error.*\/etc\/passwd/);
      await refused('SELECT nope FROM fills', 'BAD_SQL', /nope/);
      await refused('SELECT count(*) FROM range(10000000000) a', 'QUERY_LIMIT', /^query exceeded its 300 ms time limit$/);
      const capped = await db.query('SELECT * FROM range(10)');
      assert.equal(capped.rows.length, 3);
      assert.equal(capped.truncated, true);
    } finally {
      db.close();
    }
  });

  it('compacts a day of small files into one, keeping every row and a valid checksum', async () => {
    for (let i = 0; i < 4; i++) await write([fill(i % 2 ? 'SELL' : 'BUY', 1, 100 + i, DAY2)]);
    const before = m.files.filter((f) => f.day === '2026-11-23');
    const rows = before.reduce((k, f) => k + f.rows, 0);
    // given a compaction that died after publishing its merged file, before the manifest write
    const merged = join(root, `executions/date=2026-11-23/0-1-${m.nextOffset - 1}.parquet`);
    await writer.merge(before.map((f) => join(root, f.path)), merged);
    // then the views still count each row once: the merged file contains the small files' ranges
    const db = await openAnalyticsDb({ dir: root, timeoutMs: 5000, maxRows: 10 });
    try {
      const total = m.files.reduce((k, f) => k + f.rows, 0);
      assert.deepEqual((await db.query('SELECT count(*), count(DISTINCT kafka_offset) FROM executions')).rows, [[total, total]]);
    } finally {
      db.close();
    }
    // and the next start removes the unlisted merged file
    m = await reconcilePartition(root, 'executions', 0, log);
    assert.equal(existsSync(merged), false);
    m = await compactPartition({ root, writer, manifest: m, smallRows: 100, minFiles: 2, log });
    const afterFiles = m.files.filter((f) => f.day === '2026-11-23');
    assert.equal(afterFiles.length, 1);
    assert.equal(afterFiles[0].rows, rows);
    assert.equal(afterFiles[0].path, `executions/date=2026-11-23/0-1-${m.nextOffset - 1}.parquet`);
    assert.deepEqual(await readdir(join(root, 'executions/date=2026-11-23')), ['0-1-7.parquet']);
    assert.deepEqual((await verifyAnalyticsFiles(root)).problems, []);
  });

  it('re-reads from before a listed file that went missing', async () => {
    await rm(join(root, 'executions/date=2026-11-23/0-1-7.parquet'));
    m = await reconcilePartition(root, 'executions', 0, log);
    assert.equal(m.nextOffset, 1);
    assert.deepEqual(m.files.map((f) => f.path), ['executions/date=2026-11-22/0-0-0.parquet']);
  });
});
