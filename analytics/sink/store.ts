// One dataset partition on disk: its manifest, its files, and the three things done to them: write a
// batch, reconcile after a crash, compact small files. Order of every write: temp file, fsync, rename,
// manifest (itself temp + rename), and only then does the caller commit Kafka offsets.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { toArrowTable } from './arrowBatch.ts';
import type { Dataset, RowContext } from '../columns.ts';
import { dataFileName, dataFilePath, dayFolder, dayOfHlc, tempFileName } from '../files.ts';
import { listDir, nonce, publish, removeFile, sha256File, writeJsonAtomic } from './fsutil.ts';
import {
  emptyManifest, parseManifest, planCompaction, reconcile, recordCompaction, recordWrite, rewind,
  type Manifest, type ManifestFile,
} from './manifest.ts';
import type { ParquetWriter } from './parquet.ts';

/** Test hook: throw here to simulate a process killed at that point. */
export type FaultPoint = 'renamed' | 'manifested' | 'committing';
export type Fault = (point: FaultPoint, detail: { dataset: string; partition: number }) => void | Promise<void>;

export const manifestPath = (root: string, dataset: string, partition: number): string =>
  join(root, '_manifest', dataset, `${partition}.json`);

export async function loadManifest(root: string, dataset: string, partition: number): Promise<Manifest> {
  const path = manifestPath(root, dataset, partition);
  try {
    return parseManifest(await readFile(path, 'utf8'), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyManifest(dataset, partition);
    throw e;
  }
}

export const saveManifest = (root: string, m: Manifest): Promise<void> => writeJsonAtomic(manifestPath(root, m.dataset, m.partition), m);

/** Every manifest under `root`, for readers (verify, the CLI). */
export async function loadAllManifests(root: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const dataset of await listDir(join(root, '_manifest'))) {
    for (const f of await listDir(join(root, '_manifest', dataset))) {
      const m = /^(\d+)\.json$/.exec(f);
      if (m) out.push(await loadManifest(root, dataset, Number(m[1])));
    }
  }
  return out;
}

/** Relative paths of every file in the dataset's day folders (data and temp). */
async function listDatasetFiles(root: string, dataset: string): Promise<string[]> {
  const out: string[] = [];
  for (const day of await listDir(join(root, dataset))) {
    if (!day.startsWith('date=')) continue;
    for (const name of await listDir(join(root, dataset, day))) out.push(`${dataset}/${day}/${name}`);
  }
  return out;
}

/**
 * Brings a partition's folder in line with its manifest: temp files and unlisted files go (a crash
 * before the manifest write, or after a compaction's manifest write); a listed file that is gone moves
 * coverage back so its records are read from Kafka again.
 */
export async function reconcilePartition(root: string, dataset: string, partition: number, log: Logger): Promise<Manifest> {
  let m = await loadManifest(root, dataset, partition);
  const plan = reconcile(m, await listDatasetFiles(root, dataset));
  for (const path of plan.remove) await removeFile(join(root, path));
  if (plan.remove.length > 0) log.info({ dataset, partition, removed: plan.remove }, 'removed files no manifest lists');
  if (plan.missing.length > 0) {
    const r = rewind(m, plan.missing);
    log.error({ dataset, partition, missing: plan.missing.map((f) => f.path), from: r.manifest.nextOffset }, 'listed files are missing; re-reading them from Kafka');
    // Manifest first: if we stop between the two steps, the dropped files are unlisted and go next time.
    await saveManifest(root, r.manifest);
    for (const f of r.drop) await removeFile(join(root, f.path));
    m = r.manifest;
  }
  return m;
}

/** Writes one Parquet file per day in `rows` (offset order) and returns the manifest that lists them. */
export async function writeBatch<T>(o: {
  root: string; writer: ParquetWriter; dataset: Dataset<T>; manifest: Manifest; rows: RowContext<T>[];
  nextOffset: number; fault?: Fault;
}): Promise<Manifest> {
  const { root, dataset, manifest: m } = o;
  const byDay = new Map<string, RowContext<T>[]>();
  for (const r of o.rows) {
    const day = dayOfHlc(dataset.hlcOf(r.rec));
    let list = byDay.get(day);
    if (!list) byDay.set(day, (list = []));
    list.push(r);
  }
  const files: ManifestFile[] = [];
  for (const [day, rows] of byDay) {
    const first = rows[0].offset;
    const last = rows[rows.length - 1].offset;
    const name = dataFileName(m.partition, first, last);
    const folder = join(root, dataset.name, dayFolder(day));
    await mkdir(folder, { recursive: true });
    const temp = join(folder, tempFileName(name, nonce()));
    try {
      const written = await o.writer.write(dataset as Dataset, toArrowTable(dataset, rows), temp);
      if (written !== rows.length) throw new Error(`${name}: ${written} rows written, ${rows.length} expected`);
      const { sha256, bytes } = await sha256File(temp);
      await publish(temp, join(folder, name));
      files.push({ path: dataFilePath(dataset.name, day, name), day, firstOffset: first, lastOffset: last, rows: rows.length, bytes, sha256 });
    } finally {
      await removeFile(temp);
    }
    await o.fault?.('renamed', { dataset: dataset.name, partition: m.partition });
  }
  const next = recordWrite(m, files, o.nextOffset);
  await saveManifest(root, next);
  await o.fault?.('manifested', { dataset: dataset.name, partition: m.partition });
  return next;
}

/** Merges each run of small files of a day into one file. Safe to stop at any step (see reconcile). */
export async function compactPartition(o: {
  root: string; writer: ParquetWriter; manifest: Manifest; smallRows: number; minFiles: number; log: Logger;
}): Promise<Manifest> {
  let m = o.manifest;
  for (const run of planCompaction(m, o)) {
    const folder = join(o.root, m.dataset, dayFolder(run.day));
    const temp = join(folder, tempFileName(run.name, nonce()));
    try {
      const rows = await o.writer.merge(run.files.map((f) => join(o.root, f.path)), temp);
      const { sha256, bytes } = await sha256File(temp);
      const merged: ManifestFile = {
        path: run.path, day: run.day, firstOffset: run.files[0].firstOffset,
        lastOffset: Math.max(...run.files.map((f) => f.lastOffset)), rows, bytes, sha256,
      };
      const next = recordCompaction(m, run, merged);
      await publish(temp, join(folder, run.name));
      await saveManifest(o.root, next);
      m = next;
    } finally {
      await removeFile(temp);
    }
    // Only now are the small files unlisted; removing them is the last step, redone by reconcile if missed.
    for (const f of run.files) await removeFile(join(o.root, f.path));
    o.log.info({ dataset: m.dataset, partition: m.partition, merged: run.files.length, into: run.path }, 'compacted');
  }
  return m;
}

export interface VerifyProblem { path: string; problem: string }

/**
 * Recomputes every listed file's sha256 and row count; lists files present but unlisted. A running sink
 * renames a file a moment before its manifest lists it, and a compaction removes files a moment after its
 * manifest stops listing them, so a problem counts only when a second pass `settleMs` later finds it again.
 */
export async function verifyFiles(
  root: string, countRows: (absPath: string) => Promise<number>, settleMs = 500,
): Promise<{ files: number; problems: VerifyProblem[] }> {
  const first = await verifyPass(root, countRows);
  if (first.problems.length === 0) return first;
  await sleep(settleMs);
  const second = await verifyPass(root, countRows);
  const seen = new Set(first.problems.map((p) => `${p.path}\n${p.problem}`));
  return { files: second.files, problems: second.problems.filter((p) => seen.has(`${p.path}\n${p.problem}`)) };
}

async function verifyPass(root: string, countRows: (absPath: string) => Promise<number>): Promise<{ files: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let files = 0;
  const listed = new Set<string>();
  const datasets = new Set<string>();
  for (const m of await loadAllManifests(root)) {
    datasets.add(m.dataset);
    for (const f of m.files) {
      files++;
      listed.add(f.path);
      const abs = join(root, f.path);
      try {
        const { sha256, bytes } = await sha256File(abs);
        if (sha256 !== f.sha256) problems.push({ path: f.path, problem: `sha256 ${sha256} differs from the manifest's ${f.sha256}` });
        else if (bytes !== f.bytes) problems.push({ path: f.path, problem: `${bytes} bytes, manifest says ${f.bytes}` });
        const rows = await countRows(abs);
        if (rows !== f.rows) problems.push({ path: f.path, problem: `${rows} rows, manifest says ${f.rows}` });
      } catch (e) {
        problems.push({ path: f.path, problem: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message });
      }
    }
  }
  // Folders with no manifest yet count too: a crash before a partition's first manifest leaves files there.
  for (const entry of await listDir(root)) if (!entry.startsWith('_') && !entry.startsWith('.')) datasets.add(entry);
  for (const dataset of datasets) {
    for (const path of await listDatasetFiles(root, dataset)) {
      if (path.endsWith('.parquet') && !listed.has(path)) problems.push({ path, problem: 'not in any manifest' });
    }
  }
  return { files, problems };
}
