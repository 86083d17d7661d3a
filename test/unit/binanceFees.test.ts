// Binance commissions (faqs/commission_faq.md; `commission` / `commissionAsset` in myTrades and the
// FULL order answer, `n` / `N` in executionReport): taken from what the trade gives (base on a BUY,
// quote on a SELL) unless paid in BNB. The fee in quote currency and the base quantity received must
// both follow, and a fee that cannot be converted yet is never recorded as 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as binance from '../../connectors/binance/parse.ts';
import { assetsOf } from '../../connectors/binance/symbols.ts';

const fx = (name: string) => JSON.parse(readFileSync(new URL(`../../connectors/binance/fixtures/${name}.json`, import.meta.url), 'utf8'));
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const order = (over: Record<string, unknown> = {}) => binance.orderSchema.parse({ ...fx('order'), ...over });
type Detailed = { fee: number; quantity: number; feeDetail?: { commission: number; commissionAsset: string | null; netQuantity: number } };
const BNB_RATE = 410.5;
const withRates: binance.FeeContext = { assets: assetsOf, rate: (asset, quote) => (asset === 'BNB' && quote === 'USDT' ? BNB_RATE : null) };

describe('binance fees', () => {
  it('a BUY paying in the base asset: fee worth commission × price, and the quantity received is net of it', () => {
    const e = binance.eventFromExecutionReport(binance.executionReportSchema.parse(fx('ws_execution_report_trade').event));
    assert.ok(e.kind === 'order');
    const f = e.order.fills[0] as Detailed;
    assert.ok(close(f.fee, 0.00001 * 64250));
    assert.equal(f.quantity, 0.01, 'the order quantity filled stays gross: it is what the venue reports as executed');
    assert.deepEqual(f.feeDetail && [f.feeDetail.commissionAsset, f.feeDetail.commission], ['BTC', 0.00001]);
    assert.ok(f.feeDetail && close(f.feeDetail.netQuantity, 0.01 - 0.00001), 'the wallet received qty − commission');
  });

  it('a fee in the quote asset is the fee as is, nothing off the base quantity', () => {
    const placed = binance.stateFromPlacement(binance.orderSchema.parse(fx('order_full')));
    const f = placed.fills[0] as Detailed;
    assert.equal(f.fee, 0.257);
    assert.equal(f.feeDetail?.netQuantity, f.quantity);
  });

  it('a fee in BNB is converted at the BNB rate for the trade, not counted as 0', () => {
    const filled = order({ orderId: 28457240, executedQty: '0.01000000', status: 'FILLED' });
    const trades = fx('my_trades_bnb').map((t: unknown) => binance.tradeSchema.parse(t));
    assert.deepEqual(binance.ratesNeeded('BTCUSDT', trades), [{ asset: 'BNB', quote: 'USDT', at: 1709563005112 }]);
    const s = binance.stateWithTrades(filled, trades, withRates);
    const f = s.fills[0] as Detailed;
    assert.ok(close(f.fee, 0.00080312 * BNB_RATE));
    assert.equal(f.feeDetail?.commissionAsset, 'BNB');
    assert.equal(f.feeDetail?.netQuantity, 0.01, 'a BNB fee leaves the base quantity whole');
    assert.equal(s.fillsComplete, true);
  });

  it('without a BNB rate the fill is held back (the order says more is filled), never recorded with a zero fee', () => {
    const filled = order({ orderId: 28457240, executedQty: '0.01000000', status: 'FILLED' });
    const s = binance.stateWithTrades(filled, fx('my_trades_bnb').map((t: unknown) => binance.tradeSchema.parse(t)));
    assert.deepEqual([s.fills.length, s.filledQty, s.fillsComplete ?? false], [0, 0.01, false]);
  });

  it('a SELL paying in the base asset gave away qty + commission', () => {
    const f = binance.fillOf({ venueSymbol: 'BTCUSDT', side: 'SELL', tradeId: 1, qty: 0.01, price: 64000, commission: 0.00001, commissionAsset: 'BTC', time: 0 }, binance.NO_RATES);
    assert.ok(f && close(f.feeDetail.netQuantity, 0.01001) && close(f.fee, 0.64));
  });
});
