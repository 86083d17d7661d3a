// Durable file steps: a file is complete on disk before its name appears, and a name change is on disk
// before anyone is told about it. rename(2) within one folder is atomic, so a reader sees the old
// state or the new one, never half a file.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Makes a rename or unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** fsync the temp file, rename it over `finalPath`, fsync the folder. */
export async function publish(tempPath: string, finalPath: string): Promise<void> {
  await fsyncFile(tempPath);
  await rename(tempPath, finalPath);
  await fsyncDir(dirname(finalPath));
}

export const nonce = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Write-to-temp, fsync, rename, fsync folder: a reader sees the old JSON or the new one. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${nonce()}.json.tmp`);
  await writeFile(temp, `${JSON.stringify(value, null, 1)}\n`);
  await publish(temp, path);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
