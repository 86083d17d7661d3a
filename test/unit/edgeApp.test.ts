// The edge app through app.inject: the TradingView webhook, signed signals and the operations routes,
// with every log line checked for secrets. Its configuration is tested in edgeConfig.test.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createEdgeApp } from '../../edge/app.ts';
import { signatureHeader } from '../../edge/auth.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import type { EdgeConfigInput } from '../../edge/config.ts';
import type { Signal } from '../../schemas/types.ts';

const TV_SECRET = 'tv-secret-0123456789abcdef';
const OLD_SECRET = 'sig-old-secret-00000000';
const NEW_SECRET = 'sig-new-secret-11111111';
const NOW = 1_700_000_000_000;
const TV_IP = '52.89.214.238';

const alert = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ secret: TV_SECRET, strategy: 'tv-trend', ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '10', time: '2024-03-01T14:30:00Z', ...over });

// Every log line of every app built here, to check that no secret ever reaches a log.
const lines: string[] = [];
const apps: FastifyInstance[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
  for (const line of lines) {
    for (const secret of [TV_SECRET, OLD_SECRET, NEW_SECRET]) assert.ok(!line.includes(secret), `secret in log: ${line}`);
    assert.ok(!/v1=[0-9a-f]{64}/.test(line), `signature in log: ${line}`);
  }
  assert.ok(lines.some((l) => l.includes('broker kafka-1:9092 exploded')), 'internal error is logged');
});

function setup(opts: { accept?: (s: Signal) => Promise<{ duplicate: boolean }>; config?: Partial<EdgeConfigInput> } = {}) {
  // A bare logger on purpose: redaction must come from the edge, not from whoever wires it.
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const calls: Signal[] = [];
  const seen = new Set<string>();
  const accept =
    opts.accept ??
    (async (s: Signal) => {
      const duplicate = seen.has(s.signalId);
      seen.add(s.signalId);
      return { duplicate };
    });
  let ready = true;
  let hlc = NOW * 1000;
  const config = parseEdgeConfig({
    allowedIps: [TV_IP, '34.212.75.30', '54.218.53.128', '52.32.178.7'],
    strategies: [
      { id: 'tv-trend', account: 'acc-1', secrets: [TV_SECRET] },
      { id: 'algo-1', account: 'acc-2', secrets: [OLD_SECRET, NEW_SECRET], symbols: ['BTCUSD'] },
    ],
    ...opts.config,
  });
  const registry = new Registry();
  const app = createEdgeApp({
    config,
    log,
    clock: () => NOW,
    hlc: () => ++hlc,
    accept: (s) => {
      calls.push(s);
      return accept(s);
    },
    ready: () => ready,
    registry,
  });
  apps.push(app);
  const tv = (payload: string, headers: Record<string, string> = {}, remoteAddress = TV_IP) =>
    app.inject({ method: 'POST', url: '/webhooks/tradingview', payload, headers: { 'content-type': 'application/json', ...headers }, remoteAddress });
  const signed = (body: string, secret = NEW_SECRET, t = NOW / 1000) =>
    app.inject({ method: 'POST', url: '/signals', payload: body, headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(secret, t, body) } });
  return { app, calls, tv, signed, registry, setReady: (r: boolean) => void (ready = r) };
}

describe('POST /webhooks/tradingview', () => {
  it('answers 202 for a new alert and 200 duplicate for the same alert again', async () => {
    const { tv, calls } = setup();
    const first = await tv(alert());
    assert.equal(first.statusCode, 202);
    const { signalId } = first.json();
    assert.deepEqual(first.json(), { signalId, duplicate: false });
    const again = await tv(alert());
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { signalId, duplicate: true });
    assert.equal(calls.length, 2);
    assert.deepEqual([calls[0].account, calls[0].symbol, calls[0].quantity, calls[0].receivedAt], ['acc-1', 'AAPL', 10, NOW]);
    assert.ok(calls[1].hlc > calls[0].hlc);
  });

  it('takes a bridge template\'s camelCase order terms as the same alert as its snake_case, text/plain as TradingView sends it', async () => {
    const { tv, calls } = setup();
    const camel = await tv(alert({ orderType: 'limit', limitPrice: '101.5', timeInForce: 'gtc', takeProfit: { percent: '2' }, stopLoss: { type: 'stop', percent: '1' } }), { 'content-type': 'text/plain; charset=utf-8' });
    assert.equal(camel.statusCode, 202, camel.body);
    const snake = await tv(alert({ order_type: 'limit', limit_price: '101.5', time_in_force: 'gtc', take_profit: { percent: '2' }, stop_loss: { type: 'stop', percent: '1' } }));
    assert.deepEqual([snake.statusCode, snake.json()], [200, { signalId: camel.json().signalId, duplicate: true }]);
    assert.deepEqual([calls[0].orderType, calls[0].limitPrice, calls[0].timeInForce, calls[0].takeProfit?.percent, calls[0].stopLoss?.percent], ['LIMIT', 101.5, 'GTC', 2, 1]);
    const both = await tv(alert({ orderType: 'limit', order_type: 'limit', limitPrice: '101.5' }));
    assert.deepEqual([both.statusCode, both.json().error.field], [400, 'orderType']);
    assert.equal(calls.length, 2);
  });

  it('accepts the text/plain form TradingView sends', async () => {
    const { tv } = setup();
    const res = await tv(alert(), { 'content-type': 'text/plain; charset=utf-8' });
    assert.equal(res.statusCode, 202);
  });

  it('takes the id from the body key; a header that does not repeat it is refused', async () => {
    const { tv, calls } = setup();
    assert.equal((await tv(alert({ idempotency_key: 'k-42' }), { 'idempotency-key': 'k-42' })).json().signalId, 'tv-trend:k-42');
    const res = await tv(alert(), { 'idempotency-key': 'k-43' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, 'Idempotency-Key');
    assert.equal(calls.length, 1);
  });

  it('accepts fields a template carries for other tools, and keeps them with the signal', async () => {
    const { tv, calls } = setup();
    const res = await tv(alert({ interval: '15', exchange: 'NASDAQ', comment: 'breakout' }));
    assert.equal(res.statusCode, 202);
    assert.deepEqual({ ...calls[0].extras }, { interval: '15', exchange: 'NASDAQ', comment: 'breakout' });
    assert.equal((await tv(alert({ comment: 'x', constructor: 1 }))).json().error.field, 'constructor');
    assert.equal(calls.length, 1);
  });

  it('401 for a wrong secret or unknown strategy, and accept is never called', async () => {
    const { tv, calls } = setup();
    for (const body of [alert({ secret: 'not-the-secret-000000' }), alert({ secret: undefined }), alert({ strategy: 'nope' }), alert({ secret: 7 })]) {
      const res = await tv(body);
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: { code: 'UNAUTHORIZED', message: 'invalid secret' } });
    }
    assert.equal(calls.length, 0);
  });

  it('400 names the bad field, after authentication', async () => {
    const { tv, calls } = setup();
    const res = await tv(alert({ contracts: 'lots' }));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'INVALID_FIELD');
    assert.equal(res.json().error.field, 'contracts');
    assert.ok(!res.body.includes(TV_SECRET));
    assert.equal((await tv(`{"__proto__":{"x":1},"secret":"${TV_SECRET}"}`)).json().error.field, '__proto__');
    assert.equal((await tv('{"secret":')).json().error.field, 'body');
    assert.equal((await tv('[1]')).statusCode, 400);
    assert.equal(calls.length, 0);
  });

  it('413 for a body over the limit', async () => {
    const { tv, calls } = setup();
    const res = await tv(alert({ order_id: 'x'.repeat(17 * 1024) }));
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(calls.length, 0);
  });

  it('415 for other content types', async () => {
    const { tv, calls } = setup();
    for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await tv(alert(), { 'content-type': type });
      assert.equal(res.statusCode, 415, type);
      assert.equal(res.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    assert.equal(calls.length, 0);
  });

  it('403 for a source outside the allowlist; X-Forwarded-For only counts with trustProxy', async () => {
    const strict = setup();
    const res = await strict.tv(alert(), { 'x-forwarded-for': TV_IP }, '10.1.2.3');
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), { error: { code: 'FORBIDDEN', message: 'source address not allowed' } });
    assert.equal(strict.calls.length, 0);
    const proxied = setup({ config: { trustProxy: true } });
    assert.equal((await proxied.tv(alert(), { 'x-forwarded-for': TV_IP }, '10.1.2.3')).statusCode, 202);
    assert.equal((await proxied.tv(alert(), { 'x-forwarded-for': '8.8.8.8' }, '10.1.2.3')).statusCode, 403);
  });

  it('503 with Retry-After when Kafka cannot acknowledge, or accept takes too long', async () => {
    const down = setup({ accept: async () => Promise.reject(Object.assign(new Error('no acks from 3 brokers'), { code: 'UNAVAILABLE' })) });
    const res = await down.tv(alert());
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(res.json(), { error: { code: 'UNAVAILABLE' } });
    const slow = setup({ accept: () => new Promise(() => {}), config: { acceptTimeoutMs: 20 } });
    const late = await slow.tv(alert());
    assert.equal(late.statusCode, 503);
    assert.equal(late.headers['retry-after'], '1');
  });

  it('500 without internals for anything else', async () => {
    const { tv } = setup({ accept: async () => Promise.reject(new Error('broker kafka-1:9092 exploded')) });
    const res = await tv(alert());
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: { code: 'INTERNAL', message: 'internal error' } });
  });
});

describe('POST /signals', () => {
  const body = JSON.stringify({ strategy: 'algo-1', symbol: 'BTCUSD', intent: 'target', target: 2 });

  it('202 then 200 duplicate, with either active secret', async () => {
    const { signed, calls } = setup();
    const first = await signed(body, OLD_SECRET);
    assert.equal(first.statusCode, 202);
    const again = await signed(body, NEW_SECRET);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { signalId: first.json().signalId, duplicate: true });
    assert.deepEqual([calls[0].source, calls[0].account, calls[0].intent, calls[0].targetPosition], ['SIGNED', 'acc-2', 'TARGET', 2]);
  });

  it('a captured signed request resent with 100 different Idempotency-Key headers is one signal', async () => {
    const { app, signed, calls } = setup();
    const keyed = JSON.stringify({ strategy: 'algo-1', symbol: 'BTCUSD', intent: 'delta', side: 'buy', quantity: 1, idempotencyKey: 'order-7' });
    assert.equal((await signed(keyed)).statusCode, 202, 'the captured request');
    assert.equal((await signed(keyed)).statusCode, 200, 'the same request again is a duplicate');
    const ids = new Set<string>();
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      for (const payload of [keyed, body]) {
        const res = await app.inject({ method: 'POST', url: '/signals', payload, headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(NEW_SECRET, NOW / 1000, payload), 'idempotency-key': `replay-${i}` } });
        if (res.statusCode === 202) accepted++;
        if (res.statusCode < 300) ids.add(res.json().signalId);
        else assert.equal(res.json().error.field, 'Idempotency-Key');
      }
    }
    assert.equal(accepted, 0);
    assert.deepEqual([...ids], []);
    assert.equal(new Set(calls.map((c) => c.signalId)).size, 1);
    // the header may repeat the signed key
    const echo = await app.inject({ method: 'POST', url: '/signals', payload: keyed, headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(NEW_SECRET, NOW / 1000, keyed), 'idempotency-key': 'order-7' } });
    assert.deepEqual(echo.json(), { signalId: 'algo-1:order-7', duplicate: true });
  });

  it('401 for a wrong, stale or missing signature, and accept is never called', async () => {
    const { app, signed, calls } = setup();
    for (const res of [
      await signed(body, 'some-other-secret-123'),
      await signed(body, NEW_SECRET, NOW / 1000 - 301),
      await app.inject({ method: 'POST', url: '/signals', payload: body, headers: { 'content-type': 'application/json' } }),
      await signed(body.replace('"algo-1"', '"ghost"')),
    ]) {
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: { code: 'UNAUTHORIZED', message: 'invalid signature' } });
    }
    assert.equal(calls.length, 0);
  });

  it('400 for a symbol the strategy is not enabled for', async () => {
    const { signed, calls } = setup();
    const res = await signed(JSON.stringify({ strategy: 'algo-1', symbol: 'ETHUSD', intent: 'flat' }));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, 'symbol');
    assert.equal(calls.length, 0);
  });
});

describe('operations', () => {
  it('/healthz and /readyz', async () => {
    const { app, setReady } = setup();
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    setReady(false);
    assert.equal((await app.inject('/readyz')).statusCode, 503);
  });

  it('/metrics counts requests by route and status', async () => {
    const { app, tv } = setup();
    await tv(alert());
    await tv(alert({ secret: 'wrong-secret-0000000000' }));
    const res = await app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(res.body, /edge_requests_total\{route="\/webhooks\/tradingview",status="202"\} 1/);
    assert.match(res.body, /edge_requests_total\{route="\/webhooks\/tradingview",status="401"\} 1/);
    assert.match(res.body, /edge_accept_seconds_count\{outcome="accepted"\} 1/);
  });

  it('redacts secret-bearing paths even when something logs them', async () => {
    const { app } = setup();
    const before = lines.length;
    app.log.info({ secret: TV_SECRET, body: alert(), req: { headers: { 'x-signature': `t=1,v1=${'ab'.repeat(32)}` } } }, 'careless');
    const line = lines.slice(before).join('');
    assert.match(line, /careless/);
    assert.match(line, /\[redacted\]/);
  });

  it('404 in the same error shape', async () => {
    const { app } = setup();
    const res = await app.inject('/nope');
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 'NOT_FOUND' } });
  });
});
