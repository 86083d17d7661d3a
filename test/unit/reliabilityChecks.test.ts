// The pure parts of the reliability checks: the submit ledger that tells a resend after a look-up from a
// blind one, the test-only fault switch, and the judge that fails `npm run chaos` on any bad figure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSubmitLedger } from '../../connectors/submitLedger.ts';
import { judgeDuplicates, judgeHostile, judgeKills, judgeVenue } from '../../scripts/chaos/judge.ts';
import type { DuplicatesResult } from '../../scripts/chaos/scenarios/duplicates.ts';
import type { HostileResult } from '../../scripts/chaos/scenarios/hostile.ts';
import type { KillsResult } from '../../scripts/chaos/scenarios/kills.ts';
import type { VenueFaultsResult } from '../../scripts/chaos/scenarios/venue.ts';
import type { Verdict } from '../../scripts/chaos/verify.ts';
import { ConfigError } from '../../streams/runtime/env.ts';
import { parseFaults, parseKillPoint } from '../../streams/runtime/faults.ts';

describe('submit ledger', () => {
  it('counts a first submit as none, a resend after a look-up as a resend, one without as blind', () => {
    const l = createSubmitLedger();
    l.record('a', 'submit', 1);
    l.record('b', 'lookup', 2); // before any submit of b: irrelevant
    l.record('b', 'submit', 3);
    l.record('a', 'lookup', 4);
    l.record('a', 'submit', 5); // looked up since its last submit
    l.record('a', 'submit', 6); // not again
    l.record('c', 'submit', 7);
    assert.deepEqual(l.summary(), { submits: 5, ids: 3, lookups: 1, resends: 2, blindResends: 1, examples: ['a: 1 blind of 3 submits'] });
  });

  it('judges by arrival, not by the order the calls were recorded in', () => {
    // A venue that sleeps before handling may handle the first submit last: the look-up still came between.
    const l = createSubmitLedger();
    l.record('a', 'lookup', 2);
    l.record('a', 'submit', 3);
    l.record('a', 'submit', 1);
    assert.deepEqual({ ...l.summary(), examples: [] }, { submits: 2, ids: 1, lookups: 1, resends: 1, blindResends: 0, examples: [] });
  });
});

describe('fault switch (test only)', () => {
  it('is off unless set, takes a list, refuses unknown names and production', () => {
    assert.equal(parseFaults({}).size, 0);
    assert.equal(parseFaults({ ORDER_ROUTER_FAULT: '' }).size, 0);
    assert.deepEqual([...parseFaults({ ORDER_ROUTER_FAULT: 'drop-fill, double-decision' })], ['drop-fill', 'double-decision']);
    assert.throws(() => parseFaults({ ORDER_ROUTER_FAULT: 'drop-everything' }), (e: unknown) => e instanceof ConfigError && /unknown fault drop-everything/.test(e.message));
    assert.throws(() => parseFaults({ ORDER_ROUTER_FAULT: 'drop-fill', NODE_ENV: 'production' }), /refused with NODE_ENV=production/);
    assert.equal(parseFaults({ NODE_ENV: 'production' }).size, 0);
  });

  it('a kill point is off unless set, needs its once-file, refuses unknown points and production', () => {
    assert.equal(parseKillPoint({}), null);
    assert.deepEqual(parseKillPoint({ ORDER_ROUTER_KILL_AT: 'brackets-before-commit', ORDER_ROUTER_KILL_ONCE: '/tmp/x' }), { point: 'brackets-before-commit', once: '/tmp/x' });
    assert.throws(() => parseKillPoint({ ORDER_ROUTER_KILL_AT: 'brackets-before-commit' }), /ORDER_ROUTER_KILL_ONCE: required/);
    assert.throws(() => parseKillPoint({ ORDER_ROUTER_KILL_AT: 'somewhere', ORDER_ROUTER_KILL_ONCE: '/tmp/x' }), /unknown kill point somewhere/);
    assert.throws(() => parseKillPoint({ ORDER_ROUTER_KILL_AT: 'brackets-before-commit', ORDER_ROUTER_KILL_ONCE: '/tmp/x', NODE_ENV: 'production' }), /refused with NODE_ENV=production/);
  });
});

describe('chaos judge', () => {
  const clean = { failures: [], venueOrdersCreated: 1 } as unknown as Verdict;
  const send = { sent: 10, accepted: 10, refused: 0, statuses: { 202: 10 }, retried: 0, unexpected: [] };

  it('fails kills that were planned but not delivered, processes that did not come back, and crashes', () => {
    const base = { kinds: ['edge'], send, verdict: clean, crashes: [], seed: 1, elapsedMs: 1, kills: { planned: 2, delivered: 2, byKind: { edge: 2 }, restarted: 2, restartedByKind: { edge: 2 }, schedule: [] } } as KillsResult;
    assert.deepEqual(judgeKills(base), []);
    assert.equal(judgeKills({ ...base, kills: { ...base.kills, delivered: 1, restarted: 0 } }).length, 2);
    assert.match(judgeKills({ ...base, crashes: ['decide#0 exited (code 1)'] })[0], /^crash: decide#0/);
    assert.deepEqual(judgeKills({ ...base, verdict: { ...clean, failures: ['parquet not checked: no sink in this run'] } }), ['parquet not checked: no sink in this run']);
  });

  it('fails hostile role, SQL and replay results', () => {
    const base = {
      tried: 5, refused: 5, notRefused: [], notRefusedCount: 0, signalsProduced: 0, controlsProduced: 0, edgeStayedUp: true, edgeCrashes: 0, secretLeaks: [],
      roles: [{ check: 'viewer halts the desk', status: 403, ok: true }], replay: { sent: 3, firstStatus: 202, repeats: { 200: 2 }, signalsProduced: 1 },
      sql: { target: 'edge', checks: [{ sql: 'DROP VIEW fills', status: 400, code: 'x', ok: true }], fileWritten: false }, positive: { validAlertStatus: 202, signalsProduced: 1 },
    } as unknown as HostileResult;
    assert.deepEqual(judgeHostile(base, 5), []);
    assert.deepEqual(judgeHostile({ ...base, roles: [{ check: 'viewer halts the desk', status: 200, ok: false }] }, 5), ['role check failed: viewer halts the desk → 200']);
    assert.deepEqual(judgeHostile({ ...base, sql: { ...base.sql, checks: [{ sql: 'DROP VIEW fills', status: 200, code: '', ok: false }] } }, 5), ['SQL not refused: DROP VIEW fills → 200 ']);
    assert.equal(judgeHostile({ ...base, replay: { ...base.replay, repeats: { 200: 1, 202: 1 }, signalsProduced: 2 } }, 5).length, 2);
  });

  it('fails doubles and blind resends at the second venue', () => {
    const base = {
      verdict: clean, crashes: [], send, injected: { '5xx-before': 1, '5xx-after': 1, 429: 1, 'silent-stream': 1 },
      proxySubmits: { attempts: 3, idsRetried: 1, forwarded: { submits: 2, ids: 2, lookups: 1, resends: 0, blindResends: 0, examples: [] } },
      failover: { enabled: true, ordersToSecondVenue: 2, ordersAtSecondVenue: 2, doubledAtSecondVenue: 0, resendsAtSecondVenue: 0, blindResendsAtSecondVenue: 0, fillsMade: 2, fillsOnExecutions: 2, note: '' },
    } as unknown as VenueFaultsResult;
    assert.deepEqual(judgeVenue(base), []);
    assert.deepEqual(judgeVenue({ ...base, failover: { ...base.failover, doubledAtSecondVenue: 1, blindResendsAtSecondVenue: 1 } }), ['1 orders twice at the second venue', '1 blind resends at the second venue']);
  });

  it('fails duplicates that produced more than one signal or order', () => {
    const base = { copies: 3, statuses: { 202: 1, 200: 2 }, accepted: 1, signalsOnTopic: 1, verdict: clean, crashes: [] } as DuplicatesResult;
    assert.deepEqual(judgeDuplicates(base), []);
    assert.equal(judgeDuplicates({ ...base, statuses: { 202: 2, 200: 1 }, accepted: 2, signalsOnTopic: 2 }).length, 3);
  });
});
