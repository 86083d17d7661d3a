// Venue payloads (the recorded-style fixtures) → domain, and venue error bodies → stable codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { alpacaError } from '../../connectors/alpaca/errors.ts';
import * as alpaca from '../../connectors/alpaca/parse.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { binanceError } from '../../connectors/binance/errors.ts';
import * as binance from '../../connectors/binance/parse.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';

const fx = (venue: string, name: string) => JSON.parse(readFileSync(new URL(`../../connectors/${venue}/fixtures/${name}.json`, import.meta.url), 'utf8'));
const ctx = { venue: 'x', operation: 'submit', clientOrderId: 'c1', timeoutMs: 1 };
const headers = (h: Record<string, string> = {}) => new Headers(h);

describe('alpaca parse', () => {
  it('reads a partial fill and a fill from trade_updates, order id + filled quantity as the trade id', () => {
    const partial = alpaca.eventFromTradeUpdate(alpaca.tradeUpdateSchema.parse(fx('alpaca', 'trade_update_partial_fill')));
    assert.ok(partial.kind === 'order');
    assert.deepEqual([partial.order.status, partial.order.filledQty, partial.order.fills.map((f) => [f.tradeId, f.quantity, f.price])],
      ['PARTIALLY_FILLED', 4, [['61e69015-8549-4bfd-b9c3-01e75843f47d:4', 4, 175.49]]]);
    assert.equal(partial.order.clientOrderId, 'eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4');
    assert.equal(partial.order.venueOrderId, '61e69015-8549-4bfd-b9c3-01e75843f47d');
    const done = alpaca.eventFromTradeUpdate(alpaca.tradeUpdateSchema.parse(fx('alpaca', 'trade_update_fill')));
    assert.ok(done.kind === 'order');
    assert.deepEqual([done.order.status, done.order.fills[0].quantity, done.order.fills[0].price], ['FILLED', 6, 175.5]);
  });

  it('reads new, canceled and rejected updates without fills', () => {
    const statuses = ['trade_update_new', 'trade_update_canceled', 'trade_update_rejected'].map((n) => {
      const e = alpaca.eventFromTradeUpdate(alpaca.tradeUpdateSchema.parse(fx('alpaca', n)));
      return e.kind === 'order' ? [e.order.status, e.order.fills.length] : null;
    });
    assert.deepEqual(statuses, [['NEW', 0], ['CANCELED', 0], ['REJECTED', 0]]);
  });

  it('makes the FILL activities a complete statement only when they add up to the order', () => {
    const order = alpaca.orderSchema.parse({ ...fx('alpaca', 'order'), filled_qty: '10', status: 'filled' });
    const acts = fx('alpaca', 'activities_fill').map((a: unknown) => alpaca.activitySchema.parse(a));
    const s = alpaca.stateWithActivities(order, acts);
    assert.deepEqual(s.fills.map((f) => f.tradeId), ['61e69015-8549-4bfd-b9c3-01e75843f47d:4', '61e69015-8549-4bfd-b9c3-01e75843f47d:10']);
    assert.equal(s.fillsComplete, true);
    assert.equal(alpaca.stateWithActivities(order, acts.slice(0, 1)).fillsComplete, undefined);
  });

  it('maps error answers to stable codes', () => {
    const code = (status: number, body: unknown, h = headers()) => alpacaError(status, body, h, ctx, 0);
    assert.equal(code(422, fx('alpaca', 'error_duplicate')).code, 'VENUE_DUPLICATE');
    assert.deepEqual([code(403, fx('alpaca', 'error_buying_power')).code, code(403, fx('alpaca', 'error_buying_power')).retriable], ['VENUE_REJECTED', false]);
    assert.equal(code(403, { code: 40310100, message: 'forbidden' }).code, 'VENUE_AUTH');
    const limited = code(429, fx('alpaca', 'error_rate_limit'), headers({ 'retry-after': '3' }));
    assert.deepEqual([limited.code, limited.retriable, limited.retryAfterMs], ['VENUE_RATE_LIMITED', true, 3000]);
    assert.deepEqual([code(503, null).code, code(503, null).retriable], ['VENUE_UNAVAILABLE', true]);
  });

  it('derives the stream URL and hides the keys', () => {
    const c = parseAlpacaConfig({ keyId: 'k', secretKey: 'shh-very-secret' });
    assert.equal(c.streamUrl, 'wss://paper-api.alpaca.markets/stream');
    assert.ok(!JSON.stringify(c).includes('shh-very-secret'));
    assert.throws(() => parseAlpacaConfig({ keyId: 'k' }), /secretKey/);
  });
});

describe('binance parse', () => {
  it('reads an executionReport trade with a per-symbol trade id and the fee in quote', () => {
    const e = binance.eventFromExecutionReport(binance.executionReportSchema.parse(fx('binance', 'execution_report_trade')));
    assert.ok(e.kind === 'order');
    const f = e.order.fills[0];
    assert.deepEqual([e.order.symbol, e.order.status, e.order.filledQty, f.tradeId, f.quantity, f.price], ['BTCUSD', 'FILLED', 0.01, 'BTCUSDT:3391907', 0.006, 64250]);
    assert.ok(Math.abs(f.fee - 0.000006 * 64250) < 1e-9, 'a commission in BTC is worth qty × price in USDT');
  });

  it('takes the original client order id from a cancel report', () => {
    const e = binance.eventFromExecutionReport(binance.executionReportSchema.parse(fx('binance', 'execution_report_canceled')));
    assert.ok(e.kind === 'order');
    assert.deepEqual([e.order.clientOrderId, e.order.status, e.order.fills.length], ['6gCrw2kRUAF9CvJDGP16IP', 'CANCELED', 0]);
  });

  it('reads a FULL placement with its fills, and myTrades as the statement', () => {
    const placed = binance.stateFromPlacement(binance.orderSchema.parse(fx('binance', 'order_full')));
    assert.deepEqual([placed.status, placed.fills.map((f) => [f.tradeId, f.fee])], ['PARTIALLY_FILLED', [['BTCUSDT:3391842', 0.257]]]);
    const order = binance.orderSchema.parse({ ...fx('binance', 'order'), executedQty: '0.01000000', status: 'FILLED' });
    const s = binance.stateWithTrades(order, fx('binance', 'my_trades').map((t: unknown) => binance.tradeSchema.parse(t)));
    assert.deepEqual([s.fills.length, s.fillsComplete], [2, true]);
  });

  it('maps error answers to stable codes', () => {
    const code = (status: number, body: unknown, h = headers()) => binanceError(status, body, h, ctx, 0);
    assert.deepEqual([code(400, fx('binance', 'error_1021')).code, code(400, fx('binance', 'error_1021')).retriable], ['VENUE_CLOCK_SKEW', true]);
    assert.equal(code(400, fx('binance', 'error_duplicate')).code, 'VENUE_DUPLICATE');
    assert.deepEqual([code(400, fx('binance', 'error_insufficient')).code, code(400, fx('binance', 'error_insufficient')).retriable], ['VENUE_REJECTED', false]);
    assert.equal(code(400, fx('binance', 'error_2013')).code, 'VENUE_NOT_FOUND');
    assert.equal(code(429, fx('binance', 'error_rate_limit'), headers({ 'retry-after': '7' })).retryAfterMs, 7000);
    assert.equal(code(418, {}, headers({ 'retry-after': '120' })).retryAfterMs, 120_000);
    assert.equal(code(401, { code: -2015, msg: 'Invalid API-key' }).code, 'VENUE_AUTH');
  });

  it('knows the testnet stream and hides the keys', () => {
    const c = parseBinanceConfig({ apiKey: 'k', secretKey: 'binance-hidden-secret' });
    assert.equal(c.baseUrl, 'https://testnet.binance.vision');
    assert.equal(c.streamUrl, 'wss://stream.testnet.binance.vision/ws');
    assert.ok(!JSON.stringify(c).includes('binance-hidden-secret'));
  });
});
