// Orders of unknown outcome, the pure parts and the submitter: the ORDER_OUTCOME record (key, parse,
// fold), what resolves a parked order, the gate's fold ignoring the kind, and the submitter parking an
// order that stays VENUE_OUTCOME_UNKNOWN instead of holding its batch, and never sending a parked one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createOrderLedger } from '../../connectors/ledger.ts';
import { createOrderSubmitter } from '../../connectors/orderSubmitter.ts';
import { applyReport, knownFromOrder } from '../../connectors/reconcile.ts';
import { resolutionOf, unknownOutcome } from '../../connectors/unknownOutcomes.ts';
import type { VenueClient, VenueOrderState } from '../../connectors/venue.ts';
import { createVenueGate } from '../../connectors/venueGate.ts';
import type { Codec } from '../../schemas/codec.ts';
import { keyOf } from '../../schemas/controlKey.ts';
import { RouterError } from '../../schemas/errors.ts';
import { controlRecord } from '../../streams/control/publisher.ts';
import { foldOutcome, listUnknown, orderOutcomeKey, outcomeControl, parseOutcome, settleOutcome, type OrderOutcome, type UnknownOrders } from '../../schemas/orderOutcome.ts';
import type { Control, ExecutionReport, Order } from '../../schemas/types.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';

const order: Order = {
  orderId: 'o-1', clientOrderId: 'c1', signalId: 's-1', decisionId: 'd-1', account: 'A', strategy: 'st', symbol: 'EURUSD', venue: 'mt5',
  side: 'BUY', quantity: 10_000, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: 0, hlc: 0,
};
const ids = { controlId: 'x', actor: 'connector:mt5', at: 5, hlc: 5 };
const unknown = (cid = 'c1', since = 100): OrderOutcome => ({ ...unknownOutcome({ ...order, clientOrderId: cid }, { code: 'VENUE_OUTCOME_UNKNOWN', since, reason: 'RETCODE_10012' }, 0), since });

describe('ORDER_OUTCOME records (pure)', () => {
  it('keys one record per venue and order, and round-trips through a Control', () => {
    assert.equal(orderOutcomeKey('mt5', 'c1'), 'ORDER_OUTCOME|VENUE|mt5|c1');
    const c = outcomeControl(unknown(), ids);
    assert.deepEqual([c.kind, c.scope, c.target, c.state, c.reason], ['ORDER_OUTCOME', 'VENUE', 'mt5', null, 'RETCODE_10012']);
    assert.deepEqual(parseOutcome(c), unknown());
  });

  it('is written under its own key, which the one control publisher derives from the record', () => {
    assert.equal(keyOf(outcomeControl(unknown(), ids)), orderOutcomeKey('mt5', 'c1'));
    assert.equal(controlRecord({ encode: () => Buffer.alloc(0) } as unknown as Codec, 'control', outcomeControl(unknown(), ids)).key, 'ORDER_OUTCOME|VENUE|mt5|c1');
    const halt: Control = { ...outcomeControl(unknown(), ids), kind: 'TRADING_STATE', state: 'HALTED', payload: null };
    assert.equal(keyOf(halt), 'TRADING_STATE|VENUE|mt5');
    assert.throws(() => keyOf({ ...outcomeControl(unknown(), ids), payload: '{}' }), (e: RouterError) => e.context.field === 'payload.clientOrderId');
  });

  it('refuses a bad payload naming the field', () => {
    const c = outcomeControl(unknown(), ids);
    const bad: Control = { ...c, payload: JSON.stringify({ ...JSON.parse(c.payload!), since: 'yesterday' }) };
    assert.throws(() => parseOutcome(bad), (e: RouterError) => e.code === 'INVALID_CONTROL' && e.context.field === 'payload.since');
    assert.throws(() => parseOutcome({ ...c, target: 'ibkr' }), (e: RouterError) => e.context.field === 'target');
  });

  it('folds UNKNOWN in and RESOLVED out, oldest first, and leaves other kinds and unreadable records alone', () => {
    let m: UnknownOrders = new Map();
    m = foldOutcome(m, outcomeControl(unknown('c2', 200), ids));
    m = foldOutcome(m, outcomeControl(unknown('c1', 100), ids));
    assert.deepEqual(listUnknown(m).map((u) => u.clientOrderId), ['c1', 'c2']);
    const halt: Control = { ...outcomeControl(unknown(), ids), kind: 'TRADING_STATE', state: 'HALTED', payload: null };
    assert.equal(foldOutcome(m, halt), m);
    assert.equal(foldOutcome(m, { ...outcomeControl(unknown(), ids), payload: '{' }), m);
    m = foldOutcome(m, outcomeControl({ ...unknown('c1'), status: 'RESOLVED', resolution: 'FILLED', resolvedAt: 9 }, ids));
    assert.deepEqual(listUnknown(m).map((u) => u.clientOrderId), ['c2']);
  });

  it('folds an operator\'s SETTLE over the UNKNOWN record, and alone (compaction keeps only the latest record of a key); RESOLVED then removes it', () => {
    const settle = (u: OrderOutcome): OrderOutcome => settleOutcome(new Map([[`mt5|${u.clientOrderId}`, u]]), { venue: 'mt5', clientOrderId: u.clientOrderId, settle: { notTraded: true }, actor: 'bob', reason: 'statement' });
    const listed = foldOutcome(foldOutcome(new Map(), outcomeControl(unknown('c1'), ids)), outcomeControl(settle(unknown('c1')), ids));
    assert.deepEqual(listUnknown(listed).map((u) => [u.clientOrderId, u.status, u.settledBy]), [['c1', 'SETTLE', 'bob']]);
    const compacted = foldOutcome(new Map(), outcomeControl(settle(unknown('c2')), ids));
    assert.deepEqual(listUnknown(compacted).map((u) => [u.clientOrderId, u.status]), [['c2', 'SETTLE']]);
    assert.equal(foldOutcome(compacted, outcomeControl({ ...settle(unknown('c2')), status: 'RESOLVED', resolution: 'REJECTED', resolvedAt: 9 }, ids)).size, 0);
    assert.throws(() => settleOutcome(new Map(), { venue: 'mt5', clientOrderId: 'c3', settle: { notTraded: true }, actor: 'bob', reason: 'x' }), /no order c3 of unknown outcome/);
  });

  it('is ignored by the gate\'s control fold (decide, brackets), not refused', () => {
    const config = defaultControlConfig();
    assert.equal(applyControl(config, outcomeControl(unknown(), ids)), config);
  });
});

describe('what resolves an order of unknown outcome (pure)', () => {
  const report = (type: ExecutionReport['type'], over: Partial<ExecutionReport> = {}): ExecutionReport => ({
    executionId: `e-${type}`, orderId: 'o-1', clientOrderId: 'c1', venueOrderId: 'V1', signalId: 's-1', account: 'A', strategy: 'st', symbol: 'EURUSD',
    venue: 'mt5', side: 'BUY', type, venueTradeId: null, lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 10_000, fee: 0, refExecutionId: null, reason: null,
    venueTime: 1, recordedAt: 1, hlc: 1, ...over,
  } as ExecutionReport);
  it('is nothing until `executions` holds an ACK, a REJECT, a CANCEL or fills', () => {
    const k = knownFromOrder(order);
    assert.equal(resolutionOf(undefined), null);
    assert.equal(resolutionOf(k), null);
    assert.equal(resolutionOf(applyReport(k, report('ACK'))), 'ACKED');
    assert.equal(resolutionOf(applyReport(k, report('REJECT'))), 'REJECTED');
    assert.equal(resolutionOf(applyReport(k, report('FILL', { venueTradeId: 't1', lastQty: 10_000, lastPrice: 1.1, cumQty: 10_000, leavesQty: 0 }))), 'FILLED');
  });
  it('takes since and reason from the error when it carries them, else now and its code', () => {
    assert.deepEqual([unknown().since, unknown().reason], [100, 'RETCODE_10012']);
    const bare = unknownOutcome(order, new RouterError('VENUE_OUTCOME_UNKNOWN', 'taken', { retriable: true }), 42);
    assert.deepEqual([bare.since, bare.reason, bare.status], [42, 'VENUE_OUTCOME_UNKNOWN', 'UNKNOWN']);
  });
});

describe('the order submitter and an outcome that stays unknown', () => {
  function setup(parked: Set<string>) {
    const calls: string[] = [];
    const client = {
      venue: 'mt5',
      async submit() { calls.push('submit'); throw Object.assign(new RouterError('VENUE_OUTCOME_UNKNOWN', 'outcome unknown', { retriable: true }), { since: 7, reason: 'RETCODE_-11' }); },
      async lookup() { calls.push('lookup'); return null; },
    } as unknown as VenueClient;
    const halts: string[] = [];
    const gate = createVenueGate({ venue: 'mt5', clock: () => 0, breaker: { failuresToOpen: 1, minFailureSpanMs: 0, probeIntervalMs: 1, maxProbeIntervalMs: 1 }, onHalt: (r) => halts.push(r), onResume() {} });
    const submitter = createOrderSubmitter({
      client, gate, log: pino({ level: 'silent' }), clock: () => 1_000, stamp: () => ({ recordedAt: 1_000, hlc: () => 1 }), ledger: createOrderLedger(),
      flushParked() {}, isUnknown: (cid) => parked.has(cid), instruments: () => null, assignedAt: () => -1, attempts: 3, backoffMs: 1, maxBackoffMs: 1,
    });
    return { submitter, calls, halts };
  }

  it('parks the order (no report, the batch commits) instead of throwing, and does not halt the venue', async () => {
    const { submitter, calls, halts } = setup(new Set());
    const staged = await submitter.handleOrder({ ...order, createdAt: 0 });
    assert.deepEqual(staged.reports, []);
    assert.deepEqual([staged.unknown?.status, staged.unknown?.since, staged.unknown?.reason], ['UNKNOWN', 7, 'RETCODE_-11']);
    assert.ok(calls.includes('lookup'), 'looked up between attempts');
    assert.deepEqual(halts, [], 'an unknown outcome is not an outage');
  });

  it('never sends an order already recorded as of unknown outcome', async () => {
    const { submitter, calls } = setup(new Set(['c1']));
    const staged = await submitter.handleOrder(order);
    assert.deepEqual([staged.reports, staged.unknown, calls], [[], undefined, []]);
  });
});
