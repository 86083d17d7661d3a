// The strategy runtime's position book: fills per strategy and symbol, a repeat counted once, a
// correction moving the position by what it changes, a bust taking the fill back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecutionReport } from '../../schemas/types.ts';
import { createPositionBook } from '../../edge/strategies/runtime.ts';

const base: ExecutionReport = {
  executionId: 'e1', type: 'FILL', orderId: 'o1', clientOrderId: 'c1', venueOrderId: null, venueTradeId: null, signalId: 's1',
  account: 'A', strategy: 'trend-1', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 3, lastPrice: 100, cumQty: 3, leavesQty: 0,
  fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: null, recordedAt: 0, hlc: 0,
};

test('fills, a repeat, a correction and a bust', () => {
  const book = createPositionBook();
  assert.equal(book.apply(base), true);
  assert.equal(book.apply(base), false, 'the same executionId twice counts once');
  assert.equal(book.apply({ ...base, executionId: 'e2', side: 'SELL', lastQty: 0.1 }), true);
  assert.equal(book.apply({ ...base, executionId: 'e3', strategy: 'meanrev-2', symbol: 'MSFT', lastQty: 5 }), true);
  assert.equal(book.apply({ ...base, executionId: 'a1', type: 'ACK', lastQty: 0 }), false);
  assert.deepEqual(book.snapshot(), { 'trend-1': [['AAPL', 2.9]], 'meanrev-2': [['MSFT', 5]] });
  assert.equal(book.apply({ ...base, executionId: 'c1', type: 'CORRECTION', lastQty: 2, refExecutionId: 'e1' }), true);
  assert.deepEqual(book.snapshot()['trend-1'], [['AAPL', 1.9]]);
  assert.equal(book.apply({ ...base, executionId: 'b1', type: 'BUST', lastQty: 0, refExecutionId: 'e2' }), true);
  assert.deepEqual(book.snapshot()['trend-1'], [['AAPL', 2]]);
  assert.equal(book.apply({ ...base, executionId: 'b2', type: 'BUST', lastQty: 0, refExecutionId: 'unknown' }), false);
});
