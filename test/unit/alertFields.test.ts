// The alert fields of issue 17 on both routes: order types, time in force, sizing, brackets and the
// actions exit / cancel / add. Every invalid combination is a 400 naming the field the sender wrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { execFileSync } from 'node:child_process';
import { avroType } from '../../schemas/codec.ts';
import { EdgeError } from '../../edge/errors.ts';
import { signedSignal, tradingViewSignal } from '../../edge/signal.ts';
import type { SignalContext } from '../../edge/signalBuild.ts';

const SECRET = 'tv-secret-0123456789abcdef';
const ctx: SignalContext = { strategy: { id: 'trend-1', account: 'acc-7', symbols: undefined }, receivedAt: 1_700_000_000_123, hlc: 1_700_000_000_123_000 };
const tv = (over: Record<string, unknown> = {}) => tradingViewSignal({ secret: SECRET, strategy: 'trend-1', ticker: 'AAPL', action: 'buy', contracts: '10', ...over }, ctx);
const signed = (over: Record<string, unknown> = {}) => signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 10, ...over }, ctx);

const refusal = (fn: () => unknown): { field: string | undefined; message: string } => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EdgeError, String(err));
    assert.equal(err.statusCode, 400);
    return { field: err.field, message: err.message };
  }
  assert.fail('expected a 400');
};
const fieldOf = (fn: () => unknown) => refusal(fn).field;

describe('order types and time in force', () => {
  it('carries stop, stop-limit and trailing stops on both routes', () => {
    const stop = tv({ order_type: 'stop', stop_price: '101.5', time_in_force: 'gtc' });
    assert.deepEqual([stop.orderType, stop.stopPrice, stop.limitPrice, stop.timeInForce], ['STOP', 101.5, null, 'GTC']);
    const stopLimit = signed({ orderType: 'stop_limit', stopPrice: 101, limitPrice: 101.2, timeInForce: 'day' });
    assert.deepEqual([stopLimit.orderType, stopLimit.stopPrice, stopLimit.limitPrice, stopLimit.timeInForce], ['STOP_LIMIT', 101, 101.2, 'DAY']);
    const trailing = tv({ order_type: 'trailing_stop', trail_percent: '1.5' });
    assert.deepEqual([trailing.orderType, trailing.trailPercent, trailing.trailAmount], ['TRAILING_STOP', 1.5, null]);
    assert.equal(signed({ orderType: 'trailing_stop', trailAmount: 0.5 }).trailAmount, 0.5);
    assert.equal(signed({ orderType: 'market', timeInForce: 'fok' }).timeInForce, 'FOK');
  });

  it('refuses each invalid combination naming the field', () => {
    assert.equal(fieldOf(() => tv({ order_type: 'stop' })), 'stop_price');
    assert.equal(fieldOf(() => signed({ orderType: 'stop' })), 'stopPrice');
    assert.equal(fieldOf(() => tv({ order_type: 'stop_limit', stop_price: 1 })), 'limit_price');
    assert.equal(fieldOf(() => tv({ order_type: 'stop_limit', limit_price: 1 })), 'stop_price');
    assert.equal(fieldOf(() => tv({ order_type: 'stop', stop_price: 1, limit_price: 1 })), 'limit_price');
    assert.equal(fieldOf(() => tv({ order_type: 'limit', limit_price: 1, stop_price: 1 })), 'stop_price');
    assert.equal(fieldOf(() => tv({ stop_price: 1 })), 'stop_price');
    assert.equal(fieldOf(() => tv({ order_type: 'trailing_stop' })), 'trail_amount');
    assert.equal(fieldOf(() => tv({ order_type: 'trailing_stop', trail_amount: 1, trail_percent: 1 })), 'trail_percent');
    assert.equal(fieldOf(() => signed({ orderType: 'trailing_stop', trailAmount: 1, trailPercent: 1 })), 'trailPercent');
    assert.equal(fieldOf(() => tv({ order_type: 'stop', stop_price: 1, trail_amount: 1 })), 'trail_amount');
    assert.equal(fieldOf(() => tv({ order_type: 'trailing_stop', trail_percent: 0 })), 'trail_percent');
    assert.equal(fieldOf(() => tv({ order_type: 'trailing_stop', trail_percent: '100.01' })), 'trail_percent');
    assert.equal(tv({ order_type: 'trailing_stop', trail_percent: 100 }).trailPercent, 100);
    assert.equal(fieldOf(() => tv({ order_type: 'stop', stop_price: -1 })), 'stop_price');
    assert.equal(fieldOf(() => tv({ time_in_force: 'gtc' })), 'time_in_force');
    assert.equal(fieldOf(() => signed({ timeInForce: 'day' })), 'timeInForce');
    assert.equal(fieldOf(() => tv({ time_in_force: 'week' })), 'time_in_force');
    assert.equal(fieldOf(() => tv({ order_type: 'stop_market' })), 'order_type');
    // The camelCase spelling on the TradingView route is a near miss, refused rather than ignored.
    assert.equal(fieldOf(() => tv({ order_type: 'stop', stop_price: 1, stopPrice: 1 })), 'stopPrice');
  });

  it('keeps the id of an alert that uses none of the new fields, and changes it when one is set', () => {
    const plain = tv({ time: '2026-01-02T10:00:00Z' });
    assert.equal(plain.signalId, tv({ time: '2026-01-02T10:00:00Z', interval: '5' }).signalId);
    assert.notEqual(plain.signalId, tv({ time: '2026-01-02T10:00:00Z', time_in_force: 'ioc' }).signalId);
    const a = tv({ order_type: 'stop', stop_price: 100, time: '2026-01-02T10:00:00Z' });
    const b = tv({ order_type: 'stop', stop_price: 101, time: '2026-01-02T10:00:00Z' });
    assert.notEqual(a.signalId, b.signalId);
  });
});

describe('sizing', () => {
  it('carries money and risk in sizing, never in quantity', () => {
    const dollars = tv({ contracts: undefined, quantity: '2500', quantity_type: 'dollar_amount' });
    assert.deepEqual([dollars.quantity, dollars.sizing], [0, { type: 'DOLLAR_AMOUNT', amount: 2500 }]);
    const pct = signed({ quantity: 5, quantityType: 'percent_of_equity' });
    assert.deepEqual(pct.sizing, { type: 'PERCENT_OF_EQUITY', amount: 5 });
    const risk = tv({ quantity_type: 'risk_amount', contracts: 200, stop_loss: { percent: 2 } });
    assert.deepEqual([risk.quantity, risk.sizing], [0, { type: 'RISK_AMOUNT', amount: 200 }]);
    assert.deepEqual([tv({ quantity_type: 'fixed' }).quantity, tv({ quantity_type: 'fixed' }).sizing], [10, null]);
  });

  it('refuses what cannot be sized', () => {
    assert.equal(fieldOf(() => tv({ quantity_type: 'risk_amount' })), 'stop_loss');
    assert.equal(fieldOf(() => signed({ quantityType: 'risk_amount' })), 'stopLoss');
    assert.equal(fieldOf(() => tv({ quantity_type: 'percent_of_equity', contracts: 150 })), 'quantity');
    assert.equal(fieldOf(() => tv({ quantity: 5 })), 'quantity');
    assert.equal(fieldOf(() => tv({ quantity_type: 'lots' })), 'quantity_type');
    assert.equal(fieldOf(() => tv({ quantity_type: 'dollar_amount', market_position: 'long', market_position_size: 5 })), 'quantity_type');
    assert.equal(fieldOf(() => signed({ intent: 'target', target: 5, side: undefined, quantity: undefined, quantityType: 'dollar_amount' })), 'quantityType');
  });
});

describe('brackets', () => {
  it('carries take-profit and stop-loss exits', () => {
    const s = tv({ take_profit: { percent: '3' }, stop_loss: { type: 'stop_limit', price: 95, limit_price: 94.5 } });
    assert.deepEqual(s.takeProfit, { orderType: 'LIMIT', price: null, percent: 3, amount: null, limitPrice: null });
    assert.deepEqual(s.stopLoss, { orderType: 'STOP_LIMIT', price: 95, percent: null, amount: null, limitPrice: 94.5 });
    assert.deepEqual(signed({ stopLoss: { type: 'trailing_stop', amount: 2 } }).stopLoss, { orderType: 'TRAILING_STOP', price: null, percent: null, amount: 2, limitPrice: null });
    assert.equal(signed({ stopLoss: { amount: 2 } }).stopLoss?.orderType, 'STOP');
  });

  it('needs exactly one of price, percent, amount in each exit, and refuses stray fields', () => {
    assert.equal(fieldOf(() => tv({ take_profit: {} })), 'take_profit');
    assert.equal(fieldOf(() => tv({ take_profit: { price: 110, percent: 2 } })), 'take_profit.percent');
    assert.equal(fieldOf(() => signed({ stopLoss: { price: 90, amount: 2 } })), 'stopLoss.amount');
    assert.equal(fieldOf(() => tv({ take_profit: { percent: 101 } })), 'take_profit.percent');
    assert.equal(fieldOf(() => tv({ take_profit: { price: 110, type: 'limit' } })), 'take_profit.type');
    assert.equal(fieldOf(() => tv({ stop_loss: { type: 'stop_limit', price: 95 } })), 'stop_loss.limit_price');
    assert.equal(fieldOf(() => signed({ stopLoss: { price: 95, limitPrice: 94 } })), 'stopLoss.limitPrice');
    assert.equal(fieldOf(() => tv({ stop_loss: { type: 'trailing_stop', price: 95 } })), 'stop_loss.price');
    assert.equal(fieldOf(() => tv({ stop_loss: { type: 'market', price: 95 } })), 'stop_loss.type');
    assert.equal(fieldOf(() => tv({ action: 'exit', contracts: undefined, stop_loss: { price: 95 } })), 'stop_loss');
  });
});

describe('actions exit, cancel, add', () => {
  it('exit closes the position: a FLAT intent, on both routes', () => {
    const exit = tv({ action: 'exit', market_position: 'flat' });
    assert.deepEqual([exit.intent, exit.side, exit.quantity, exit.targetPosition], ['FLAT', null, 0, 0]);
    assert.equal(signed({ intent: 'exit', side: undefined, quantity: undefined }).intent, 'FLAT');
    // An exit may rest as a limit or a stop.
    assert.equal(tv({ action: 'exit', order_type: 'limit', limit_price: 120 }).orderType, 'LIMIT');
    assert.equal(fieldOf(() => tv({ action: 'exit', market_position: 'long', market_position_size: 5 })), 'market_position');
    assert.equal(fieldOf(() => tv({ action: 'exit', quantity: 5, contracts: undefined })), 'quantity');
    assert.equal(fieldOf(() => tv({ action: 'exit', intent: 'delta' })), 'intent');
    assert.equal(fieldOf(() => signed({ intent: 'exit', quantity: undefined })), 'side');
  });

  it('add is a size in the position\'s direction, with no side', () => {
    const add = tv({ action: 'add', contracts: 5 });
    assert.deepEqual([add.intent, add.side, add.quantity], ['ADD', null, 5]);
    const addSigned = signed({ intent: 'add', side: undefined, quantity: 3, quantityType: 'dollar_amount' });
    assert.deepEqual([addSigned.intent, addSigned.quantity, addSigned.sizing], ['ADD', 0, { type: 'DOLLAR_AMOUNT', amount: 3 }]);
    assert.equal(fieldOf(() => signed({ intent: 'add' })), 'side');
    assert.equal(fieldOf(() => tv({ action: 'add', contracts: undefined })), 'contracts');
  });

  it('cancel carries no order', () => {
    const cancel = tv({ action: 'cancel' });
    assert.deepEqual([cancel.intent, cancel.side, cancel.quantity, cancel.orderType, cancel.targetPosition], ['CANCEL', null, 0, 'MARKET', null]);
    assert.equal(signed({ intent: 'cancel', side: undefined, quantity: undefined }).intent, 'CANCEL');
    assert.equal(fieldOf(() => tv({ action: 'cancel', order_type: 'limit', limit_price: 1 })), 'order_type');
    assert.equal(fieldOf(() => tv({ action: 'cancel', time_in_force: 'gtc' })), 'time_in_force');
    assert.equal(fieldOf(() => signed({ intent: 'cancel', side: undefined, quantity: undefined, stopPrice: 3 })), 'stopPrice');
    assert.equal(fieldOf(() => tv({ action: 'cancel', take_profit: { price: 1 } })), 'take_profit');
    assert.equal(fieldOf(() => tv({ action: 'close' })), 'action');
  });

  it('keeps the existing market_position target semantics', () => {
    const target = tv({ market_position: 'short', market_position_size: '7' });
    assert.deepEqual([target.intent, target.targetPosition, target.reportedPosition], ['TARGET', -7, -7]);
    assert.equal(tv({ market_position: 'flat' }).intent, 'FLAT');
  });
});

describe('Avro', () => {
  it('encodes and decodes a signal using every new field, and a reader of the previous schema refuses a stop', () => {
    const s = tv({ order_type: 'stop_limit', stop_price: 101, limit_price: 101.5, time_in_force: 'fok', quantity_type: 'risk_amount', contracts: 100,
      take_profit: { amount: 5 }, stop_loss: { type: 'trailing_stop', percent: 1 } });
    const type = avroType('Signal');
    assert.deepEqual(JSON.parse(JSON.stringify(type.fromBuffer(type.toBuffer(s)))), JSON.parse(JSON.stringify(s)));
    // The schema before issue 17, as the repository held it: its enum has no STOP_LIMIT and no default,
    // so an old reader fails to decode the record rather than read it as a market order.
    const before = avro.Type.forSchema(JSON.parse(execFileSync('git', ['show', '0f05544:schemas/avro/Signal.avsc'], { encoding: 'utf8' })));
    assert.throws(() => before.createResolver(type));
    const plain = tv({});
    assert.doesNotThrow(() => type.createResolver(before), 'the new reader reads every old record (BACKWARD)');
    assert.equal(plain.orderType, 'MARKET');
  });
});
