// The kafkajs TimeoutNegativeWarning is dropped; any other warning still reaches Node's printer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

test('only the negative-timeout warning is silenced', () => {
  const code = `
    const { quietKafkajsTimeoutWarning } = await import(${JSON.stringify(new URL('../../streams/runtime/warnings.ts', import.meta.url).href)});
    quietKafkajsTimeoutWarning();
    quietKafkajsTimeoutWarning();
    setTimeout(() => {}, -Date.now());
    process.emitWarning('another warning', 'SomeWarning');`;
  const r = spawnSync(process.execPath, [...TS_NODE_ARGS, '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /TimeoutNegativeWarning/);
  assert.match(r.stderr, /SomeWarning: another warning/);
  assert.equal(r.stderr.match(/SomeWarning/g)?.length, 1, 'printed once, not once per call');
});
