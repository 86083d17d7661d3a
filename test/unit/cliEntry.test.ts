// The `order-router` entry turns Node's compile cache on before the command line loads (edge/main/cli.ts):
// a restarted component then loads its modules from the cache.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const { NODE_COMPILE_CACHE: _, ...withoutCache } = process.env;
const cached = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

// Node's default folder is <os temp>/node-compile-cache: TMPDIR points it at a folder of the test's own (setting
// NODE_COMPILE_CACHE would turn the cache on by itself, whatever the entry does).
test('the command line writes the compiled modules to the compile cache, and NODE_DISABLE_COMPILE_CACHE turns it off', (t) => {
  const on = mkdtempSync(join(tmpdir(), 'ncc-on-'));
  const off = mkdtempSync(join(tmpdir(), 'ncc-off-'));
  t.after(() => { rmSync(on, { recursive: true, force: true }); rmSync(off, { recursive: true, force: true }); });
  const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts'], { encoding: 'utf8', env: { ...withoutCache, ...env } });
  const usage = run({ TMPDIR: on });
  assert.equal(usage.status, 2, usage.stderr); // no command: the usage, exit 2
  assert.match(usage.stderr, /order-router start/);
  assert.ok(cached(on) >= 10, `modules cached: ${cached(on)}`);
  run({ TMPDIR: off, NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.equal(cached(off), 0);
});
