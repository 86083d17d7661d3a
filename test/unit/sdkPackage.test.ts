// Strategy code in another project imports the SDK as `order-router/sdk` from its node_modules, where Node
// strips no TypeScript: the package exports the SDK compiled to JavaScript (tsconfig.sdk.json, built by
// `npm run build:sdk` and on install by `prepare`). This builds it, lays the package out as npm would in a
// project of its own, and imports it from there.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('order-router/sdk imports from a project\'s node_modules as plain JavaScript', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-package-'));
  try {
    const pkg = join(dir, 'node_modules', 'order-router');
    mkdirSync(pkg, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.sdk.json'), '--outDir', join(pkg, 'dist', 'sdk')], { cwd: ROOT, stdio: 'pipe' });
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    for (const dep of ['ws', 'zod']) symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
    writeFileSync(join(dir, 'strategy.mjs'), `
      import { connect, createClient, submit } from 'order-router/sdk';
      console.log(JSON.stringify([typeof connect, typeof createClient, typeof submit]));`);
    const r = spawnSync(process.execPath, [join(dir, 'strategy.mjs')], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['function', 'function', 'function']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
