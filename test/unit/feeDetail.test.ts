// A fee the venue takes from the asset received (a Binance BUY paying its commission in the base asset):
// the fill report carries the fee as charged and the quantity the holding really moved by (netQty), the one
// position fold counts that quantity, bracket exits are sized to it, the Postgres row keeps it, and rows
// stored before these fields existed keep their hash-chain hashes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillReport, type OrderContext } from '../../connectors/reports.ts';
import type { DetailedFill } from '../../connectors/venueCapabilities.ts';
import { canonicalEvent, linkHash, GENESIS_HASH } from '../../schemas/hashChain.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { foldPositions, positionKey } from '../../streams/positions/fold.ts';
import { executionValues, EXECUTION_COLUMNS, fromExecutionRow, type ExecutionRow } from '../../streams/projection/rows.ts';

const ctx: OrderContext = { orderId: 'o1', clientOrderId: 'c1', signalId: 's1', account: 'ACC', strategy: 'st', symbol: 'BTCUSD', venue: 'binance', side: 'BUY' };
const stamp = { recordedAt: 1_000, hlc: () => 1_000_000 };
const baseFee: DetailedFill = { tradeId: 't1', quantity: 1, price: 100, fee: 0.1, venueTime: 5, feeDetail: { commission: 0.001, commissionAsset: 'BTC', netQuantity: 0.999 } };
const quoteFee: DetailedFill = { tradeId: 't2', quantity: 1, price: 100, fee: 0.1, venueTime: 5, feeDetail: { commission: 0.1, commissionAsset: 'USDT', netQuantity: 1 } };

describe('fees taken from the asset received', () => {
  it('the fill report says what was charged and what the holding received', () => {
    const r = fillReport(ctx, 'V1', baseFee, 1, 1, stamp);
    assert.deepEqual([r.lastQty, r.fee, r.feeAsset, r.feeInAsset, r.netQty], [1, 0.1, 'BTC', 0.001, 0.999]);
    const q = fillReport(ctx, 'V1', quoteFee, 1, 1, stamp);
    assert.deepEqual([q.lastQty, q.feeAsset, q.feeInAsset, q.netQty], [1, 'USDT', 0.1, null], 'a fee in the quote asset leaves the quantity alone');
    const plain = fillReport(ctx, 'V1', { tradeId: 't3', quantity: 1, price: 100, fee: 0, venueTime: 5 }, 1, 1, stamp);
    assert.deepEqual([plain.feeAsset, plain.feeInAsset, plain.netQty], [null, null, null]);
  });

  it('the position holds what was received; the fee counts once', () => {
    const buy = fillReport(ctx, 'V1', baseFee, 1, 1, stamp);
    const sell: ExecutionReport = { ...fillReport({ ...ctx, orderId: 'o2', clientOrderId: 'c2', side: 'SELL' }, 'V2', { tradeId: 't9', quantity: 0.999, price: 110, fee: 0, venueTime: 6 }, 0.999, 0.999, stamp) };
    const after = foldPositions([buy]).get(positionKey(buy))!;
    assert.deepEqual([after.quantity, after.avgPrice, after.fees], [0.999, 100, 0.1]);
    // Cash spent: 100 = quantity × average cost + fees.
    assert.ok(Math.abs(after.quantity * after.avgPrice + after.fees - 100) < 1e-9);
    const flat = foldPositions([buy, sell]).get(positionKey(buy))!;
    assert.ok(Math.abs(flat.quantity) < 1e-12, 'selling what was received leaves it flat');
    assert.ok(Math.abs(flat.realizedPnl - 9.99) < 1e-9);
  });

  it('a correction carrying netQty replaces the fill by that quantity', () => {
    const buy = fillReport(ctx, 'V1', baseFee, 1, 1, stamp);
    const corr: ExecutionReport = { ...buy, executionId: 'binance:T:t1:1:CORRECTION', type: 'CORRECTION', refExecutionId: buy.executionId, lastQty: 2, netQty: 1.998, fee: 0.2 };
    assert.equal(foldPositions([buy, corr]).get(positionKey(buy))!.quantity, 1.998);
  });

  it('the Postgres row keeps the fields, and the hash of a row without them is what it was', () => {
    const buy = fillReport(ctx, 'V1', baseFee, 1, 1, stamp);
    const values = executionValues(buy, 0, '7');
    const row = Object.fromEntries(EXECUTION_COLUMNS.map((c, i) => [c, values[i]])) as unknown as ExecutionRow;
    const back = fromExecutionRow({ ...row, hlc: String(row.hlc) } as ExecutionRow);
    assert.deepEqual([back.feeAsset, back.feeInAsset, back.netQty], ['BTC', 0.001, 0.999]);
    assert.equal(canonicalEvent(back), canonicalEvent(buy));
    // A row written before the fields existed (read back with nulls) hashes over the old field list.
    const old = fillReport(ctx, 'V1', { tradeId: 't3', quantity: 1, price: 100, fee: 0, venueTime: 5 }, 1, 1, stamp);
    assert.doesNotMatch(canonicalEvent(old), /feeAsset|feeInAsset|netQty/);
    assert.match(canonicalEvent(buy), /"netQty":0\.999/);
    assert.notEqual(linkHash(GENESIS_HASH, buy, 0, '7'), linkHash(GENESIS_HASH, { ...buy, netQty: null, feeAsset: null, feeInAsset: null }, 0, '7'));
  });
});
