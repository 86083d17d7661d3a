// Arrow record batches as a DuckDB table function, so that `COPY (SELECT ... FROM sink_batch(<id>)) TO
// 'x.parquet'` streams them straight into DuckDB's Parquet writer with no table in between.
// Each output chunk is filled by copying Arrow's buffers: one memcpy per fixed-width column (values and
// validity bitmaps share Arrow's and DuckDB's layouts: little-endian values, LSB-first validity bits),
// and each string's UTF-8 bytes handed over without decoding them to JS. @duckdb/node-api's per-value
// setters cost ~100 ns a cell and an appender into a staging table as much again, so this uses the C API
// bindings node-api is built on (@duckdb/node-bindings, the same version).
import duckdb from '@duckdb/node-bindings';
import {
  BIGINT, DOUBLE, DuckDBTableFunction, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBDataChunk, type DuckDBType,
} from '@duckdb/node-api';
import type { Data, RecordBatch, Table } from 'apache-arrow';
import type { Column, Dataset } from '../columns.ts';

import { sqlList, sqlString } from '../sql.ts';

export { sqlList, sqlString };

// Timestamps travel as epoch-ms BIGINT and become TIMESTAMP in the COPY's SELECT. Dictionary columns
// travel as their codes and are looked up in a list literal there, so an account or a side is never
// handed over as a string per row.
const scanType = (c: Column): DuckDBType =>
  c.kind === 'float64' ? DOUBLE : c.kind === 'int64' || c.kind === 'timestamp' ? BIGINT : c.kind === 'string' ? VARCHAR : INTEGER;

/** One dictionary per column across a table's batches (each batch may carry its own). */
class Dictionaries {
  readonly keys = new Map<string, string[]>();
  private readonly codes = new Map<string, Map<string, number>>();
  /** Batch code → unified code, or null when they are the same. */
  remap(column: string, batchKeys: string[]): Int32Array | null {
    let keys = this.keys.get(column);
    let codes = this.codes.get(column);
    if (!keys || !codes) { this.keys.set(column, (keys = [])); this.codes.set(column, (codes = new Map())); }
    const out = new Int32Array(batchKeys.length);
    let identity = true;
    batchKeys.forEach((k, i) => {
      let c = codes.get(k);
      if (c === undefined) { c = keys.length; keys.push(k); codes.set(k, c); }
      out[i] = c;
      identity &&= c === i;
    });
    return identity ? null : out;
  }
}

interface Prepared {
  dataset: Dataset;
  batches: { batch: RecordBatch; datas: Data[]; remaps: (Int32Array | null)[] }[];
  dictionaries: Map<string, string[]>;
}

function prepare(dataset: Dataset, table: Table): Prepared {
  const dictionaries = new Dictionaries();
  const batches = table.batches.map((batch) => {
    const datas = dataset.columns.map((c) => {
      const child = batch.getChild(c.name);
      if (!child) throw new Error(`arrow batch has no column ${c.name}`);
      return child.data[0];
    });
    const remaps = datas.map((d, k) => (dataset.columns[k].kind === 'dict' ? dictionaries.remap(dataset.columns[k].name, d.dictionary!.toArray() as string[]) : null));
    return { batch, datas, remaps };
  });
  return { dataset, batches, dictionaries: dictionaries.keys };
}

/** The SELECT list over `sink_batch(...)` that gives the Parquet file its real types. */
export function outputSelect(p: Prepared): string {
  return p.dataset.columns.map((c) => {
    if (c.kind === 'timestamp') return `make_timestamp(${c.name} * 1000) AS ${c.name}`;
    if (c.kind !== 'dict') return c.name;
    const keys = p.dictionaries.get(c.name) ?? [];
    return keys.length === 0 ? `CAST(NULL AS VARCHAR) AS ${c.name}` : `list_extract(${sqlList(keys)}, ${c.name} + 1) AS ${c.name}`;
  }).join(', ');
}

type Fixed = Float64Array | Int32Array | BigInt64Array;

/** DuckDB's vector size: the most rows a data chunk holds. */
const CHUNK_ROWS = 2048;

function copyFixed(raw: duckdb.Vector, values: Fixed, at: number, n: number): void {
  const size = values.BYTES_PER_ELEMENT;
  duckdb.copy_data_to_vector(raw, 0, values.buffer as ArrayBuffer, values.byteOffset + at * size, n * size);
}

function copyValidity(raw: duckdb.Vector, d: Data, at: number, n: number): void {
  if (d.nullCount === 0 || !d.nullBitmap) return;
  duckdb.vector_ensure_validity_writable(raw);
  const bitmap = d.nullBitmap;
  if (at % 8 === 0) {
    duckdb.copy_data_to_vector_validity(raw, 0, bitmap.buffer as ArrayBuffer, bitmap.byteOffset + at / 8, Math.ceil(n / 8));
    return;
  }
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if ((bitmap[(at + i) >> 3] >> ((at + i) & 7)) & 1) bits[i >> 3] |= 1 << (i & 7);
  duckdb.copy_data_to_vector_validity(raw, 0, bits.buffer, 0, bits.length);
}

function fill(raw: duckdb.Vector, kind: Column['kind'], d: Data, from: number, n: number, remap: Int32Array | null): void {
  const at = d.offset + from;
  if (kind === 'string') {
    const offsets = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    const valid = d.nullCount === 0 || !d.nullBitmap ? null : d.nullBitmap;
    for (let i = 0; i < n; i++) {
      const j = at + i;
      if (valid && !((valid[j >> 3] >> (j & 7)) & 1)) continue;
      duckdb.vector_assign_string_element_len(raw, i, bytes.subarray(offsets[j], offsets[j + 1]));
    }
  } else if (kind === 'dict' && remap) {
    const codes = d.values as Int32Array;
    const mapped = new Int32Array(n);
    for (let i = 0; i < n; i++) mapped[i] = remap[codes[at + i]];
    copyFixed(raw, mapped, 0, n);
  } else {
    copyFixed(raw, d.values as Fixed, at, n);
  }
  copyValidity(raw, d, at, n);
}

/** Fills `output` with the next rows; returns how many (0 once the table is done). */
function nextChunk(p: Prepared, pos: { batch: number; from: number }, output: DuckDBDataChunk): number {
  while (pos.batch < p.batches.length && pos.from >= p.batches[pos.batch].batch.numRows) { pos.batch++; pos.from = 0; }
  if (pos.batch >= p.batches.length) { output.rowCount = 0; return 0; }
  const { batch, datas, remaps } = p.batches[pos.batch];
  const n = Math.min(CHUNK_ROWS, batch.numRows - pos.from);
  // The row count first: it sizes the vectors written below.
  output.rowCount = n;
  const columns = p.dataset.columns;
  for (let k = 0; k < columns.length; k++) fill(duckdb.data_chunk_get_vector(output.chunk, k), columns[k].kind, datas[k], pos.from, n, remaps[k]);
  pos.from += n;
  return n;
}

export interface BatchScan {
  /** Runs `sql(tableExpression, selectList)` with the table readable as `tableExpression` meanwhile. */
  with<T>(dataset: Dataset, table: Table, run: (from: string, select: string) => Promise<T>): Promise<T>;
}

/**
 * Registers `sink_batch(id)`, reading the Arrow tables handed to `with`. The function lives in the
 * database's catalog, not the connection's: register it once per DuckDB instance, and share the result
 * among that instance's connections.
 */
export function registerBatchScan(con: DuckDBConnection): BatchScan {
  const pending = new Map<number, Prepared>();
  let nextId = 0;
  const scan = (id: number): Prepared => {
    const p = pending.get(id);
    if (!p) throw new Error(`sink_batch(${id}): no such batch`);
    return p;
  };
  con.registerTableFunction(DuckDBTableFunction.create({
    name: 'sink_batch',
    parameterTypes: [INTEGER],
    bindFunction: (info) => {
      const id = info.getParameter(0) as number;
      for (const c of scan(id).dataset.columns) info.addResultColumn(c.name, scanType(c));
      info.setBindData({ id });
    },
    initFunction: (info) => { info.setInitData({ batch: 0, from: 0 }); },
    mainFunction: (info, output) => {
      nextChunk(scan((info.bindData as { id: number }).id), info.initData as { batch: number; from: number }, output);
    },
  }));
  return {
    async with(dataset, table, run) {
      const id = nextId++;
      const p = prepare(dataset, table);
      pending.set(id, p);
      try {
        return await run(`sink_batch(${id})`, outputSelect(p));
      } finally {
        pending.delete(id);
      }
    },
  };
}
