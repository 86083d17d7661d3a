// Rows → an Arrow table with the dataset's schema. Typed arrays and one UTF-8 buffer per string column
// are filled directly: apache-arrow's generic `vectorFromArray` is ~25x slower on strings, and the
// sink's throughput is mostly this step.
import {
  Dictionary, Float64, Int32, Int64, makeData, makeVector, Table, TimestampMillisecond, Utf8, type Vector,
} from 'apache-arrow';
import type { Column, Dataset, RowContext } from '../columns.ts';

type Cell = string | number | null | undefined;

/** Collects a validity bitmap as values are written; allocated only once a null is seen. */
class Validity {
  nullCount = 0;
  private bitmap: Uint8Array | undefined;
  private readonly length: number;
  constructor(length: number) { this.length = length; }
  null(i: number): void {
    if (!this.bitmap) this.bitmap = new Uint8Array((this.length + 7) >> 3).fill(0xff);
    this.bitmap[i >> 3] &= ~(1 << (i & 7));
    this.nullCount++;
  }
  get nullBitmap(): Uint8Array | undefined { return this.bitmap; }
}

function utf8Vector(n: number, at: (i: number) => Cell): Vector {
  let buf = Buffer.allocUnsafe(Math.max(64, n * 24));
  const valueOffsets = new Int32Array(n + 1);
  const valid = new Validity(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v === null || v === undefined) valid.null(i);
    else {
      const s = typeof v === 'string' ? v : String(v);
      const need = pos + s.length * 3;
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, need));
        buf.copy(grown, 0, 0, pos);
        buf = grown;
      }
      pos += buf.write(s, pos, 'utf8');
    }
    valueOffsets[i + 1] = pos;
  }
  const data = new Uint8Array(buf.buffer, buf.byteOffset, pos);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: valid.nullCount, nullBitmap: valid.nullBitmap, valueOffsets, data }));
}

// Row-major collection: each record is read once for all its columns (24 column passes over 50k
// scattered objects cost more in cache misses than the work), into typed arrays so that no number is
// boxed on the way.
interface ColumnSink { put(i: number, v: Cell): void; finish(): Vector }

class StringSink implements ColumnSink {
  private readonly values: Cell[];
  constructor(n: number) { this.values = new Array<Cell>(n); }
  put(i: number, v: Cell): void { this.values[i] = v; }
  finish(): Vector { return utf8Vector(this.values.length, (i) => this.values[i]); }
}

class DictSink implements ColumnSink {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly codes: Int32Array;
  private readonly valid: Validity;
  private readonly n: number;
  constructor(n: number) { this.n = n; this.codes = new Int32Array(n); this.valid = new Validity(n); }
  put(i: number, v: Cell): void {
    if (v === null || v === undefined) { this.valid.null(i); return; }
    const s = typeof v === 'string' ? v : String(v);
    let k = this.index.get(s);
    if (k === undefined) { k = this.keys.length; this.keys.push(s); this.index.set(s, k); }
    this.codes[i] = k;
  }
  finish(): Vector {
    const dictionary = utf8Vector(this.keys.length, (i) => this.keys[i]);
    return makeVector(makeData({
      type: new Dictionary(new Utf8(), new Int32()), length: this.n, nullCount: this.valid.nullCount, nullBitmap: this.valid.nullBitmap,
      data: this.codes, dictionary,
    }));
  }
}

class NumberSink implements ColumnSink {
  private readonly data: Float64Array | Int32Array;
  private readonly valid: Validity;
  private readonly kind: 'float64' | 'int32';
  private readonly n: number;
  constructor(kind: 'float64' | 'int32', n: number) {
    this.kind = kind;
    this.n = n;
    this.data = kind === 'float64' ? new Float64Array(n) : new Int32Array(n);
    this.valid = new Validity(n);
  }
  put(i: number, v: Cell): void {
    if (v === null || v === undefined) this.valid.null(i);
    else this.data[i] = v as number;
  }
  finish(): Vector {
    const type = this.kind === 'float64' ? new Float64() : new Int32();
    return makeVector(makeData({ type, length: this.n, nullCount: this.valid.nullCount, nullBitmap: this.valid.nullBitmap, data: this.data } as never));
  }
}

const TWO_32 = 4294967296;

// 64-bit values are written as two 32-bit halves: a BigInt per value would be an allocation per cell.
// Our int64s (hlc, offsets, epoch ms) are below 2^53, so a JS number holds them exactly.
class Int64Sink implements ColumnSink {
  private readonly words: Uint32Array;
  private readonly valid: Validity;
  private readonly kind: 'int64' | 'timestamp';
  private readonly n: number;
  constructor(kind: 'int64' | 'timestamp', n: number) {
    this.kind = kind;
    this.n = n;
    this.words = new Uint32Array(n * 2);
    this.valid = new Validity(n);
  }
  put(i: number, v: Cell): void {
    if (v === null || v === undefined) { this.valid.null(i); return; }
    const x = Math.trunc(v as number);
    const hi = Math.floor(x / TWO_32);
    this.words[2 * i] = x - hi * TWO_32;
    this.words[2 * i + 1] = hi >>> 0;
  }
  finish(): Vector {
    const type = this.kind === 'timestamp' ? new TimestampMillisecond() : new Int64();
    return makeVector(makeData({
      type, length: this.n, nullCount: this.valid.nullCount, nullBitmap: this.valid.nullBitmap, data: new BigInt64Array(this.words.buffer),
    } as never));
  }
}

function columnSink(kind: Column['kind'], n: number): ColumnSink {
  switch (kind) {
    case 'string': return new StringSink(n);
    case 'dict': return new DictSink(n);
    case 'float64':
    case 'int32': return new NumberSink(kind, n);
    case 'int64':
    case 'timestamp': return new Int64Sink(kind, n);
    default: {
      const unhandled: never = kind;
      throw new Error(`unknown column kind ${String(unhandled)}`);
    }
  }
}

/** One record batch with every column of `dataset`, in the order given. */
export function toArrowTable<T>(dataset: Dataset<T>, rows: readonly RowContext<T>[]): Table {
  const columns = dataset.columns;
  const sinks = columns.map((c) => columnSink(c.kind, rows.length));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let k = 0; k < columns.length; k++) sinks[k].put(i, columns[k].get(row));
  }
  const vectors: Record<string, Vector> = {};
  columns.forEach((c, k) => { vectors[c.name] = sinks[k].finish(); });
  return new Table(vectors);
}
