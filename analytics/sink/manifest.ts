// The manifest of one dataset partition: which Parquet files hold its records and how far the log is
// covered. Pure: every change returns a new manifest; the store writes it atomically.
//
// One manifest per topic partition (not one for the whole folder) because a Kafka partition has one
// owner at a time: each sink instance writes only the manifests of the partitions it owns, so no two
// processes ever race on the same file.
import { dataFileName, dataFilePath, dayOfPath, parseFileName } from '../files.ts';

export interface ManifestFile {
  /** Relative to the analytics root: `executions/date=2026-11-22/0-5-9.parquet`. */
  path: string;
  day: string;
  firstOffset: number;
  lastOffset: number;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  version: 1;
  dataset: string;
  partition: number;
  /** Every record below this offset is in exactly one listed file (or was unreadable and logged). */
  nextOffset: number;
  /** Sorted by day, then firstOffset. */
  files: ManifestFile[];
}

export class ManifestError extends Error {
  constructor(message: string) { super(message); this.name = 'ManifestError'; }
}

export const emptyManifest = (dataset: string, partition: number): Manifest =>
  ({ version: 1, dataset, partition, nextOffset: 0, files: [] });

const byDayThenOffset = (a: ManifestFile, b: ManifestFile): number =>
  a.day < b.day ? -1 : a.day > b.day ? 1 : a.firstOffset - b.firstOffset;

/** Adds the files of one written batch and moves the covered offset to `nextOffset`. */
export function recordWrite(m: Manifest, files: ManifestFile[], nextOffset: number): Manifest {
  if (nextOffset < m.nextOffset) throw new ManifestError(`${m.dataset}/${m.partition}: nextOffset ${nextOffset} is behind ${m.nextOffset}`);
  const known = new Set(m.files.map((f) => f.path));
  for (const f of files) {
    // Records below nextOffset are already in a file: writing them again would duplicate rows.
    if (f.firstOffset < m.nextOffset) throw new ManifestError(`${f.path} starts at ${f.firstOffset}, already covered up to ${m.nextOffset}`);
    if (f.lastOffset >= nextOffset) throw new ManifestError(`${f.path} ends at ${f.lastOffset}, beyond nextOffset ${nextOffset}`);
    if (known.has(f.path)) throw new ManifestError(`${f.path} is already listed`);
    known.add(f.path);
  }
  return { ...m, nextOffset, files: [...m.files, ...files].sort(byDayThenOffset) };
}

export interface CompactionRun { day: string; files: ManifestFile[]; name: string; path: string }

/**
 * Runs of at least `minFiles` consecutive small files of one day. A large file breaks a run, so a merged
 * file's offset range never overlaps another file of the same folder and its name stays unique.
 */
export function planCompaction(m: Manifest, opts: { smallRows: number; minFiles: number }): CompactionRun[] {
  const runs: CompactionRun[] = [];
  const flush = (run: ManifestFile[]) => {
    if (run.length < Math.max(2, opts.minFiles)) return;
    const first = run[0].firstOffset;
    const last = Math.max(...run.map((f) => f.lastOffset));
    const name = dataFileName(m.partition, first, last);
    runs.push({ day: run[0].day, files: run, name, path: dataFilePath(m.dataset, run[0].day, name) });
  };
  let run: ManifestFile[] = [];
  for (const f of m.files) {
    if (run.length > 0 && run[0].day !== f.day) { flush(run); run = []; }
    if (f.rows < opts.smallRows) run.push(f);
    else { flush(run); run = []; }
  }
  flush(run);
  return runs;
}

/** Replaces a run's files by the merged one. Refuses when the row counts disagree. */
export function recordCompaction(m: Manifest, run: CompactionRun, merged: ManifestFile): Manifest {
  const paths = new Set(run.files.map((f) => f.path));
  const present = m.files.filter((f) => paths.has(f.path));
  if (present.length !== paths.size) throw new ManifestError(`compaction of ${run.path}: some files are no longer listed`);
  const rows = present.reduce((n, f) => n + f.rows, 0);
  if (rows !== merged.rows) throw new ManifestError(`compaction of ${run.path}: ${merged.rows} rows written, ${rows} expected`);
  return { ...m, files: [...m.files.filter((f) => !paths.has(f.path)), merged].sort(byDayThenOffset) };
}

export interface ReconcilePlan {
  /** Temp files and data files no manifest lists (a crash before the manifest write, or after a compaction). */
  remove: string[];
  /** Listed files that are gone: their records must be read again. */
  missing: ManifestFile[];
}

/** Compares a manifest with the files of its partition found on disk (relative paths, temps included). */
export function reconcile(m: Manifest, onDisk: string[]): ReconcilePlan {
  const listed = new Set(m.files.map((f) => f.path));
  const remove: string[] = [];
  const seen = new Set<string>();
  for (const path of onDisk) {
    const parsed = parseFileName(path.slice(path.lastIndexOf('/') + 1));
    if (!parsed || parsed.partition !== m.partition || dayOfPath(path) === null) continue;
    if (parsed.temp || !listed.has(path)) remove.push(path);
    else seen.add(path);
  }
  return { remove, missing: m.files.filter((f) => !seen.has(f.path)) };
}

/**
 * Moves coverage back to before the earliest missing file. Files of other days may interleave with the
 * missing range, so every file reaching that far is dropped too (and its records re-read), repeated until
 * no kept file holds an offset at or above the new nextOffset.
 */
export function rewind(m: Manifest, missing: ManifestFile[]): { manifest: Manifest; drop: ManifestFile[] } {
  if (missing.length === 0) return { manifest: m, drop: [] };
  let from = Math.min(...missing.map((f) => f.firstOffset));
  for (;;) {
    const reach = m.files.filter((f) => f.lastOffset >= from);
    const lower = Math.min(from, ...reach.map((f) => f.firstOffset));
    if (lower === from) break;
    from = lower;
  }
  const missingPaths = new Set(missing.map((f) => f.path));
  const drop = m.files.filter((f) => f.lastOffset >= from);
  return {
    manifest: { ...m, nextOffset: Math.min(from, m.nextOffset), files: m.files.filter((f) => f.lastOffset < from) },
    drop: drop.filter((f) => !missingPaths.has(f.path)),
  };
}

/** Validates a parsed manifest file; a hand-edited or truncated one stops the sink with its path named. */
export function parseManifest(text: string, where: string): Manifest {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new ManifestError(`${where}: not JSON (${(e as Error).message})`); }
  const m = v as Manifest;
  const ok = m && m.version === 1 && typeof m.dataset === 'string' && Number.isInteger(m.partition) &&
    Number.isInteger(m.nextOffset) && Array.isArray(m.files) &&
    m.files.every((f) => typeof f.path === 'string' && typeof f.sha256 === 'string' && Number.isInteger(f.rows) &&
      Number.isInteger(f.firstOffset) && Number.isInteger(f.lastOffset) && typeof f.day === 'string');
  if (!ok) throw new ManifestError(`${where}: not a version 1 manifest`);
  return m;
}
