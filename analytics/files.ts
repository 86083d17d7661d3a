// Where a record's Parquet file lives. Pure: names derive only from dataset, day, partition and offset
// range, so a sink re-run after a crash computes the same name for the same records.
import { hlcToMillis } from '../schemas/hlc.ts';

const DAY_MS = 86_400_000;
let lastDayIndex = NaN;
let lastDay = '';

/** The UTC day of a hybrid-logical-clock timestamp: the hive folder `date=YYYY-MM-DD`. */
export function dayOfHlc(hlc: number): string {
  // Consecutive records almost always share a day; formatting a Date per row was a tenth of the sink's time.
  const index = Math.floor(hlcToMillis(hlc) / DAY_MS);
  if (index !== lastDayIndex) {
    lastDay = new Date(index * DAY_MS).toISOString().slice(0, 10);
    lastDayIndex = index;
  }
  return lastDay;
}

export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export const dayFolder = (day: string): string => `date=${day}`;

export const dataFileName = (partition: number, firstOffset: number, lastOffset: number): string =>
  `${partition}-${firstOffset}-${lastOffset}.parquet`;

/** Path relative to the analytics root, always with forward slashes (it is also a manifest key). */
export const dataFilePath = (dataset: string, day: string, name: string): string => `${dataset}/${dayFolder(day)}/${name}`;

const DATA_RE = /^(\d+)-(\d+)-(\d+)\.parquet$/;
// Temp names start with a dot and end in .tmp so that no `*.parquet` glob (ours or a quant's) sees them.
const TEMP_RE = /^\.(\d+)-(\d+)-(\d+)\.parquet\.[\w-]+\.tmp$/;

export interface ParsedName { partition: number; firstOffset: number; lastOffset: number; temp: boolean }

export function parseFileName(name: string): ParsedName | null {
  const m = DATA_RE.exec(name) ?? TEMP_RE.exec(name);
  if (!m) return null;
  return { partition: Number(m[1]), firstOffset: Number(m[2]), lastOffset: Number(m[3]), temp: name.startsWith('.') };
}

/** A writer-unique temp name beside the final one: same folder, so the rename is atomic. */
export const tempFileName = (finalName: string, nonce: string): string => `.${finalName}.${nonce}.tmp`;

/** `executions/date=2026-11-22/0-5-9.parquet` → its day, or null when the path is not a data file path. */
export function dayOfPath(path: string): string | null {
  const m = /\/date=(\d{4}-\d{2}-\d{2})\/[^/]+$/.exec(path);
  return m ? m[1] : null;
}
