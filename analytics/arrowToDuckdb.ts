// Arrow record batches → DuckDB data chunks by copying Arrow's buffers: one memcpy per fixed-width column
// per chunk (values and validity bitmap share Arrow's and DuckDB's layouts: little-endian values,
// LSB-first validity bits), and each string's UTF-8 bytes handed over without decoding them to JS.
// The per-value setters of @duckdb/node-api cost ~100 ns a cell and were most of the sink's time, so
// this uses the C API bindings it is built on (@duckdb/node-bindings, the same version).
import duckdb from '@duckdb/node-bindings';
import { BIGINT, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBAppender, type DuckDBType } from '@duckdb/node-api';
import type { Data, Table } from 'apache-arrow';
import type { Column, Dataset } from './columns.ts';

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
export const sqlList = (items: readonly string[]): string => `[${items.map(sqlString).join(', ')}]`;

// Timestamps travel as epoch-ms BIGINT and become TIMESTAMP in the COPY's SELECT. Dictionary columns
// travel as their codes and are looked up in a list literal there, so an account or a side is never
// handed over as a string per row.
const stageType = (c: Column): DuckDBType =>
  c.kind === 'float64' ? DOUBLE : c.kind === 'int64' || c.kind === 'timestamp' ? BIGINT : c.kind === 'string' ? VARCHAR : INTEGER;

export const stageColumns = (d: Dataset): string => d.columns.map((c) => `${c.name} ${stageType(c).toString()}`).join(', ');

export function outputSelect(d: Dataset, dictionaries: ReadonlyMap<string, string[]>): string {
  return d.columns.map((c) => {
    if (c.kind === 'timestamp') return `make_timestamp(${c.name} * 1000) AS ${c.name}`;
    if (c.kind !== 'dict') return c.name;
    const keys = dictionaries.get(c.name) ?? [];
    return keys.length === 0 ? `CAST(NULL AS VARCHAR) AS ${c.name}` : `list_extract(${sqlList(keys)}, ${c.name} + 1) AS ${c.name}`;
  }).join(', ');
}

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

/** Appends every row of `table` (columns of `dataset`) and returns the dictionaries its SELECT needs. */
export function appendTable(appender: DuckDBAppender, dataset: Dataset, table: Table): Map<string, string[]> {
  const chunk = DuckDBDataChunk.create(dataset.columns.map(stageType));
  const vectors = dataset.columns.map((_, c) => duckdb.data_chunk_get_vector(chunk.chunk, c));
  const dictionaries = new Dictionaries();
  for (const batch of table.batches) {
    const datas = dataset.columns.map((c) => {
      const child = batch.getChild(c.name);
      if (!child) throw new Error(`arrow batch has no column ${c.name}`);
      return child.data[0];
    });
    const remaps = datas.map((d, c) => (dataset.columns[c].kind === 'dict' ? dictionaries.remap(dataset.columns[c].name, d.dictionary!.toArray() as string[]) : null));
    for (let from = 0; from < batch.numRows; from += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, batch.numRows - from);
      chunk.reset();
      for (let c = 0; c < datas.length; c++) fill(vectors[c], dataset.columns[c].kind, datas[c], from, n, remaps[c]);
      chunk.rowCount = n;
      appender.appendDataChunk(chunk);
    }
  }
  return dictionaries.keys;
}
