// Arrow → Parquet through DuckDB. The installed DuckDB has no Arrow scan (no `arrow` extension offline,
// and @duckdb/node-api does not bind the C API's Arrow functions), and no JS library here writes Parquet.
// So the simplest reliable path: copy each Arrow record batch's buffers into DuckDB data chunks
// (arrowToDuckdb.ts), append them to a staging table, and let DuckDB's own Parquet writer do
// `COPY (SELECT ...) TO '<temp>' (FORMAT parquet)`. The same connections merge files for compaction
// and read rows back to rebuild state.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { appendTable, outputSelect, sqlList, sqlString, stageColumns } from './arrowToDuckdb.ts';
import type { Dataset } from './columns.ts';

export { sqlString };

const PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)';

export interface ParquetWriter {
  /** Writes `table` (rows of `dataset`) to `path` as one Parquet file; returns the row count. */
  write(dataset: Dataset, table: Table, path: string): Promise<number>;
  /** Writes the rows of `files` into `path`, in Kafka offset order; returns the row count. */
  merge(files: readonly string[], path: string): Promise<number>;
  /** Streams the rows of `files` (in offset order) as records, for rebuilding state; `where` filters. */
  readRecords(dataset: Dataset, files: readonly string[], onRecord: (rec: Record<string, unknown>) => void, where?: string): Promise<number>;
  close(): void;
}

interface Lane { con: DuckDBConnection; staged: Set<string> }

/**
 * `lanes` connections, each with its own staging tables (DuckDB temp tables are per connection), so
 * several partitions can be written at once: one builds its data chunks in JS while DuckDB's threads
 * encode another's Parquet.
 */
export async function createParquetWriter(opts: { threads?: number; lanes?: number } = {}): Promise<ParquetWriter> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(opts.threads ?? 2) });
  const idle: Lane[] = [];
  const waiting: ((lane: Lane) => void)[] = [];
  let open = 0;
  const max = opts.lanes ?? 3;

  async function withLane<T>(fn: (lane: Lane) => Promise<T>): Promise<T> {
    let lane = idle.pop();
    if (!lane && open < max) {
      open++;
      lane = { con: await instance.connect(), staged: new Set() };
    }
    if (!lane) lane = await new Promise<Lane>((resolve) => waiting.push(resolve));
    try {
      return await fn(lane);
    } finally {
      const next = waiting.shift();
      if (next) next(lane);
      else idle.push(lane);
    }
  }

  async function stage({ con, staged }: Lane, dataset: Dataset): Promise<string> {
    const table = `stage_${dataset.view}`;
    if (!staged.has(table)) {
      await con.run(`CREATE TEMP TABLE ${table} (${stageColumns(dataset)})`);
      staged.add(table);
    }
    return table;
  }

  return {
    write: (dataset, table, path) => withLane(async (lane) => {
      const { con } = lane;
      const stageTable = await stage(lane, dataset);
      await con.run(`TRUNCATE ${stageTable}`);
      const appender = await con.createAppender(stageTable);
      let dictionaries: Map<string, string[]>;
      try {
        dictionaries = appendTable(appender, dataset, table);
      } finally {
        appender.closeSync();
      }
      const select = outputSelect(dataset, dictionaries);
      const copied = await con.run(`COPY (SELECT ${select} FROM ${stageTable}) TO ${sqlString(path)} ${PARQUET_OPTIONS}`);
      await con.run(`TRUNCATE ${stageTable}`);
      return Number(copied.rowsChanged);
    }),

    merge: (files, path) => withLane(async ({ con }) => {
      const r = await con.run(`COPY (SELECT * FROM read_parquet(${sqlList(files)}, union_by_name = true, hive_partitioning = false) ORDER BY kafka_offset) TO ${sqlString(path)} ${PARQUET_OPTIONS}`);
      return Number(r.rowsChanged);
    }),

    readRecords: (dataset, files, onRecord, where) => withLane(async ({ con }) => {
      if (files.length === 0) return 0;
      const cols = dataset.columns.filter((c) => c.field);
      const sql = `SELECT ${cols.map((c) => (c.kind === 'timestamp' ? `epoch_ms(${c.name})` : c.name)).join(', ')}
        FROM read_parquet(${sqlList(files)}, union_by_name = true, hive_partitioning = false)
        ${where ? `WHERE ${where}` : ''} ORDER BY kafka_offset`;
      const result = await con.stream(sql);
      let n = 0;
      for await (const rows of result.yieldRowsJs()) {
        for (const row of rows) {
          const rec: Record<string, unknown> = {};
          for (let i = 0; i < cols.length; i++) {
            const v = row[i];
            rec[cols[i].field!] = typeof v === 'bigint' ? Number(v) : v;
          }
          onRecord(rec);
          n++;
        }
      }
      return n;
    }),

    close() {
      for (const lane of idle) lane.con.closeSync();
      instance.closeSync();
    },
  };
}
