// Hostile input against a real listening edge (its own process, ops API included): every request is
// refused with a 4xx, nothing reaches `signals` or `control`, the process stays up, no configured
// secret or token appears in its log, a viewer cannot halt or change limits, and the SQL endpoint
// refuses writes and file access. CI sends a sample; `npm run chaos` sends 100,000.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runHostile, scanForSecrets } from '../../scripts/chaos/scenarios/hostile.ts';
import { runEnv } from '../../scripts/chaos/harness.ts';
import { hostileCase } from '../../scripts/chaos/hostileCases.ts';
import { normaliseSymbol } from '../../edge/signalBuild.ts';

const REQUESTS = Number(process.env.RELIABILITY_HOSTILE_REQUESTS ?? 10_000);

describe('hostile input', () => {
  it('generates every category, reproducibly', () => {
    const ctx = { strategies: [{ id: 'chaos-0', account: 'A', secrets: ['s'.repeat(32)] }], tokens: { admin: 'a', operator: 'o', viewer: 'v' }, now: 1_700_000_000_000 };
    assert.deepEqual(hostileCase(ctx, 1234), hostileCase(ctx, 1234));
    const cats = new Set(Array.from({ length: 500 }, (_, i) => hostileCase(ctx, i).category));
    for (const c of ['malformed-json', 'wrong-types', 'huge-body', 'huge-header', 'bad-signature', 'stale-timestamp', 'unicode', 'proto-keys', 'sql', 'ops-auth', 'protocol']) assert.ok(cats.has(c), c);
  });

  it('the log scan finds a secret, whole or cut short', () => {
    const run = runEnv('scan');
    const scan = scanForSecrets(run);
    scan.line('{"msg":"ok"}');
    scan.line(`{"msg":"oops","body":"${run.strategies[1].secrets[0]}"}`);
    scan.line(`{"auth":"Bearer ${run.tokens.viewer.slice(0, 14)}…"}`);
    const { lines, leaks } = scan.result();
    assert.equal(lines, 3);
    assert.equal(leaks.length, 3, 'whole secret (whole + prefix) and a cut token');
    assert.ok(leaks.every((l) => !l.includes(run.strategies[1].secrets[0])), 'the report does not repeat the secret');
  });

  it('refuses tickers that only become ASCII symbols through Unicode case mapping', () => {
    for (const t of ['\u017fpy', '\ufb01', '\u0131bm', 'stra\u00dfe']) assert.equal(normaliseSymbol(t), null, t);
    assert.equal(normaliseSymbol('BINANCE:btcusdt'), 'BTCUSDT');
  });

  it(`refuses ${REQUESTS} hostile requests with a 4xx, produces nothing, leaks no secret`, { timeout: 600_000 }, async (t) => {
    const r = await runHostile({ requests: REQUESTS, concurrency: 32 });
    const { byCategory, sql, ...rest } = r;
    t.diagnostic(JSON.stringify({ ...rest, sqlTarget: sql.target }));
    assert.equal(r.tried, REQUESTS);
    assert.deepEqual(r.notRefused, [], `every request refused: ${JSON.stringify(byCategory)}`);
    assert.equal(r.refused, REQUESTS);
    assert.equal(r.signalsProduced, 0, 'nothing reached signals');
    assert.equal(r.controlsProduced, 0, 'nothing reached control');
    assert.ok(r.edgeStayedUp, 'the edge still answers /healthz');
    assert.equal(r.edgeCrashes, 0);
    assert.ok(r.logLines > REQUESTS / 2, `the edge logged (${r.logLines} lines scanned)`);
    assert.deepEqual(r.secretLeaks, [], 'no configured secret or token in any log line');
    for (const role of r.roles) assert.ok(role.ok, `${role.check}: ${role.status}`);
    assert.equal(r.replay.firstStatus, 202);
    assert.deepEqual(r.replay.repeats, { 200: 200 }, 'a replayed signed request is a repeat');
    assert.equal(r.replay.signalsProduced, 1, 'a replay produces nothing');
    assert.equal(r.positive.validAlertStatus, 202, 'a good alert still gets through');
    for (const c of sql.checks) assert.ok(c.ok, `SQL refused: ${c.sql} → ${c.status} ${c.code}`);
    assert.equal(sql.fileWritten, false, 'no file written through the SQL endpoint');
  });
});
