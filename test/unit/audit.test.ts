import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionReport, Order, RiskDecision, Signal } from '../../schemas/types.ts';
import { parseAuditArgs } from '../../streams/audit/args.ts';
import { canonicalEvent, GENESIS_HASH, linkHash, verifyChain, type ChainedRow } from '../../schemas/hashChain.ts';
import { diffRow, formatReport, type VerifyReport } from '../../streams/audit/compare.ts';
import { checkFilter, matches, resolveTopic, toJsonLine, UsageError } from '../../streams/audit/records.ts';
import { buildTrail, signalIdOf, type TrailRecord } from '../../streams/audit/timeline.ts';

const exec = (id: string, over: Partial<ExecutionReport> = {}): ExecutionReport => ({
  executionId: id, type: 'FILL', orderId: 'o1', clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: 't1', signalId: 's1',
  account: 'A', strategy: 'S', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 1, lastPrice: 100.5, cumQty: 1,
  leavesQty: 0, fee: 0.01, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: 1_700_000_000_000, recordedAt: 1_700_000_000_001,
  hlc: 1_700_000_000_001_000, ...over,
});

/** A well-formed chain over `events` on one partition, offsets 0..n-1. */
function chain(events: ExecutionReport[], partition = 0): ChainedRow[] {
  let prev = GENESIS_HASH;
  return events.map((event, i) => {
    prev = linkHash(prev, event, partition, String(i));
    return { partition, offset: String(i), hash: prev, event };
  });
}

describe('hash chain', () => {
  it('canonical JSON sorts keys and ignores key order and extra fields', () => {
    const e = exec('x');
    const shuffled = Object.fromEntries(Object.entries(e).reverse()) as unknown as ExecutionReport;
    assert.equal(canonicalEvent(shuffled), canonicalEvent(e));
    assert.equal(canonicalEvent({ ...e, extra: 1 } as ExecutionReport), canonicalEvent(e));
    assert.match(canonicalEvent(e), /^\{"account":"A","clientOrderId":"c1",/);
  });

  it('verifies an intact chain, per partition, and reports each head', () => {
    const rows = [...chain([exec('a'), exec('b')], 0), ...chain([exec('c')], 2)];
    const r = verifyChain(rows);
    assert.deepEqual(r.broken, []);
    assert.equal(r.rows, 3);
    assert.deepEqual([...r.heads.keys()], [0, 2]);
  });

  it('names the altered row, the row after a forged hash, and the row after a deleted one', () => {
    const rows = chain([exec('a'), exec('b'), exec('c'), exec('d')]);
    const altered = rows.map((r, i) => (i === 1 ? { ...r, event: { ...r.event, lastPrice: 101 } } : r));
    assert.deepEqual(verifyChain(altered).broken.map((b) => [b.offset, b.executionId]), [['1', 'b']]);

    const forged = altered.map((r, i) => (i === 1 ? { ...r, hash: linkHash(rows[0].hash!, r.event, 0, '1') } : r));
    assert.deepEqual(verifyChain(forged).broken.map((b) => b.executionId), ['c']);

    const deleted = rows.filter((_, i) => i !== 2);
    assert.deepEqual(verifyChain(deleted).broken.map((b) => b.executionId), ['d']);

    const unhashed = rows.map((r, i) => (i === 3 ? { ...r, hash: null } : r));
    assert.deepEqual(verifyChain(unhashed).broken.map((b) => [b.executionId, b.stored]), [['d', null]]);
  });

  it('binds each link to its partition and offset', () => {
    const [row] = chain([exec('a')]);
    assert.equal(verifyChain([{ ...row, offset: '7' }]).broken.length, 1);
    assert.equal(verifyChain([{ ...row, partition: 1 }]).broken.length, 1);
  });
});

describe('replay arguments and records', () => {
  it('parses a replay and names every bad argument', () => {
    assert.deepEqual(parseAuditArgs('replay', ['orders', '--from-offset', '12', '--account', 'A', '--limit', '3']), {
      kind: 'replay', topic: 'orders', from: { kind: 'offset', offset: 12n }, filter: { account: 'A' }, limit: 3,
    });
    const timed = parseAuditArgs('replay', ['signals', '--from-time', '2026-01-31T09:30:00Z']);
    assert.deepEqual(timed.kind === 'replay' && timed.from, { kind: 'time', ms: Date.parse('2026-01-31T09:30:00Z') });
    const bad: [string[], RegExp][] = [
      [[], /<topic>: missing/],
      [['orders', '--from-offset=-1'], /--from-offset: "-1"/],
      [['orders', '--from-offset', '-1'], /--from-offset/],
      [['orders', '--from-time', 'yesterday'], /--from-time: "yesterday"/],
      [['orders', '--from-beginning', '--from-offset', '3'], /--from-beginning and --from-offset/],
      [['orders', '--limit', '0'], /--limit: "0"/],
      [['orders', '--nope'], /Unknown option '--nope'/],
      [['orders', 'executions'], /unexpected argument "executions"/],
    ];
    for (const [argv, message] of bad) assert.throws(() => parseAuditArgs('replay', argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    assert.throws(() => parseAuditArgs('audit', ['trail']), /trail: expected one/);
    assert.throws(() => parseAuditArgs('audit', ['frobnicate']), /unknown subcommand "frobnicate"/);
    assert.deepEqual(parseAuditArgs('audit', ['verify', '--json']), { kind: 'verify', json: true });
  });

  it('resolves topics by contract name or full name, and refuses filters a record cannot meet', () => {
    assert.deepEqual(resolveTopic('risk-decisions', 'p.'), { key: 'riskDecisions', topic: 'p.risk-decisions', record: 'RiskDecision' });
    assert.equal(resolveTopic('p.executions', 'p.').record, 'ExecutionReport');
    assert.throws(() => resolveTopic('trades', 'p.'), /unknown topic "trades"/);
    assert.throws(() => checkFilter(resolveTopic('control', ''), { account: 'A' }), /--account: control records \(Control\) have no account/);
    checkFilter(resolveTopic('quotes', ''), { symbol: 'AAPL' });
    assert.equal(matches(exec('a'), { account: 'A', symbol: 'AAPL' }), true);
    assert.equal(matches(exec('a'), { strategy: 'other' }), false);
  });

  it('prints bytes as base64 in a JSON line', () => {
    const line = toJsonLine({ topic: 't', partition: 0, offset: '1', timestamp: 'x', key: null, value: { key: Buffer.from('hi') } });
    assert.equal(JSON.parse(line).value.key, Buffer.from('hi').toString('base64'));
  });
});

describe('verify report', () => {
  it('lists each differing column, and a whole row on one side', () => {
    assert.deepEqual(diffRow('positions', 'A|X|v', { quantity: 1, fees: 2 }, { quantity: 1, fees: 3 }), [
      { table: 'positions', key: 'A|X|v', column: 'fees', live: 2, rebuilt: 3 },
    ]);
    assert.deepEqual(diffRow('executions', 'e1', null, { a: 1 }), [{ table: 'executions', key: 'e1', column: '*', live: '(absent)', rebuilt: 'row' }]);
  });

  it('says OK with the counts, or every difference and broken link', () => {
    const base: VerifyReport = {
      ok: true, scratchSchema: 's', topic: 't', events: 10, stored: 9, repeats: 1, positions: 2, partitions: 3,
      notYetProjected: 0, differences: [], chainRows: 9, brokenLinks: [],
    };
    assert.deepEqual(formatReport(base), ['OK: 10 events (9 stored, 1 repeats), 2 positions, hash chain intact over 9 rows in 3 partitions']);
    const failed = formatReport({
      ...base, ok: false,
      differences: [{ table: 'executions', key: 'e1', column: 'last_price', live: 2, rebuilt: 1 }],
      brokenLinks: [{ partition: 1, offset: '4', executionId: 'e1', stored: 'aa', expected: 'bb' }],
    });
    assert.deepEqual(failed.slice(0, 2), [
      'DIFF executions e1 last_price: live=2 rebuilt=1',
      'BROKEN LINK partition=1 offset=4 execution_id=e1: stored hash aa, recomputed bb',
    ]);
    assert.match(failed[2], /^FAILED: 1 differences, 1 broken links/);
  });
});

describe('audit trail', () => {
  const at = (topic: string, offset: number) => ({ topic, partition: 0, offset: String(offset) });
  const signal = { signalId: 's1', source: 'SIGNED', account: 'A', strategy: 'S', symbol: 'AAPL', intent: 'DELTA', side: 'BUY', quantity: 1, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: null, reportedPosition: null, externalOrderId: null, alertTime: 1, receivedAt: 2, hlc: 1000 } as Signal;
  const decision = { decisionId: 'd1', signalId: 's1', account: 'A', strategy: 'S', symbol: 'AAPL', verdict: 'APPROVED', reason: null, detail: null, orderId: 'o1', venue: 'paper', side: 'BUY', quantity: 1, positionBefore: 0, candidates: [], alertTime: 1, signalHlc: 1000, decidedAt: 3, hlc: 3000 } as RiskDecision;
  const order = { orderId: 'o1', clientOrderId: 'c1', signalId: 's1', decisionId: 'd1', account: 'A', strategy: 'S', symbol: 'AAPL', venue: 'paper', side: 'BUY', quantity: 1, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', signalPrice: null, arrivalMid: null, createdAt: 3, hlc: 3000 } as Order;

  it('orders the steps causally, with our time and the venue time', () => {
    const records: TrailRecord[] = [
      { kind: 'execution', at: at('executions', 0), value: exec('e1', { hlc: 4000 }), stored: { hash: 'h' } },
      { kind: 'order', at: at('orders', 0), value: order, shadow: false },
      { kind: 'decision', at: at('risk-decisions', 0), value: decision },
      { kind: 'signal', at: at('signals', 0), value: signal },
    ];
    const t = buildTrail('o1', 's1', records);
    assert.deepEqual(t.steps.map((s) => s.kind), ['signal', 'decision', 'order', 'execution']);
    assert.equal(t.steps[3].venueTime, new Date(1_700_000_000_000).toISOString());
    assert.equal(t.steps[0].at, new Date(1).toISOString());
    assert.deepEqual(t.warnings, []);
  });

  it('finds the signal behind an order, decision or execution id, and says what is missing', () => {
    assert.equal(signalIdOf('o1', order), 's1');
    assert.equal(signalIdOf('d1', decision), 's1');
    assert.equal(signalIdOf('e1', exec('e1')), 's1');
    assert.equal(signalIdOf('zz', order), null);
    const t = buildTrail('s1', 's1', [{ kind: 'decision', at: at('risk-decisions', 0), value: decision }]);
    assert.deepEqual(t.warnings, ['the signal itself is not on the signals topic', 'decision names order o1, which is not on the orders topic']);
    assert.deepEqual(buildTrail('x', null, []).warnings, ['nothing found for x']);
  });
});
