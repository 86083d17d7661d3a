// The brackets processor's pure core (streams/brackets/core.ts): exits per fill of an entry, with their
// parent's id and one OCO group per fill; the first fill of one exit asks once to cancel its sibling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BracketExit, ExecutionReport, Order } from '../../schemas/types.ts';
import { evolveCancelRequest, evolveOrder, initialBracketState, ocoGroupOf, onExecution, type BracketState } from '../../streams/brackets/core.ts';

const T0 = 1_700_000_000_000;
const tp: BracketExit = { orderType: 'LIMIT', price: null, percent: 2, amount: null, limitPrice: null };
const sl: BracketExit = { orderType: 'STOP', price: 97, percent: null, amount: null, limitPrice: null };

function entry(over: Partial<Order> = {}): Order {
  return {
    orderId: 'ord-1', clientOrderId: 'ord1', signalId: 'sig-1', decisionId: 'dec-1', account: 'acc1', strategy: 'trend', symbol: 'AAPL', venue: 'paper',
    side: 'BUY', quantity: 10, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', signalPrice: null, arrivalMid: 100, createdAt: T0, hlc: T0 * 1000,
    stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: tp, stopLoss: sl, parentOrderId: null, exitRole: null, ocoGroup: null, ...over,
  };
}

let seq = 0;
function report(order: Pick<Order, 'orderId' | 'side' | 'quantity'>, type: ExecutionReport['type'], lastQty: number, lastPrice = 100, leavesQty = 0): ExecutionReport {
  seq += 1;
  return {
    executionId: `paper:T-${seq}`, type, orderId: order.orderId, clientOrderId: 'c', venueOrderId: 'v', venueTradeId: `t${seq}`, signalId: 'sig-1',
    account: 'acc1', strategy: 'trend', symbol: 'AAPL', venue: 'paper', side: order.side, lastQty, lastPrice, cumQty: lastQty, leavesQty, fee: 0,
    feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: T0, recordedAt: T0, hlc: T0 * 1000 + seq,
  };
}

const run = (s: BracketState, r: ExecutionReport) => onExecution(s, { report: r, now: T0, hlc: T0 * 1000, tick: () => 0.01 });

describe('brackets core: exits per fill', () => {
  it('each fill of an entry gets a take-profit and a stop for what filled, with the parent, role and one OCO group per fill', () => {
    const s = evolveOrder(initialBracketState(), entry());
    const first = run(s, report(entry(), 'PARTIAL_FILL', 4, 100, 6));
    assert.deepEqual(first.orders.map((o) => [o.exitRole, o.side, o.quantity, o.orderType, o.limitPrice, o.stopPrice, o.timeInForce, o.parentOrderId, o.signalId]), [
      ['TAKE_PROFIT', 'SELL', 4, 'LIMIT', 102, null, 'GTC', 'ord-1', 'sig-1'],
      ['STOP_LOSS', 'SELL', 4, 'STOP', null, 97, 'GTC', 'ord-1', 'sig-1'],
    ]);
    const fill = report(entry(), 'FILL', 6, 101);
    const second = run(s, fill);
    assert.deepEqual(second.orders.map((o) => [o.exitRole, o.quantity, o.limitPrice]), [['TAKE_PROFIT', 6, 103.02], ['STOP_LOSS', 6, null]]);
    assert.equal(new Set([...first.orders, ...second.orders].map((o) => o.ocoGroup)).size, 2);
    assert.equal(second.orders[0].ocoGroup, ocoGroupOf('ord-1', fill.executionId));
    assert.deepEqual(first.cancels, []);
  });

  it('exits are sized to what the fill added to the holding when the venue took its fee from it (netQty)', () => {
    const s = evolveOrder(initialBracketState(), entry());
    const out = run(s, { ...report(entry(), 'FILL', 10), netQty: 9.99, feeAsset: 'AAPL', feeInAsset: 0.01 });
    assert.deepEqual(out.orders.map((o) => [o.exitRole, o.quantity]), [['TAKE_PROFIT', 9.99], ['STOP_LOSS', 9.99]]);
  });

  it('a fill read again yields nothing new; a fresh state yields the same ids (a replay after a crash)', () => {
    const fill = report(entry(), 'FILL', 10);
    const s = evolveOrder(initialBracketState(), entry());
    const placed = run(s, fill).orders;
    assert.deepEqual(run(s, fill), { orders: [], cancels: [], problem: null });
    const replay = run(evolveOrder(initialBracketState(), entry()), fill).orders;
    assert.deepEqual(replay.map((o) => o.orderId), placed.map((o) => o.orderId));
  });

  it('a fill of an order without a bracket, an ack or a cancel of the entry asks for nothing', () => {
    const s = evolveOrder(evolveOrder(initialBracketState(), entry()), entry({ orderId: 'plain', takeProfit: null, stopLoss: null }));
    for (const r of [report({ orderId: 'plain', side: 'BUY', quantity: 10 }, 'FILL', 10), report(entry(), 'ACK', 0), report(entry(), 'CANCEL', 0)]) {
      assert.deepEqual(run(s, r), { orders: [], cancels: [], problem: null });
    }
  });

  it('at fill time a fixed price the market already passed is still placed (it fills or triggers at once) rather than left out', () => {
    const s = evolveOrder(initialBracketState(), entry({ takeProfit: { ...tp, percent: null, price: 101 } }));
    const legs = run(s, report(entry(), 'FILL', 10, 102)).orders;
    assert.deepEqual(legs.map((o) => [o.exitRole, o.limitPrice, o.stopPrice]), [['TAKE_PROFIT', 101, null], ['STOP_LOSS', null, 97]]);
  });

  it('a short entry with only a trailing stop gets one buy trailing stop, in no OCO group', () => {
    const s = evolveOrder(initialBracketState(), entry({ side: 'SELL', takeProfit: null, stopLoss: { ...sl, orderType: 'TRAILING_STOP', price: null, percent: 1.5 } }));
    const legs = run(s, report({ orderId: 'ord-1', side: 'SELL', quantity: 10 }, 'FILL', 10)).orders;
    assert.deepEqual(legs.map((o) => [o.exitRole, o.side, o.orderType, o.trailPercent, o.ocoGroup]), [['STOP_LOSS', 'BUY', 'TRAILING_STOP', 1.5, null]]);
    assert.deepEqual(run(s, report(legs[0], 'FILL', 10)).cancels, []);
  });
});

describe('brackets core: one-cancels-other', () => {
  function placed(): { s: BracketState; tpOrder: Order; slOrder: Order } {
    const s = evolveOrder(initialBracketState(), entry());
    const [tpOrder, slOrder] = run(s, report(entry(), 'FILL', 10)).orders;
    return { s, tpOrder, slOrder };
  }

  it('the first fill of the take-profit, even partial, cancels the stop once; later fills of it ask nothing more', () => {
    const { s, tpOrder, slOrder } = placed();
    const first = run(s, report(tpOrder, 'PARTIAL_FILL', 3, 102, 7));
    assert.deepEqual(first.cancels.map((c) => [c.orderId, c.account, c.venue, c.source, c.requestId]), [[slOrder.orderId, 'acc1', 'paper', 'oco', `oco|${tpOrder.ocoGroup}`]]);
    assert.deepEqual(run(s, report(tpOrder, 'FILL', 7, 102)).cancels, []);
    // The stop's own cancel report changes nothing.
    assert.deepEqual(run(s, report(slOrder, 'CANCEL', 0)), { orders: [], cancels: [], problem: null });
  });

  it('a stop fill cancels the take-profit; a sibling already rejected or filled is not asked', () => {
    const a = placed();
    assert.deepEqual(run(a.s, report(a.slOrder, 'FILL', 10, 97)).cancels.map((c) => c.orderId), [a.tpOrder.orderId]);
    const b = placed();
    run(b.s, report(b.slOrder, 'REJECT', 0));
    assert.deepEqual(run(b.s, report(b.tpOrder, 'FILL', 10, 102)).cancels, []);
  });

  it('a pair already resolved on `cancel-requests` (read back after a restart) is not asked again', () => {
    const { s, tpOrder, slOrder } = placed();
    const asked = run(s, report(tpOrder, 'PARTIAL_FILL', 3, 102, 7)).cancels[0];
    const restarted = evolveCancelRequest(evolveOrder(evolveOrder(evolveOrder(initialBracketState(), entry()), tpOrder), slOrder), asked);
    assert.deepEqual(run(restarted, report(tpOrder, 'FILL', 7, 102)).cancels, []);
    assert.deepEqual(run(restarted, report(slOrder, 'PARTIAL_FILL', 1, 97, 9)).cancels, []);
  });
});
