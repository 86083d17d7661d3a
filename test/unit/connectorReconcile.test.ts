// The connector's pure core: what a venue's view of an order adds to what `executions` holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyReport, diffAmendment, diffOrder, filledQty, knownFromOrder, needsPolling, type KnownOrder } from '../../connectors/reconcile.ts';
import type { VenueFill, VenueOrderState } from '../../connectors/venue.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { foldPositions } from '../../streams/positions/fold.ts';

const order: Order = {
  orderId: 'o-1', clientOrderId: 'c1', signalId: 's-1', decisionId: 'd-1', account: 'A', strategy: 'st', symbol: 'AAPL', venue: 'v',
  side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 100, timeInForce: 'GTC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: 0, hlc: 0,
};
let hlc = 0;
const stamp = (at = 1_000) => ({ recordedAt: at, hlc: () => ++hlc });
const fill = (tradeId: string, quantity: number, price = 100, venueTime = 10): VenueFill => ({ tradeId, quantity, price, fee: 0, venueTime });
const state = (over: Partial<VenueOrderState> = {}): VenueOrderState => ({
  clientOrderId: 'c1', venueOrderId: 'V1', symbol: 'AAPL', side: 'BUY', quantity: 10, status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: 5, ...over,
});
/** Writes a diff's reports, as the runtime does, and returns the new knowledge and the log. */
function record(k: KnownOrder, log: ExecutionReport[], s: VenueOrderState, observedAt: number, at = observedAt) {
  const d = diffOrder(k, s, observedAt, stamp(at));
  log.push(...d.reports);
  return d.next;
}

describe('connector reconcile (pure)', () => {
  it('keeps a fill that arrives before the ack: the ack is implied and comes first', () => {
    const d = diffOrder(knownFromOrder(order), state({ status: 'PARTIALLY_FILLED', filledQty: 4, fills: [fill('t1', 4)] }), 100, stamp());
    assert.deepEqual(d.reports.map((r) => [r.type, r.cumQty, r.leavesQty]), [['ACK', 0, 10], ['PARTIAL_FILL', 4, 6]]);
    assert.equal(d.reports[1].executionId, 'v:T:t1');
  });

  it('adds nothing for a view it has already recorded, whichever path it came by', () => {
    const log: ExecutionReport[] = [];
    let k = record(knownFromOrder(order), log, state({ fills: [fill('t1', 4)], filledQty: 4 }), 100);
    k = record(k, log, state({ fills: [fill('t1', 4)], filledQty: 4 }), 200); // the stream repeats it
    k = record(k, log, state({ fills: [fill('t1', 4), fill('t2', 6)], filledQty: 10, status: 'FILLED' }), 300); // a poll
    k = record(k, log, state({ fills: [fill('t2', 6)], filledQty: 10, status: 'FILLED' }), 400); // a partial push
    assert.deepEqual(log.map((r) => r.type), ['ACK', 'PARTIAL_FILL', 'FILL']);
    assert.equal(filledQty(k), 10);
    assert.equal(needsPolling(k), false);
  });

  it('turns a restated fill into a CORRECTION that references it, numbered from the log', () => {
    const log: ExecutionReport[] = [];
    let k = record(knownFromOrder(order), log, state({ fills: [fill('t1', 10)], filledQty: 10, status: 'FILLED' }), 100);
    k = record(k, log, state({ fills: [fill('t1', 10, 99)], filledQty: 10, status: 'FILLED', fillsComplete: true }), 2_000);
    const c = log.at(-1)!;
    assert.deepEqual([c.type, c.refExecutionId, c.lastPrice, c.executionId], ['CORRECTION', 'v:T:t1', 99, 'v:T:t1:1:CORRECTION']);
    k = record(k, log, state({ fills: [], filledQty: 0, status: 'FILLED', fillsComplete: true }), 3_000);
    assert.deepEqual([log.at(-1)!.type, log.at(-1)!.executionId], ['BUST', 'v:T:t1:2:BUST']);
    const position = [...foldPositions(log).values()][0];
    assert.equal(position.quantity, 0);
    assert.equal(needsPolling(k), false, 'a bust does not reopen a finished order');
    // a rebuild from the log knows the same: the next amendment would be number 3
    const rebuilt = log.reduce<KnownOrder | undefined>((acc, e) => applyReport(acc, e), undefined)!;
    assert.equal(rebuilt.fills.get('t1')?.amendments, 2);
  });

  it('does not let a poll asked before a correction undo it', () => {
    const log: ExecutionReport[] = [];
    let k = record(knownFromOrder(order), log, state({ fills: [fill('t1', 10)], filledQty: 10, status: 'FILLED' }), 100);
    const pushed = diffAmendment(k, { kind: 'correction', tradeId: 't1', quantity: 10, price: 98, fee: 0, venueTime: 20 }, stamp(500));
    log.push(...pushed.reports);
    k = pushed.next;
    k = record(k, log, state({ fills: [fill('t1', 10, 100)], filledQty: 10, status: 'FILLED', fillsComplete: true }), 400, 600);
    assert.deepEqual(log.map((r) => r.type), ['ACK', 'FILL', 'CORRECTION']);
    assert.equal([...foldPositions(log).values()][0].avgPrice, 98);
  });

  it('does not read a short statement as a bust unless the venue says it is complete', () => {
    const log: ExecutionReport[] = [];
    let k = record(knownFromOrder(order), log, state({ fills: [fill('t1', 4)], filledQty: 4 }), 100);
    k = record(k, log, state({ fills: [], filledQty: 4 }), 2_000);
    assert.equal(log.filter((r) => r.type === 'BUST').length, 0);
    assert.equal(needsPolling(k), true);
  });

  it('records a reject once, and a pushed amendment that matches the record as nothing', () => {
    const d = diffOrder(knownFromOrder(order), state({ status: 'REJECTED', rejectReason: 'NO_FUNDS' }), 1, stamp());
    assert.deepEqual(d.reports.map((r) => [r.type, r.reason]), [['REJECT', 'NO_FUNDS']]);
    assert.equal(diffOrder(d.next, state({ status: 'REJECTED' }), 2, stamp()).reports.length, 0);
    const k = diffOrder(knownFromOrder(order), state({ fills: [fill('t1', 10)], filledQty: 10, status: 'FILLED' }), 1, stamp()).next;
    assert.equal(diffAmendment(k, { kind: 'correction', tradeId: 't1', quantity: 10, price: 100, fee: 0, venueTime: 9 }, stamp()).reports.length, 0);
    assert.equal(diffAmendment(k, { kind: 'bust', tradeId: 'nope', venueTime: 9 }, stamp()).unknownFill, true);
  });

  it('reports a cancel after the fills it follows, with the quantity done', () => {
    const d = diffOrder(knownFromOrder(order), state({ status: 'CANCELED', fills: [fill('t1', 3)], filledQty: 3 }), 1, stamp());
    assert.deepEqual(d.reports.map((r) => [r.type, r.cumQty]), [['ACK', 0], ['PARTIAL_FILL', 3], ['CANCEL', 3]]);
    assert.equal(needsPolling(d.next), false);
  });

  it('ends an order the venue shrank and then filled (an Alpaca OCO stop leg) with a CANCEL of the rest, once', () => {
    const log: ExecutionReport[] = [];
    let k = record(knownFromOrder(order), log, state(), 100);
    // the venue's order is 6 now (its take-profit sibling filled 4) and fills 6
    k = record(k, log, state({ quantity: 6, status: 'FILLED', filledQty: 6, fills: [fill('t1', 6)] }), 200);
    assert.deepEqual(log.map((r) => [r.type, r.cumQty, r.leavesQty, r.reason]), [['ACK', 0, 10, null], ['PARTIAL_FILL', 6, 4, null], ['CANCEL', 6, 0, 'VENUE_REDUCED']]);
    assert.equal(needsPolling(k), false);
    record(k, log, state({ quantity: 6, status: 'FILLED', filledQty: 6, fills: [fill('t1', 6)] }), 300);
    assert.equal(log.length, 3, 'a repeat adds nothing');
  });

  it('waits for every fill before ending a shrunk order: a FILLED push carrying only its last fill adds no CANCEL', () => {
    const log: ExecutionReport[] = [];
    const k = record(knownFromOrder(order), log, state({ quantity: 6, status: 'FILLED', filledQty: 6, fills: [fill('t2', 2)] }), 100);
    assert.deepEqual(log.map((r) => r.type), ['ACK', 'PARTIAL_FILL']);
    assert.equal(needsPolling(k), true, 'the venue says 6 filled, 2 recorded: looked up');
  });

  it('adds no CANCEL to an order filled in full', () => {
    const log: ExecutionReport[] = [];
    record(knownFromOrder(order), log, state({ status: 'FILLED', filledQty: 10, fills: [fill('t1', 10)] }), 100);
    assert.deepEqual(log.map((r) => r.type), ['ACK', 'FILL']);
  });
});
