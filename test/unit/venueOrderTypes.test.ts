// Each real venue's order mapping for stop, stop-limit and trailing-stop orders and time in force:
// sent natively where the venue's documentation has the type, refused with a reason code where it has
// not (VENUE_REJECTED with venueCode ORDER_TYPE_UNSUPPORTED / TIME_IN_FORCE_UNSUPPORTED), never sent as
// another type.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alpacaOcoBody, alpacaOcoSupported, alpacaOrderBody } from '../../connectors/alpaca/orderBody.ts';
import { binanceOrderParams } from '../../connectors/binance/orderParams.ts';
import { VenueError } from '../../connectors/http.ts';
import { ibkrOrderFields } from '../../connectors/ibkr/orderLine.ts';
import { marketFilling, MT5_ORDERS, pendingFields } from '../../connectors/mt5/pending.ts';
import { unsupported } from '../../connectors/orderTypes.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';

const req = (over: Partial<VenueOrderRequest>): VenueOrderRequest => ({
  clientOrderId: 'c1', symbol: 'AAPL', side: 'SELL', quantity: 10, orderType: 'MARKET', limitPrice: null, timeInForce: 'GTC', ...over,
});
const refusedWith = (fn: () => unknown): string | null => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VenueError, String(e));
    assert.equal(e.code, 'VENUE_REJECTED');
    assert.equal(e.retriable, false);
    return e.venueCode;
  }
  assert.fail('expected a refusal');
};

describe('Alpaca OCO (order class oco)', () => {
  const tp = req({ clientOrderId: 'tp1', orderType: 'LIMIT', limitPrice: 110, timeInForce: 'GTC' });
  const sl = req({ clientOrderId: 'sl1', orderType: 'STOP', stopPrice: 95, timeInForce: 'GTC' });

  it('sends an exit pair as one limit order with its take_profit and stop_loss, under the take-profit\'s id', () => {
    assert.deepEqual(alpacaOcoBody({ takeProfit: tp, stopLoss: sl }), {
      symbol: 'AAPL', qty: '10', side: 'sell', type: 'limit', time_in_force: 'gtc', order_class: 'oco', client_order_id: 'tp1',
      limit_price: '110', take_profit: { limit_price: '110' }, stop_loss: { stop_price: '95' },
    });
    const stopLimit = alpacaOcoBody({ takeProfit: tp, stopLoss: { ...sl, orderType: 'STOP_LIMIT', limitPrice: 94.5 } });
    assert.deepEqual(stopLimit.stop_loss, { stop_price: '95', limit_price: '94.5' });
  });

  it('takes only what Alpaca documents for oco: equities, a stop or stop-limit, day or gtc alike, whole shares, the stop a cent past the take-profit', () => {
    assert.equal(alpacaOcoSupported({ takeProfit: tp, stopLoss: sl }), true);
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, symbol: 'BTCUSD' }, stopLoss: { ...sl, symbol: 'BTCUSD' } }), false, 'crypto');
    assert.equal(alpacaOcoSupported({ takeProfit: tp, stopLoss: { ...sl, orderType: 'TRAILING_STOP', stopPrice: null, trailPercent: 1 } }), false, 'trailing stop');
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, timeInForce: 'DAY' }, stopLoss: sl }), false, 'different time in force');
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, timeInForce: 'IOC' }, stopLoss: { ...sl, timeInForce: 'IOC' } }), false, 'ioc');
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, quantity: 2.5 }, stopLoss: { ...sl, quantity: 2.5 } }), false, 'fractional');
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, limitPrice: 95 }, stopLoss: sl }), false, 'stop not below the take-profit');
    assert.equal(alpacaOcoSupported({ takeProfit: { ...tp, limitPrice: 95.01 }, stopLoss: sl }), true, 'a cent below is enough');
    const buyTp = { ...tp, side: 'BUY' as const, limitPrice: 90 };
    assert.equal(alpacaOcoSupported({ takeProfit: buyTp, stopLoss: { ...sl, side: 'BUY', stopPrice: 105 } }), true, 'a buy pair closing a short');
    assert.equal(alpacaOcoSupported({ takeProfit: buyTp, stopLoss: { ...sl, side: 'BUY', stopPrice: 89 } }), false);
    assert.throws(() => alpacaOcoBody({ takeProfit: tp, stopLoss: { ...sl, stopPrice: 120 } }));
  });
});

describe('Alpaca', () => {
  it('sends stop, stop_limit and trailing_stop natively', () => {
    assert.deepEqual(alpacaOrderBody('alpaca', req({ orderType: 'STOP', stopPrice: 95 })), {
      symbol: 'AAPL', qty: '10', side: 'sell', type: 'stop', time_in_force: 'gtc', client_order_id: 'c1', stop_price: '95',
    });
    const sl = alpacaOrderBody('alpaca', req({ orderType: 'STOP_LIMIT', stopPrice: 95, limitPrice: 94.5, timeInForce: 'DAY' }));
    assert.deepEqual([sl.type, sl.stop_price, sl.limit_price, sl.time_in_force], ['stop_limit', '95', '94.5', 'day']);
    const byAmount = alpacaOrderBody('alpaca', req({ orderType: 'TRAILING_STOP', trailAmount: 2 }));
    assert.deepEqual([byAmount.type, byAmount.trail_price, byAmount.trail_percent], ['trailing_stop', '2', undefined]);
    assert.equal(alpacaOrderBody('alpaca', req({ orderType: 'TRAILING_STOP', trailPercent: 1.5 })).trail_percent, '1.5');
    assert.equal(alpacaOrderBody('alpaca', req({ timeInForce: 'FOK' })).time_in_force, 'fok');
  });

  it('refuses what Alpaca does not take: a trailing stop IOC, a crypto stop or FOK', () => {
    assert.equal(refusedWith(() => alpacaOrderBody('alpaca', req({ orderType: 'TRAILING_STOP', trailPercent: 1, timeInForce: 'IOC' }))), 'TIME_IN_FORCE_UNSUPPORTED');
    assert.equal(refusedWith(() => alpacaOrderBody('alpaca', req({ symbol: 'BTCUSD', orderType: 'STOP', stopPrice: 1 }))), 'ORDER_TYPE_UNSUPPORTED');
    assert.equal(refusedWith(() => alpacaOrderBody('alpaca', req({ symbol: 'BTCUSD', orderType: 'TRAILING_STOP', trailPercent: 1 }))), 'ORDER_TYPE_UNSUPPORTED');
    assert.equal(refusedWith(() => alpacaOrderBody('alpaca', req({ symbol: 'BTCUSD', timeInForce: 'FOK' }))), 'TIME_IN_FORCE_UNSUPPORTED');
    assert.equal(alpacaOrderBody('alpaca', req({ symbol: 'BTCUSD', orderType: 'STOP_LIMIT', stopPrice: 1, limitPrice: 1 })).type, 'stop_limit');
  });
});

describe('Binance', () => {
  it('sends STOP_LOSS, STOP_LOSS_LIMIT and a trailing STOP_LOSS in BIPS', () => {
    assert.deepEqual(binanceOrderParams('binance', req({ orderType: 'STOP', stopPrice: 95 })), { side: 'SELL', quantity: '10', type: 'STOP_LOSS', stopPrice: '95' });
    assert.deepEqual(binanceOrderParams('binance', req({ orderType: 'STOP_LIMIT', stopPrice: 95, limitPrice: 94.5, timeInForce: 'FOK' })), {
      side: 'SELL', quantity: '10', type: 'STOP_LOSS_LIMIT', timeInForce: 'FOK', price: '94.5', stopPrice: '95',
    });
    assert.deepEqual(binanceOrderParams('binance', req({ orderType: 'TRAILING_STOP', trailPercent: 1.5 })), { side: 'SELL', quantity: '10', type: 'STOP_LOSS', trailingDelta: '150' });
    assert.equal(binanceOrderParams('binance', req({ orderType: 'LIMIT', limitPrice: 1, timeInForce: 'DAY' })).timeInForce, 'GTC');
  });

  it('refuses a trail by amount and a market FOK', () => {
    assert.equal(refusedWith(() => binanceOrderParams('binance', req({ orderType: 'TRAILING_STOP', trailAmount: 2 }))), 'ORDER_TYPE_UNSUPPORTED');
    assert.equal(refusedWith(() => binanceOrderParams('binance', req({ timeInForce: 'FOK' }))), 'TIME_IN_FORCE_UNSUPPORTED');
    assert.equal(refusedWith(() => binanceOrderParams('binance', req({ orderType: 'STOP', stopPrice: 1, timeInForce: 'IOC' }))), 'TIME_IN_FORCE_UNSUPPORTED');
  });
});

describe('IBKR', () => {
  it('sends STP, STOP_LIMIT and TRAIL natively', () => {
    assert.deepEqual(ibkrOrderFields(req({ orderType: 'STOP', stopPrice: 95 })), { tif: 'GTC', orderType: 'STP', price: 95 });
    assert.deepEqual(ibkrOrderFields(req({ orderType: 'STOP_LIMIT', stopPrice: 95, limitPrice: 94.5 })), { tif: 'GTC', orderType: 'STOP_LIMIT', price: 94.5, auxPrice: 95 });
    assert.deepEqual(ibkrOrderFields(req({ orderType: 'TRAILING_STOP', trailAmount: 2, timeInForce: 'DAY' })), { tif: 'DAY', orderType: 'TRAIL', trailingType: 'amt', trailingAmt: 2 });
    assert.deepEqual(ibkrOrderFields(req({ orderType: 'TRAILING_STOP', trailPercent: 1.5 })), { tif: 'GTC', orderType: 'TRAIL', trailingType: '%', trailingAmt: 1.5 });
  });

  it('refuses fill-or-kill, which the Client Portal API does not have', () => {
    assert.equal(refusedWith(() => ibkrOrderFields(req({ timeInForce: 'FOK' }))), 'TIME_IN_FORCE_UNSUPPORTED');
  });
});

describe('MT5', () => {
  it('sends stop and stop-limit as pending orders; market FOK as a filling mode', () => {
    assert.deepEqual(pendingFields(req({ orderType: 'STOP', stopPrice: 1.08 })), { actionType: 'ORDER_TYPE_SELL_STOP', openPrice: 1.08 });
    assert.deepEqual(pendingFields(req({ side: 'BUY', orderType: 'STOP_LIMIT', stopPrice: 1.1, limitPrice: 1.101 })), { actionType: 'ORDER_TYPE_BUY_STOP_LIMIT', openPrice: 1.1, stopLimitPrice: 1.101 });
    assert.deepEqual(marketFilling(req({ timeInForce: 'FOK' })), { fillingModes: ['ORDER_FILLING_FOK'] });
  });

  it('refuses a trailing stop and a pending IOC', () => {
    assert.equal(unsupported('mt5', MT5_ORDERS, req({ orderType: 'TRAILING_STOP', trailPercent: 1 }))?.venueCode, 'ORDER_TYPE_UNSUPPORTED');
    assert.equal(unsupported('mt5', MT5_ORDERS, req({ orderType: 'STOP', stopPrice: 1, timeInForce: 'IOC' }))?.venueCode, 'TIME_IN_FORCE_UNSUPPORTED');
  });
});
