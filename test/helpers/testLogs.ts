// Component logs of a test file go to a file, not between the test results:
// `.logs/test/<run>/<folder>/<name>.log` (e.g. `.logs/test/20261203-140726-4242/integration/pipeline.log`),
// created at the first line. The run folder comes from test/helpers/reporter.mjs (it prints the log of
// every failing file); without that reporter each file gets a run folder of its own and a failing
// file prints its log's path on exit. Loaded with --import by the npm test scripts, and imported by
// the helpers, so `node --test test/integration/x.test.ts` logs to a file too.
import type { ChildProcess } from 'node:child_process';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileDestination, setDefaultLogDestination, type FileDestination } from '../../streams/runtime/log.ts';

/** Set by the reporter in the runner's process; every test file process inherits it. */
export const RUN_DIR_VAR = 'ORDER_ROUTER_TEST_LOGS';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEST_FILE = /\.test\.[cm]?[jt]s$/;

function stamp(): string {
  return `${new Date().toISOString().replace(/\D/g, '').slice(0, 14).replace(/^(\d{8})/, '$1-')}-${process.pid}`;
}

/** The log of a test file; reporter.mjs derives the same path for a failing file. */
export function testLogPath(runDir: string, testFile: string): string {
  const inTest = relative(join(root, 'test'), resolve(testFile));
  return join(runDir, (inTest.startsWith('..') ? basename(testFile) : inTest).replace(TEST_FILE, '.log'));
}

function open(): FileDestination | null {
  const testFile = process.argv[1];
  if (!testFile || !TEST_FILE.test(testFile)) return null; // not a test file's process: leave stdout alone
  const runDir = process.env[RUN_DIR_VAR];
  const dest = fileDestination(testLogPath(runDir ?? join(root, '.logs', 'test', stamp()), testFile));
  setDefaultLogDestination(dest);
  if (runDir === undefined) {
    process.on('exit', (code) => {
      if (code !== 0 && dest.written()) process.stderr.write(`component logs: ${relative(process.cwd(), dest.path)}\n`);
    });
  }
  return dest;
}

const dest = open();

// A test file's process sends its results to the runner over stdout, a pipe whose writes are asynchronous
// on Linux. With --test-force-exit the process exits as soon as its last test ends, and node's runner does
// not flush that pipe first (nodejs/node#64833, open): the last results of a file were lost, so
// `npm test` counted 575 to 586 unit tests from one tree, with exit 0. Blocking writes cannot be cut off.
if (process.argv[1] && TEST_FILE.test(process.argv[1])) {
  (process.stdout as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle?.setBlocking?.(true);
}

/**
 * A child process's stdout and stderr, line by line, into this test file's log (lines that are not
 * pino JSON are wrapped in one, so the file stays one JSON object per line). The child's output is
 * still readable from its pipes.
 */
export function teeToTestLog(proc: ChildProcess, label: string): void {
  if (!dest) return;
  const note = (msg: string, extra: Record<string, unknown> = {}, level = 30) =>
    dest.write(`${JSON.stringify({ level, time: Date.now(), pid: proc.pid, name: 'test-child', child: label, ...extra, msg })}\n`);
  note('child started');
  for (const [stream, level] of [[proc.stdout, 30], [proc.stderr, 50]] as const) {
    if (!stream) continue;
    let partial = '';
    const line = (l: string) => { if (l.startsWith('{')) dest.write(`${l}\n`); else if (l.trim()) note(l, {}, level); };
    stream.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      lines.forEach(line);
    });
    stream.on('end', () => { if (partial) line(partial); partial = ''; });
  }
  proc.on('exit', (code, signal) => note('child exited', { code, signal }));
}
