// The strategy supervisor with real worker threads: a strategy that throws and one that loops forever
// are restarted with growing delays while a healthy one beside them answers every quote; one whose id
// has no secret is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pino from 'pino';
import { restartDelay } from '../../edge/strategies/config.ts';
import type { SignalBody } from '../../edge/strategies/host.ts';
import { createStrategyPool } from '../../edge/strategies/pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'strategies-'));
const mod = (name: string, body: string) => { writeFileSync(join(dir, name), body); return join(dir, name); };
const good = mod('good.mjs', `export default { id: 'good', symbols: ['AAPL'], onQuote(q, ctx) { ctx.submit({ symbol: q.symbol, intent: 'target', target: 1 }); } };`);
const thrower = mod('thrower.mjs', `export default { id: 'thrower', onQuote() { throw new Error('boom in onQuote'); } };`);
const looper = mod('looper.mjs', `export default { id: 'looper', onQuote() { for (;;) {} } };`);
const stranger = mod('stranger.mjs', `export default { id: 'stranger', onQuote() {} };`);
const twin = mod('zz-twin.mjs', `export default { id: 'good', onQuote() {} };`);
const helper = mod('helper.mjs', `export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;`);

test('restartDelay doubles from the minimum up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, 50, 400)), [50, 100, 200, 400, 400, 400]);
});

test('one strategy throwing and one hanging do not disturb a third; both come back with backoff', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  const sent: { strategy: string; body: SignalBody }[] = [];
  const pool = createStrategyPool({
    files: [good, thrower, looper, stranger, twin, helper],
    config: { STRATEGY_HANDLER_TIMEOUT_MS: 300, STRATEGY_RESTART_MIN_MS: 50, STRATEGY_RESTART_MAX_MS: 400, STRATEGY_STABLE_MS: 60_000, STRATEGY_QUEUE_MAX: 1000 },
    log, positions: () => ({}), known: (id) => id !== 'stranger', submit: (strategy, body) => sent.push({ strategy, body }),
  });
  try {
    const byId = (id: string) => pool.status().find((s) => s.file.includes(id))!;
    for (let i = 0; i < 200 && byId('good').state !== 'running'; i++) await sleep(50);
    assert.equal(byId('good').state, 'running');
    let quotes = 0;
    // At least 4 s, and on until both failing strategies have failed a few times (a loaded machine starts workers slowly).
    const until = Date.now() + 4000;
    const limit = Date.now() + 60_000;
    const failedEnough = () => byId('thrower').restarts >= 3 && byId('looper').restarts >= 1;
    while ((Date.now() < until || !failedEnough()) && Date.now() < limit) {
      pool.quote({ venue: 'paper', symbol: 'AAPL', bid: 100, ask: 100.02, bidSize: 1, askSize: 1, time: 1_000_000 + quotes });
      quotes++;
      await sleep(10);
    }
    for (let i = 0; i < 100 && byId('good').signals < quotes; i++) await sleep(20);

    const g = byId('good');
    assert.equal(g.restarts, 0);
    assert.equal(g.signals, quotes, 'every quote answered while the others failed');
    assert.ok(sent.every((s) => s.strategy === 'good' && s.body.strategy === 'good'));

    const t = byId('thrower');
    assert.ok(t.restarts >= 3, `thrower restarted ${t.restarts} times`);
    assert.match(t.lastError ?? '', /boom in onQuote/);
    const l = byId('looper');
    assert.ok(l.restarts >= 1, `looper restarted ${l.restarts} times`);
    assert.match(l.lastError ?? '', /onQuote did not return within 300 ms/);
    assert.equal(byId('stranger').state, 'refused');
    assert.equal(byId('stranger').restarts, 0);
    assert.equal(byId('zz-twin').state, 'refused');
    assert.match(byId('zz-twin').lastError ?? '', /strategy id good is already run by .*good\.mjs/);
    assert.equal(byId('helper').state, 'refused', 'a module without a strategy is not restarted');
    assert.equal(byId('helper').restarts, 0);
    assert.match(byId('helper').lastError ?? '', /exports no strategy/);

    const delays = lines.filter((x) => x.strategy === 'thrower' && typeof x.delayMs === 'number').map((x) => x.delayMs as number);
    assert.deepEqual(delays.slice(0, 3), [50, 100, 200], 'the delay doubles per failure in a row');
  } finally {
    await pool.stop();
  }
});
