// Rows → an Arrow table with the dataset's schema. Typed arrays and one UTF-8 buffer per string column
// are filled directly: apache-arrow's generic `vectorFromArray` is ~25x slower on strings, and the
// sink's throughput is mostly this step.
import {
  Dictionary, Float64, Int32, Int64, makeData, makeVector, Table, TimestampMillisecond, Utf8, type Vector,
} from 'apache-arrow';
import type { Column, Dataset, RowContext } from './columns.ts';

type Cell = string | number | null | undefined;

/** Collects a validity bitmap as values are written; allocated only once a null is seen. */
class Validity {
  nullCount = 0;
  private bitmap: Uint8Array | undefined;
  constructor(private readonly length: number) {}
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

function dictVector(n: number, at: (i: number) => Cell): Vector {
  const index = new Map<string, number>();
  const keys: string[] = [];
  const codes = new Int32Array(n);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v === null || v === undefined) { valid.null(i); continue; }
    const s = typeof v === 'string' ? v : String(v);
    let k = index.get(s);
    if (k === undefined) { k = keys.length; keys.push(s); index.set(s, k); }
    codes[i] = k;
  }
  const dictionary = utf8Vector(keys.length, (i) => keys[i]);
  return makeVector(makeData({
    type: new Dictionary(new Utf8(), new Int32()), length: n, nullCount: valid.nullCount, nullBitmap: valid.nullBitmap, data: codes, dictionary,
  }));
}

function numberVector(kind: 'float64' | 'int32', n: number, at: (i: number) => Cell): Vector {
  const data = kind === 'float64' ? new Float64Array(n) : new Int32Array(n);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v === null || v === undefined) valid.null(i);
    else data[i] = v as number;
  }
  const type = kind === 'float64' ? new Float64() : new Int32();
  return makeVector(makeData({ type, length: n, nullCount: valid.nullCount, nullBitmap: valid.nullBitmap, data } as never));
}

export const TWO_32 = 4294967296;

// 64-bit values are written as two 32-bit halves: a BigInt per value would be an allocation per cell.
// Our int64s (hlc, offsets, epoch ms) are below 2^53, so a JS number holds them exactly.
function int64Vector(kind: 'int64' | 'timestamp', n: number, at: (i: number) => Cell): Vector {
  const words = new Uint32Array(n * 2);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v === null || v === undefined) { valid.null(i); continue; }
    const x = Math.trunc(v as number);
    const hi = Math.floor(x / TWO_32);
    words[2 * i] = x - hi * TWO_32;
    words[2 * i + 1] = hi >>> 0;
  }
  const data = new BigInt64Array(words.buffer);
  const type = kind === 'timestamp' ? new TimestampMillisecond() : new Int64();
  return makeVector(makeData({ type, length: n, nullCount: valid.nullCount, nullBitmap: valid.nullBitmap, data } as never));
}

export function columnVector(kind: Column['kind'], n: number, at: (i: number) => Cell): Vector {
  switch (kind) {
    case 'string': return utf8Vector(n, at);
    case 'dict': return dictVector(n, at);
    case 'float64':
    case 'int32': return numberVector(kind, n, at);
    case 'int64':
    case 'timestamp': return int64Vector(kind, n, at);
    default: {
      const unhandled: never = kind;
      throw new Error(`unknown column kind ${String(unhandled)}`);
    }
  }
}

/** One record batch with every column of `dataset`, in the order given. */
export function toArrowTable<T>(dataset: Dataset<T>, rows: readonly RowContext<T>[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const column of dataset.columns) {
    vectors[column.name] = columnVector(column.kind, rows.length, (i) => column.get(rows[i]));
  }
  return new Table(vectors);
}
