// Arrow → DuckDB → Parquet keeps every value and every null, across chunk boundaries and dictionaries.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { toArrowTable } from '../../analytics/sink/arrowBatch.ts';
import { executionsDataset, type RowContext } from '../../analytics/columns.ts';
import { createParquetWriter, type ParquetWriter } from '../../analytics/sink/parquet.ts';
import type { ExecType, ExecutionReport } from '../../schemas/types.ts';

const TYPES: ExecType[] = ['ACK', 'FILL', 'PARTIAL_FILL', 'CORRECTION'];

// Nulls on irregular strides so that they fall anywhere relative to 2048-row chunks and 8-row bitmap bytes.
const row = (i: number): RowContext<ExecutionReport> => ({
  partition: 2, offset: 1_000_000_000_000 + i,
  pnl: i % 11 === 0 ? null : { realized: i * 0.25 - 7, fees: 0.01 * i, quantity: i % 5 === 0 ? null : -i, avgPrice: 100 + i / 3 },
  rec: {
    executionId: `é-${i}-✓`, type: TYPES[i % 4], orderId: `o${i}`, clientOrderId: `c${i}`, venueOrderId: i % 3 === 0 ? null : `v${i}`,
    venueTradeId: i % 7 === 0 ? null : '', signalId: `s${i}`, account: `ACC-${i % 3}`, strategy: i % 13 === 0 ? 'ünïcode' : 'trend-1',
    symbol: ['AAPL', 'BTCUSD'][i % 2], venue: 'paper', side: i % 2 ? 'BUY' : 'SELL', lastQty: i / 8, lastPrice: 1e6 + i, cumQty: i,
    leavesQty: -0, fee: i % 17 === 0 ? 0 : 1e-9 * i, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: i % 9 === 0 ? `f${i - 1}` : null, reason: null,
    venueTime: i % 6 === 0 ? null : 1_795_000_000_000 + i, recordedAt: 1_795_000_000_000 + i, hlc: 1_795_000_000_000_000 + i,
  },
});

describe('Arrow to Parquet', () => {
  let dir: string;
  let writer: ParquetWriter;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'sink-arrow-')); writer = await createParquetWriter({ lanes: 1 }); });
  after(async () => { writer?.close(); await rm(dir, { recursive: true, force: true }); });

  it('round-trips 5000 rows with nulls, unicode, dictionaries and 64-bit values exactly', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => row(i));
    const path = join(dir, 'x.parquet');
    assert.equal(await writer.write(executionsDataset, toArrowTable(executionsDataset, rows), path), rows.length);
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const read = await con.runAndReadAll(`SELECT *, epoch_ms(venue_time) AS vt, epoch_ms(recorded_at) AS rt FROM read_parquet('${path}') ORDER BY kafka_offset`);
    const got = read.getRowObjectsJS();
    assert.equal(got.length, rows.length);
    for (const [i, r] of rows.entries()) {
      const g = got[i];
      const want: Record<string, unknown> = {};
      for (const c of executionsDataset.columns) want[c.name] = c.get(r);
      for (const c of executionsDataset.columns) {
        const v = c.kind === 'timestamp' ? (g[c.name === 'venue_time' ? 'vt' : 'rt'] === null ? null : Number(g[c.name === 'venue_time' ? 'vt' : 'rt'])) : g[c.name];
        const norm = typeof v === 'bigint' ? Number(v) : v;
        assert.deepEqual(norm, want[c.name], `row ${i} column ${c.name}`);
      }
    }
  });

  it('reads a table of several batches whose dictionaries differ', async () => {
    // given two batches: the second's dictionary starts with a value the first has at another code
    const first = toArrowTable(executionsDataset, [row(1), row(2), row(3)]);
    const second = toArrowTable(executionsDataset, [row(2), row(0)]);
    const both = first.concat(second);
    assert.equal(both.batches.length, 2);
    const path = join(dir, 'two.parquet');
    assert.equal(await writer.write(executionsDataset, both, path), 5);
    const accounts: string[] = [];
    await writer.readRecords(executionsDataset, [path], (r) => { accounts.push(String(r.account)); });
    // read back in offset order: rows 0, 1, 2, 2, 3
    assert.deepEqual(accounts, ['ACC-0', 'ACC-1', 'ACC-2', 'ACC-2', 'ACC-0']);
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const r = await con.runAndReadAll(`SELECT account, side FROM read_parquet('${path}')`);
    assert.deepEqual(r.getRows(), [['ACC-1', 'BUY'], ['ACC-2', 'SELL'], ['ACC-0', 'BUY'], ['ACC-2', 'SELL'], ['ACC-0', 'SELL']]);
  });

  it('merges files back in offset order', async () => {
    const a = join(dir, 'a.parquet');
    const b = join(dir, 'b.parquet');
    await writer.write(executionsDataset, toArrowTable(executionsDataset, [row(3), row(4)]), b);
    await writer.write(executionsDataset, toArrowTable(executionsDataset, [row(1), row(2)]), a);
    assert.equal(await writer.merge([b, a], join(dir, 'm.parquet')), 4);
    const offsets: number[] = [];
    await writer.readRecords(executionsDataset, [join(dir, 'm.parquet')], (r) => { offsets.push(Number(r.hlc) % 1000); });
    assert.deepEqual(offsets, [1, 2, 3, 4]);
  });
});
