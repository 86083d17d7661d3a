import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdgeError } from '../../edge/errors.ts';
import { parseJsonBody } from '../../edge/jsonBody.ts';
import { signedSignal, tradingViewSignal } from '../../edge/signal.ts';
import { normaliseSymbol } from '../../edge/signalBuild.ts';
import type { SignalContext } from '../../edge/signalBuild.ts';

const SECRET = 'tv-secret-0123456789abcdef';
const ctx: SignalContext = { strategy: { id: 'trend-1', account: 'acc-7', symbols: undefined }, receivedAt: 1_700_000_000_123, hlc: 1_700_000_000_123_000 };

// What a TradingView strategy alert renders to, placeholders filled as strings.
const alert = (over: Record<string, unknown> = {}) => ({
  secret: SECRET,
  strategy: 'trend-1',
  ticker: 'NASDAQ:aapl',
  action: 'buy',
  contracts: '10',
  ...over,
});

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EdgeError, String(err));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'INVALID_FIELD');
    assert.ok(!err.message.includes(SECRET));
    return err.field;
  }
  assert.fail('expected a 400');
};

describe('TradingView alert', () => {
  it('parses the JSON body and the text/plain form alike', () => {
    const text = JSON.stringify(alert());
    const fromJson = tradingViewSignal(parseJsonBody(Buffer.from(text)), ctx);
    const fromText = tradingViewSignal(parseJsonBody(text), ctx);
    assert.deepEqual(fromJson, fromText);
    assert.deepEqual(fromJson, {
      signalId: fromJson.signalId,
      source: 'TRADINGVIEW',
      account: 'acc-7',
      strategy: 'trend-1',
      symbol: 'AAPL',
      intent: 'DELTA',
      side: 'BUY',
      quantity: 10,
      targetPosition: null,
      orderType: 'MARKET',
      limitPrice: null,
      price: null,
      reportedPosition: null,
      externalOrderId: null,
      alertTime: null,
      receivedAt: ctx.receivedAt,
      hlc: ctx.hlc,
      extras: null,
      stopPrice: null,
      trailAmount: null,
      trailPercent: null,
      timeInForce: null,
      sizing: null,
      takeProfit: null,
      stopLoss: null,
    });
    assert.match(fromJson.signalId, /^[0-9a-f]{64}$/);
  });

  it('accepts numeric strings and numbers, and refuses numeric garbage naming the field', () => {
    const s = tradingViewSignal(alert({ contracts: '0.5', price: '187.25', order_type: 'limit', limit_price: 187.1, time: '2024-03-01T14:30:00Z' }), ctx);
    assert.equal(s.quantity, 0.5);
    assert.equal(s.price, 187.25);
    assert.equal(s.orderType, 'LIMIT');
    assert.equal(s.limitPrice, 187.1);
    assert.equal(s.alertTime, Date.parse('2024-03-01T14:30:00Z'));
    assert.equal(tradingViewSignal(alert({ contracts: '1e2' }), ctx).quantity, 100);
    for (const bad of ['', ' 1', '0x10', 'ten', 'NaN', 'Infinity', '1e999', '1,5', '0', '-3', true, null]) {
      assert.equal(fieldOf(() => tradingViewSignal(alert({ contracts: bad }), ctx)), 'contracts', String(bad));
    }
    assert.equal(fieldOf(() => tradingViewSignal(alert({ price: '{{close}}' }), ctx)), 'price');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ time: 'yesterday' }), ctx)), 'time');
  });

  it('reads market_position as a target: long +size, short -size, flat → FLAT', () => {
    const long = tradingViewSignal(alert({ market_position: 'long', market_position_size: '5' }), ctx);
    assert.deepEqual([long.intent, long.side, long.quantity, long.targetPosition, long.reportedPosition], ['TARGET', null, 5, 5, 5]);
    const short = tradingViewSignal(alert({ action: 'sell', market_position: 'short', market_position_size: '3' }), ctx);
    assert.deepEqual([short.intent, short.side, short.quantity, short.targetPosition], ['TARGET', null, 3, -3]);
    const flat = tradingViewSignal(alert({ action: 'sell', market_position: 'flat', market_position_size: '0' }), ctx);
    assert.deepEqual([flat.intent, flat.side, flat.quantity, flat.targetPosition, flat.reportedPosition], ['FLAT', null, 0, 0, 0]);
    assert.equal(fieldOf(() => tradingViewSignal(alert({ market_position: 'long' }), ctx)), 'market_position_size');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ market_position: 'sideways' }), ctx)), 'market_position');
  });

  it('lets an explicit intent win', () => {
    const delta = tradingViewSignal(alert({ intent: 'delta', action: 'sell', market_position: 'short', market_position_size: '3' }), ctx);
    assert.deepEqual([delta.intent, delta.side, delta.quantity, delta.reportedPosition], ['DELTA', 'SELL', 10, -3]);
    assert.equal(tradingViewSignal(alert({ intent: 'flat' }), ctx).intent, 'FLAT');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ intent: 'target' }), ctx)), 'market_position');
  });

  it('normalises the ticker: upper case, exchange prefix dropped', () => {
    assert.equal(tradingViewSignal(alert({ ticker: 'BINANCE:btcusdt' }), ctx).symbol, 'BTCUSDT');
    assert.equal(normaliseSymbol('EURUSD'), 'EURUSD');
    assert.equal(normaliseSymbol('BINANCE:BTCUSDT.P'), 'BTCUSDT.P');
    assert.equal(normaliseSymbol('CME_MINI:ES1!'), 'ES1!');
    assert.equal(normaliseSymbol('A:B:C'), null);
    assert.equal(fieldOf(() => tradingViewSignal(alert({ ticker: 'AA PL' }), ctx)), 'ticker');
  });

  it('gives the same id for the same alert fired twice, another for another alert', () => {
    const a = alert({ order_id: 'Long', time: '2024-03-01T14:30:00Z', price: '187.25' });
    const first = tradingViewSignal(a, { ...ctx, receivedAt: 1, hlc: 1 });
    const again = tradingViewSignal(JSON.parse(JSON.stringify(a)), { ...ctx, receivedAt: 2, hlc: 2 });
    assert.equal(first.signalId, again.signalId);
    // "10" and 10 are the same quantity, so the same alert.
    assert.equal(tradingViewSignal({ ...a, contracts: 10 }, ctx).signalId, first.signalId);
    assert.notEqual(tradingViewSignal({ ...a, time: '2024-03-01T14:31:00Z' }, ctx).signalId, first.signalId);
    assert.notEqual(tradingViewSignal({ ...a, action: 'sell' }, ctx).signalId, first.signalId);
  });

  it('takes the id from the body key, scoped by strategy; an Idempotency-Key header may only repeat it', () => {
    assert.equal(tradingViewSignal(alert({ idempotency_key: 'body-1' }), ctx).signalId, 'trend-1:body-1');
    assert.equal(tradingViewSignal(alert({ idempotency_key: 'body-1' }), { ...ctx, idempotencyKey: 'body-1' }).signalId, 'trend-1:body-1');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ idempotency_key: 'body-1' }), { ...ctx, idempotencyKey: 'hdr-1' })), 'Idempotency-Key');
    assert.equal(fieldOf(() => tradingViewSignal(alert(), { ...ctx, idempotencyKey: 'hdr-1' })), 'Idempotency-Key');
    assert.equal(fieldOf(() => tradingViewSignal(alert(), { ...ctx, idempotencyKey: 'a b' })), 'Idempotency-Key');
  });

  it('keeps fields it does not read as extras, out of the id, and refuses near-misses of fields it reads', () => {
    const a = alert({ interval: '{{interval}}', exchange: 'NASDAQ', comment: 'breakout', bar: { open: 1 }, n: 3 });
    const s = tradingViewSignal(a, ctx);
    assert.deepEqual({ ...s.extras }, { interval: '{{interval}}', exchange: 'NASDAQ', comment: 'breakout', bar: '{"open":1}', n: '3' });
    assert.equal(s.signalId, tradingViewSignal(alert(), ctx).signalId);
    assert.equal(tradingViewSignal(alert(), ctx).extras, null);
    // a field the edge reads, spelled another way, would silently change the order: refused
    assert.equal(fieldOf(() => tradingViewSignal(alert({ 'Limit-Price': '10' }), ctx)), 'Limit-Price');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ limitprice: '10' }), ctx)), 'limitprice');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ 'Market-Position': 'long' }), ctx)), 'Market-Position');
    for (const twin of ['acti\u006f\u0301n', '\uff41ction', 'act\u200bion']) assert.equal(fieldOf(() => tradingViewSignal(alert({ [twin]: 'sell' }), ctx)), twin);
    // bounded
    assert.equal(fieldOf(() => tradingViewSignal(alert({ comment: 'x'.repeat(1025) }), ctx)), 'comment');
    assert.equal(fieldOf(() => tradingViewSignal(alert(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i]))), ctx)), 'f32');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ ['k'.repeat(65)]: 1 }), ctx)), 'k'.repeat(64));
    // a field the edge reads is still checked strictly
    assert.equal(fieldOf(() => tradingViewSignal(alert({ contracts: 'ten', comment: 'ok' }), ctx)), 'contracts');
  });

  it('takes the order terms in camelCase too, as TradingView bridges\' templates write them, and names what was sent', () => {
    // the template, camelCase, and the same alert in snake_case: one signal, one id
    const camel = tradingViewSignal(alert({
      orderType: 'stop_limit', stopPrice: '101.5', limitPrice: '101.8', timeInForce: 'gtc', contracts: undefined, quantity: '2500', quantityType: 'dollar_amount',
      takeProfit: { percent: '2' }, stopLoss: { type: 'stop_limit', amount: '1.5', limitPrice: '99' },
    }), ctx);
    const snake = tradingViewSignal(alert({
      order_type: 'stop_limit', stop_price: '101.5', limit_price: '101.8', time_in_force: 'gtc', contracts: undefined, quantity: '2500', quantity_type: 'dollar_amount',
      take_profit: { percent: '2' }, stop_loss: { type: 'stop_limit', amount: '1.5', limit_price: '99' },
    }), ctx);
    assert.deepEqual(camel, snake);
    assert.equal(camel.orderType, 'STOP_LIMIT');
    assert.deepEqual([camel.limitPrice, camel.stopPrice, camel.timeInForce], [101.8, 101.5, 'GTC']);
    assert.deepEqual({ ...camel.sizing }, { type: 'DOLLAR_AMOUNT', amount: 2500 });
    assert.equal(camel.stopLoss?.limitPrice, 99);
    assert.equal(tradingViewSignal(alert({ orderType: 'trailing_stop', trailPercent: '1.5' }), ctx).trailPercent, 1.5);
    // both spellings of one field: refused, naming the camelCase one
    assert.equal(fieldOf(() => tradingViewSignal(alert({ order_type: 'limit', orderType: 'limit', limit_price: '10' }), ctx)), 'orderType');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ stopLoss: { price: '9', limit_price: '8', limitPrice: '8', type: 'stop_limit' } }), ctx)), 'stopLoss.limitPrice');
    // every refusal names the field as it was sent
    assert.equal(fieldOf(() => tradingViewSignal(alert({ orderType: 'bogus' }), ctx)), 'orderType');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ orderType: 'market', limitPrice: '10' }), ctx)), 'limitPrice');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ takeProfit: { percent: '2', price: '5' } }), ctx)), 'takeProfit.percent');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ stopLoss: { percent: '200' } }), ctx)), 'stopLoss.percent');
    // a field inside a renamed object, itself renamed: the longest spelling sent, not the object's alone
    assert.equal(fieldOf(() => tradingViewSignal(alert({ stopLoss: { type: 'stop_limit', price: '9', limitPrice: '-1' } }), ctx)), 'stopLoss.limitPrice');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ stopLoss: { type: 'stop_limit', price: '9', limit_price: '-1' } }), ctx)), 'stopLoss.limit_price');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ stop_loss: { type: 'stop_limit', price: '9', limitPrice: '-1' } }), ctx)), 'stop_loss.limitPrice');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ action: 'exit', contracts: undefined, takeProfit: { percent: '2' } }), ctx)), 'takeProfit');
  });

  it('names bad, missing and unknown fields', () => {
    assert.equal(fieldOf(() => tradingViewSignal(alert({ action: 'hold' }), ctx)), 'action');
    const { action: _drop, ...noAction } = alert();
    assert.equal(fieldOf(() => tradingViewSignal(noAction, ctx)), 'action');
    assert.equal(fieldOf(() => signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'flat', leverage: 10 }, ctx)), 'leverage');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ order_type: 'limit' }), ctx)), 'limit_price');
    assert.equal(fieldOf(() => tradingViewSignal(alert({ limit_price: '10' }), ctx)), 'limit_price');
  });

  it('refuses symbols the strategy is not enabled for', () => {
    const only = { ...ctx, strategy: { ...ctx.strategy, symbols: ['MSFT'] } };
    assert.equal(fieldOf(() => tradingViewSignal(alert(), only)), 'ticker');
    assert.equal(tradingViewSignal(alert({ ticker: 'NASDAQ:MSFT' }), only).symbol, 'MSFT');
  });

  it('takes the account from config, never from the body', () => {
    assert.equal(fieldOf(() => tradingViewSignal(alert({ account: 'someone-else' }), ctx)), 'account');
  });
});

describe('JSON body', () => {
  it('refuses __proto__, constructor and prototype keys at any depth', () => {
    assert.equal(fieldOf(() => parseJsonBody('{"__proto__":{"admin":true},"ticker":"AAPL"}')), '__proto__');
    assert.equal(fieldOf(() => parseJsonBody('{"a":{"b":[{"constructor":{"prototype":1}}]}}')), 'constructor');
    assert.equal(fieldOf(() => parseJsonBody('{"\\u005f_proto__":1}')), '__proto__');
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it('refuses non-JSON and non-objects without echoing the text', () => {
    assert.equal(fieldOf(() => parseJsonBody(`{"secret":"${SECRET}",`)), 'body');
    assert.equal(fieldOf(() => parseJsonBody('[1,2]')), 'body');
    assert.equal(fieldOf(() => parseJsonBody('"x"')), 'body');
    assert.equal(fieldOf(() => parseJsonBody('')), 'body');
    assert.deepEqual(parseJsonBody('\uFEFF{"a":1}'), { a: 1 });
  });
});

describe('signed strategy body', () => {
  const body = (over: Record<string, unknown> = {}) => ({ strategy: 'trend-1', symbol: 'aapl', intent: 'delta', side: 'sell', quantity: 2, ...over });

  it('builds delta, target and flat signals', () => {
    const d = signedSignal(body({ orderType: 'limit', limitPrice: 190, time: 1_700_000_000_000 }), ctx);
    assert.deepEqual([d.source, d.intent, d.side, d.quantity, d.orderType, d.limitPrice, d.alertTime], ['SIGNED', 'DELTA', 'SELL', 2, 'LIMIT', 190, 1_700_000_000_000]);
    const t = signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'target', target: -4 }, ctx);
    assert.deepEqual([t.intent, t.side, t.quantity, t.targetPosition], ['TARGET', null, 4, -4]);
    const zero = signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'target', target: 0 }, ctx);
    assert.equal(zero.intent, 'FLAT');
    const f = signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'flat', idempotencyKey: 'k-1' }, ctx);
    assert.deepEqual([f.intent, f.quantity, f.targetPosition, f.signalId], ['FLAT', 0, 0, 'trend-1:k-1']);
  });

  it('requires each intent\'s own fields and refuses the others', () => {
    assert.equal(fieldOf(() => signedSignal(body({ side: undefined }), ctx)), 'side');
    assert.equal(fieldOf(() => signedSignal(body({ quantity: undefined }), ctx)), 'quantity');
    assert.equal(fieldOf(() => signedSignal(body({ target: 3 }), ctx)), 'target');
    assert.equal(fieldOf(() => signedSignal({ strategy: 'trend-1', symbol: 'AAPL', intent: 'target' }, ctx)), 'target');
    assert.equal(fieldOf(() => signedSignal(body({ intent: 'flat' }), ctx)), 'side');
    assert.equal(fieldOf(() => signedSignal(body({ intent: 'sideways' }), ctx)), 'intent');
    assert.equal(fieldOf(() => signedSignal(body({ secret: 'x' }), ctx)), 'secret');
    assert.equal(fieldOf(() => signedSignal(body({ strategy: 'other' }), ctx)), 'strategy');
  });
});
