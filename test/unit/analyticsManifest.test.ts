import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataFileName, dataFilePath, dayOfHlc, dayOfPath, parseFileName, tempFileName } from '../../analytics/files.ts';
import {
  emptyManifest, ManifestError, parseManifest, planCompaction, reconcile, recordCompaction, recordWrite, rewind, type ManifestFile,
} from '../../analytics/sink/manifest.ts';

const file = (day: string, first: number, last: number, rows = last - first + 1, partition = 0): ManifestFile => ({
  path: dataFilePath('executions', day, dataFileName(partition, first, last)), day, firstOffset: first, lastOffset: last, rows, bytes: 100, sha256: 'x',
});

describe('analytics file names', () => {
  it('derive from partition and offset range, in a hive day folder', () => {
    assert.equal(dataFilePath('executions', '2026-11-22', dataFileName(2, 10, 42)), 'executions/date=2026-11-22/2-10-42.parquet');
    assert.deepEqual(parseFileName('2-10-42.parquet'), { partition: 2, firstOffset: 10, lastOffset: 42, temp: false });
    assert.equal(dayOfPath('executions/date=2026-11-22/2-10-42.parquet'), '2026-11-22');
    assert.equal(parseFileName('notes.txt'), null);
  });

  it('keep temp files out of any *.parquet glob and recognisable as temps', () => {
    const t = tempFileName('2-10-42.parquet', '123-ab');
    assert.ok(t.startsWith('.') && !t.endsWith('.parquet'));
    assert.deepEqual(parseFileName(t), { partition: 2, firstOffset: 10, lastOffset: 42, temp: true });
  });

  it('put a record in the UTC day of its hlc', () => {
    assert.equal(dayOfHlc(Date.UTC(2026, 10, 22, 23, 59, 59, 999) * 1000 + 7), '2026-11-22');
    assert.equal(dayOfHlc(Date.UTC(2026, 10, 23) * 1000), '2026-11-23');
  });
});

describe('manifest', () => {
  it('records a batch and refuses anything that would duplicate or skip rows', () => {
    // given a manifest covering offsets 0..9
    const m = recordWrite(emptyManifest('executions', 0), [file('2026-11-22', 0, 9)], 10);
    assert.equal(m.nextOffset, 10);
    // then a file starting inside the covered range, a repeated path or an out-of-range end is refused
    assert.throws(() => recordWrite(m, [file('2026-11-22', 5, 12)], 13), ManifestError);
    assert.throws(() => recordWrite(m, [file('2026-11-22', 10, 12)], 12), ManifestError);
    assert.throws(() => recordWrite(m, [], 9), ManifestError);
    // and a batch spread over two days lands sorted by day, then offset
    const next = recordWrite(m, [file('2026-11-23', 11, 14, 2), file('2026-11-22', 10, 13, 2)], 15);
    assert.deepEqual(next.files.map((f) => f.path), [
      'executions/date=2026-11-22/0-0-9.parquet', 'executions/date=2026-11-22/0-10-13.parquet', 'executions/date=2026-11-23/0-11-14.parquet',
    ]);
  });

  it('plans compaction of runs of small files per day; a large file breaks a run', () => {
    let m = emptyManifest('executions', 0);
    m = recordWrite(m, [file('2026-11-22', 0, 0), file('2026-11-22', 1, 1), file('2026-11-22', 2, 500, 499)], 501);
    m = recordWrite(m, [file('2026-11-22', 501, 501), file('2026-11-22', 502, 502), file('2026-11-23', 503, 503)], 504);
    const runs = planCompaction(m, { smallRows: 100, minFiles: 2 });
    assert.deepEqual(runs.map((r) => [r.path, r.files.length]), [
      ['executions/date=2026-11-22/0-0-1.parquet', 2],
      ['executions/date=2026-11-22/0-501-502.parquet', 2],
    ]);
    assert.deepEqual(planCompaction(m, { smallRows: 100, minFiles: 3 }), []);
    // when merged, the run's files are replaced by one with the same rows
    const merged = { ...file('2026-11-22', 0, 1, 2), path: runs[0].path };
    const after = recordCompaction(m, runs[0], merged);
    assert.equal(after.files.length, m.files.length - 1);
    assert.equal(after.files.reduce((n, f) => n + f.rows, 0), m.files.reduce((n, f) => n + f.rows, 0));
    assert.throws(() => recordCompaction(m, runs[0], { ...merged, rows: 3 }), /3 rows written, 2 expected/);
  });

  it('reconciles: temps and unlisted files go, listed files found are kept, missing ones reported', () => {
    const m = recordWrite(emptyManifest('executions', 1), [file('2026-11-22', 0, 4, 5, 1), file('2026-11-22', 5, 9, 5, 1)], 10);
    const plan = reconcile(m, [
      'executions/date=2026-11-22/1-0-4.parquet',
      'executions/date=2026-11-22/.1-10-12.parquet.99-ab.tmp',
      'executions/date=2026-11-22/1-10-12.parquet', // renamed, then the process died before the manifest
      'executions/date=2026-11-22/2-0-3.parquet', // another partition's: not ours to touch
    ]);
    assert.deepEqual(plan.remove, ['executions/date=2026-11-22/.1-10-12.parquet.99-ab.tmp', 'executions/date=2026-11-22/1-10-12.parquet']);
    assert.deepEqual(plan.missing.map((f) => f.path), ['executions/date=2026-11-22/1-5-9.parquet']);
  });

  it('rewinds to before a missing file, dropping files of other days that reach into the range', () => {
    // given day 22 holds 0-4 and 8-9, day 23 holds 5-7 and 10-12 (a batch spanning midnight twice)
    const m = recordWrite(emptyManifest('executions', 0),
      [file('2026-11-22', 0, 4), file('2026-11-23', 5, 7), file('2026-11-22', 8, 9), file('2026-11-23', 10, 12)], 13);
    // when the file 5-7 is lost
    const r = rewind(m, [m.files.find((f) => f.firstOffset === 5)!]);
    // then coverage goes back to 5 and every file holding an offset >= 5 is dropped for re-reading
    assert.equal(r.manifest.nextOffset, 5);
    assert.deepEqual(r.manifest.files.map((f) => f.firstOffset), [0]);
    assert.deepEqual(r.drop.map((f) => f.firstOffset).sort((a, b) => a - b), [8, 10]);
  });

  it('parses only a well-formed manifest, naming the file otherwise', () => {
    const m = recordWrite(emptyManifest('orders', 0), [file('2026-11-22', 0, 1)], 2);
    assert.deepEqual(parseManifest(JSON.stringify(m), 'm.json'), m);
    assert.throws(() => parseManifest('{"version":1', 'broken.json'), /broken.json: not JSON/);
    assert.throws(() => parseManifest('{"version":2}', 'old.json'), /old.json: not a version 1 manifest/);
  });
});
