// The connector's ledger: what one instance knows of its orders, which it sent, which partitions it owns.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOrderLedger } from '../../connectors/ledger.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';

const order: Order = {
  orderId: 'o-1', clientOrderId: 'c1', signalId: 's-1', decisionId: 'd-1', account: 'A', strategy: 'st', symbol: 'AAPL', venue: 'paper',
  side: 'BUY', quantity: 10, orderType: 'MARKET', limitPrice: null, timeInForce: 'DAY', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: 0, hlc: 0,
};
const fill: ExecutionReport = {
  executionId: 'paper-t1', type: 'PARTIAL_FILL', orderId: 'o-1', clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: 't1', signalId: 's-1', account: 'A', strategy: 'st',
  symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 4, lastPrice: 100, cumQty: 4, leavesQty: 6, fee: 0, feeAsset: null, feeInAsset: null, netQty: null,
  refExecutionId: null, reason: null, venueTime: 1, recordedAt: 1, hlc: 1,
};

describe('connector ledger', () => {
  it('given an order met twice, then it is new once and its partition is kept', () => {
    const l = createOrderLedger();
    assert.equal(l.noteOrder(order, 3), true);
    assert.equal(l.noteOrder(order), false);
    assert.equal(l.size, 1);
    assert.equal(l.cidOfOrder('o-1'), 'c1');
    assert.equal(l.owns('c1'), false, 'no partition owned yet');
    l.own([3]);
    assert.equal(l.owns('c1'), true);
    l.release();
    assert.equal(l.owns('c1'), false, 'released: nothing is recorded for it here');
  });

  it('given a report read twice from executions, then it is applied once', () => {
    const l = createOrderLedger();
    l.noteOrder(order, 0);
    l.applyRecorded(fill);
    l.applyRecorded({ ...fill, hlc: 2 }); // the same execution re-read (a rebalance, a repeat)
    assert.equal(l.get('c1')?.fills.size, 1);
    assert.deepEqual(l.unrecorded([fill, { ...fill, executionId: 'paper-t2' }]).map((r) => r.executionId), ['paper-t2']);
  });

  it('given reports this instance wrote, then they count as recorded and the state is the one given', () => {
    const l = createOrderLedger();
    l.noteOrder(order, 0);
    const next = { ...l.get('c1')!, acked: true };
    l.recorded('c1', next, [{ executionId: 'x-ack' }]);
    assert.equal(l.get('c1'), next);
    assert.deepEqual(l.unrecorded([{ executionId: 'x-ack' }]), []);
    assert.equal(l.wasSent('c1'), false);
    l.markSent('c1');
    assert.equal(l.wasSent('c1'), true);
  });
});
