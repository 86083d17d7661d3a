// Arrow → Parquet through DuckDB. The installed DuckDB has no Arrow scan (no `arrow` extension offline,
// and @duckdb/node-api does not bind the C API's Arrow functions), and no JS library here writes Parquet.
// So the simplest reliable path: copy each Arrow record batch's columns into DuckDB data chunks (typed
// arrays for numbers, dictionaries decoded once), append them to a staging table, and let DuckDB's own
// Parquet writer do `COPY (SELECT ...) TO '<temp>' (FORMAT parquet)`. The same connection merges files
// for compaction and reads rows back to rebuild state.
import {
  DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType,
} from '@duckdb/node-api';
import type { Data, Table } from 'apache-arrow';
import { TWO_32 } from './arrowBatch.ts';
import type { Column, Dataset } from './columns.ts';

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const sqlList = (paths: readonly string[]): string => `[${paths.map(sqlString).join(', ')}]`;

// Timestamps travel as epoch-ms BIGINT and become TIMESTAMP in the COPY's SELECT. Dictionary columns
// travel as their codes and are looked up in a list literal there: handing DuckDB a JS string costs
// ~150 ns, and most of a row's strings are accounts, symbols, venues and sides.
// 64-bit integers travel as DOUBLE (exact below 2^53, which hlc, offsets and epoch ms are) so that no
// BigInt is made per cell on the way, and are cast back to BIGINT there.
const stageType = (c: Column): DuckDBType =>
  c.kind === 'float64' || c.kind === 'int64' || c.kind === 'timestamp' ? DOUBLE : c.kind === 'int32' || c.kind === 'dict' ? INTEGER : VARCHAR;
const stageSqlType = (c: Column): string => stageType(c).toString();
function outputExpr(c: Column, dictionaries: Map<string, string[]>): string {
  if (c.kind === 'timestamp') return `make_timestamp(CAST(${c.name} AS BIGINT) * 1000) AS ${c.name}`;
  if (c.kind === 'int64') return `CAST(${c.name} AS BIGINT) AS ${c.name}`;
  if (c.kind !== 'dict') return c.name;
  const keys = dictionaries.get(c.name) ?? [];
  return keys.length === 0 ? `CAST(NULL AS VARCHAR) AS ${c.name}` : `list_extract(${sqlList(keys)}, ${c.name} + 1) AS ${c.name}`;
}

/** One dictionary per column across a table's batches (each batch may carry its own). */
class Dictionaries {
  readonly keys = new Map<string, string[]>();
  private readonly codes = new Map<string, Map<string, number>>();
  /** Batch code → unified code. */
  remap(column: string, batchKeys: string[]): Int32Array {
    let keys = this.keys.get(column);
    let codes = this.codes.get(column);
    if (!keys || !codes) { this.keys.set(column, (keys = [])); this.codes.set(column, (codes = new Map())); }
    const out = new Int32Array(batchKeys.length);
    batchKeys.forEach((k, i) => {
      let c = codes.get(k);
      if (c === undefined) { c = keys.length; keys.push(k); codes.set(k, c); }
      out[i] = c;
    });
    return out;
  }
}

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

const isValid = (d: Data, i: number): boolean => {
  if (d.nullCount === 0 || !d.nullBitmap) return true;
  const j = d.offset + i;
  return ((d.nullBitmap[j >> 3] >> (j & 7)) & 1) === 1;
};

/** Copies rows [from, from + n) of one Arrow column into a DuckDB vector. */
function fillVector(chunk: DuckDBDataChunk, col: number, kind: Column['kind'], d: Data, from: number, n: number, remap: Int32Array | undefined): void {
  const vec = chunk.getColumnVector(col) as unknown as { setItem(i: number, v: unknown): void; flush(): void };
  const o = d.offset + from;
  switch (kind) {
    case 'dict': {
      const codes = d.values as Int32Array;
      for (let i = 0; i < n; i++) vec.setItem(i, isValid(d, from + i) ? remap![codes[o + i]] : null);
      break;
    }
    case 'string': {
      const offsets = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) vec.setItem(i, isValid(d, from + i) ? buf.toString('utf8', offsets[o + i], offsets[o + i + 1]) : null);
      break;
    }
    case 'int64':
    case 'timestamp': {
      const values = d.values as BigInt64Array;
      const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
      for (let i = 0; i < n; i++) {
        const lo = words[2 * (o + i)];
        const hi = words[2 * (o + i) + 1];
        vec.setItem(i, isValid(d, from + i) ? (hi >= 0x80000000 ? hi - TWO_32 : hi) * TWO_32 + lo : null);
      }
      break;
    }
    default: {
      // Float64 and Int32: the values are a typed array of the staging type.
      const values = d.values as Float64Array | Int32Array;
      for (let i = 0; i < n; i++) vec.setItem(i, isValid(d, from + i) ? values[o + i] : null);
    }
  }
  vec.flush();
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
      await con.run(`CREATE TEMP TABLE ${table} (${dataset.columns.map((c) => `${c.name} ${stageSqlType(c)}`).join(', ')})`);
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
      const types = dataset.columns.map(stageType);
      const chunk = DuckDBDataChunk.create(types);
      const dictionaries = new Dictionaries();
      const size = 2048;
      try {
        for (const batch of table.batches) {
          const datas = dataset.columns.map((c) => {
            const child = batch.getChild(c.name);
            if (!child) throw new Error(`arrow batch has no column ${c.name}`);
            return child.data[0];
          });
          const remaps = datas.map((d, c) => (dataset.columns[c].kind === 'dict' ? dictionaries.remap(dataset.columns[c].name, d.dictionary!.toArray() as string[]) : undefined));
          for (let from = 0; from < batch.numRows; from += size) {
            const n = Math.min(size, batch.numRows - from);
            chunk.reset();
            chunk.rowCount = n;
            for (let c = 0; c < datas.length; c++) fillVector(chunk, c, dataset.columns[c].kind, datas[c], from, n, remaps[c]);
            appender.appendDataChunk(chunk);
          }
        }
      } finally {
        appender.closeSync();
      }
      const select = dataset.columns.map((c) => outputExpr(c, dictionaries.keys)).join(', ');
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
