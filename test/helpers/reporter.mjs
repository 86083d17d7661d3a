// The test reporter of `npm test`: node's spec reporter, then what was skipped and why, where the logs
// of failing files are, and node's own summary (`ℹ tests N`, `ℹ pass N`, ...) as the last lines, which
// CI reads. Plain JavaScript: node 20 loads reporters in the runner's process, without tsx.
//   node --import ./test/helpers/testLogs.ts --test \
//     --test-reporter=./test/helpers/reporter.mjs --test-reporter-destination=stdout test/unit/*.test.ts
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { spec as Spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_DIR_VAR = 'ORDER_ROUTER_TEST_LOGS'; // test/helpers/testLogs.ts reads it in each test file's process
const KEEP_RUNS = 20;

// Loaded before any test file starts, so every test file process inherits the run folder.
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14).replace(/^(\d{8})/, '$1-');
const runsDir = join(root, '.logs', 'test');
const runDir = (process.env[RUN_DIR_VAR] ??= join(runsDir, `${stamp}-${process.pid}`));
pruneOldRuns();

/** Same path as testLogPath in testLogs.ts. */
function logOf(file) {
  const inTest = relative(join(root, 'test'), resolve(file));
  return join(runDir, (inTest.startsWith('..') ? basename(file) : inTest).replace(/\.test\.[cm]?[jt]s$/, '.log'));
}
const show = (path) => relative(process.cwd(), path) || '.';

// Node's closing summary: top-level diagnostics of no file, after every file has finished.
const isSummary = ({ type, data }) => type === 'test:diagnostic' && data.nesting === 0 && data.file === undefined;

export default async function* report(source) {
  const skipped = [];
  const failedFiles = new Set();
  const names = new Map(); // file → names of the tests being run, by nesting
  const summary = [];

  async function* watch() {
    for await (const event of source) {
      const { type, data } = event;
      if (isSummary(event)) { summary.push(event); continue; }
      if (type === 'test:start') {
        const path = names.get(data.file) ?? [];
        path.length = data.nesting;
        path.push(data.name);
        names.set(data.file, path);
      } else if (type === 'test:pass' && data.skip !== undefined) {
        const path = [...(names.get(data.file) ?? []).slice(0, data.nesting), data.name];
        skipped.push({ file: data.file, name: path.join(' › '), reason: data.skip === true ? 'no reason given' : String(data.skip) });
      } else if (type === 'test:fail' && data.file) {
        failedFiles.add(data.file);
      }
      yield event;
    }
  }

  // Spec prints the results and, at its end, the failing tests; then our lines; then the summary.
  yield* Readable.from(watch()).pipe(new Spec());
  const lines = [''];
  for (const s of skipped) lines.push(`skipped: ${s.file ? `${show(s.file)} › ` : ''}${s.name} — ${s.reason}`);
  for (const f of failedFiles) lines.push(`failed: ${show(f)} — ${existsSync(logOf(f)) ? `component logs: ${show(logOf(f))}` : 'it wrote no component log'}`);
  lines.push(`component logs of this run: ${show(runDir)}/`, '');
  yield lines.join('\n');
  yield* Readable.from(summary).pipe(new Spec());
}

function pruneOldRuns() {
  let runs;
  try { runs = readdirSync(runsDir).sort(); } catch { return; }
  for (const old of runs.slice(0, Math.max(0, runs.length - KEEP_RUNS))) rmSync(join(runsDir, old), { recursive: true, force: true });
}
