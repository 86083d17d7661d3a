// The Alpaca fake's OCO orders (test/fakes/alpaca/), over plain HTTP and the trade_updates stream, as
// Alpaca documents them ("OCO Orders", "Bracket Orders", "Threshold on stop price of stop-loss orders").
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startAlpacaFake, type AlpacaFake } from '../fakes/alpaca/server.ts';

type Json = Record<string, any>;
type TradeUpdate = { event: string; order: Json };

const keyId = 'k';
const secretKey = 's';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function waitFor<T>(what: string, probe: () => T | undefined | false, ms = 3_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('alpaca fake: OCO orders', () => {
  let fake: AlpacaFake;
  let ws: WebSocket;
  const updates: TradeUpdate[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${fake.url}${path}`, {
      method,
      headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secretKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  const oco = (over: Json = {}): Json => ({
    client_order_id: `oco-${randomUUID()}`, side: 'sell', symbol: 'AAPL', type: 'limit', qty: '10', time_in_force: 'gtc', order_class: 'oco',
    take_profit: { limit_price: '190' }, stop_loss: { stop_price: '180', limit_price: '179.5' }, ...over,
  });
  const place = async (over: Json = {}) => {
    const req = oco(over);
    const res = await api('POST', '/v2/orders', req);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { cid: req.client_order_id as string, parent: res.body as Json, leg: res.body.legs[0] as Json };
  };
  const byId = async (id: string, nested = false) => (await api('GET', `/v2/orders/${id}${nested ? '?nested=true' : ''}`)).body as Json;
  const updateOf = (cid: string, event: string) => waitFor(`${event} of ${cid}`, () => updates.find((u) => u.event === event && u.order.client_order_id === cid));

  before(async () => {
    fake = await startAlpacaFake({ keyId, secretKey });
    ws = new WebSocket(`${fake.url.replace('http', 'ws')}/stream`);
    let listening = false;
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { stream: string; data: Json };
      if (m.stream === 'authorization' && m.data.status === 'authorized') ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      if (m.stream === 'listening') listening = true;
      if (m.stream === 'trade_updates') updates.push(m.data as TradeUpdate);
    });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ action: 'auth', key: keyId, secret: secretKey }));
    await waitFor('the stream to listen', () => listening);
    // A long position to exit: 1000 AAPL bought and filled.
    const buy = await api('POST', '/v2/orders', { client_order_id: 'long-aapl', symbol: 'AAPL', qty: '1000', side: 'buy', type: 'market', time_in_force: 'day' });
    assert.equal(buy.status, 200);
    await fake.controls.fill('long-aapl', 1000);
  });
  after(async () => {
    ws?.close();
    await fake?.stop();
  });

  it('accepts an OCO exit and answers the take-profit with the stop-loss as its held leg', async () => {
    const before = fake.knobs.counters.ocoSubmits;
    const { cid, parent, leg } = await place();
    assert.equal(fake.knobs.counters.ocoSubmits, before + 1);
    assert.deepEqual(
      [parent.client_order_id, parent.order_class, parent.type, parent.limit_price, parent.stop_price, parent.status, parent.side, parent.qty, parent.time_in_force],
      [cid, 'oco', 'limit', '190', null, 'new', 'sell', '10', 'gtc'],
    );
    assert.equal(parent.legs.length, 1);
    assert.deepEqual(
      [leg.order_class, leg.type, leg.stop_price, leg.limit_price, leg.status, leg.side, leg.qty, leg.time_in_force, leg.symbol, leg.legs],
      ['oco', 'stop_limit', '180', '179.5', 'held', 'sell', '10', 'gtc', 'AAPL', null],
    );
    assert.match(leg.client_order_id, UUID);
    assert.notEqual(leg.id, parent.id);
    assert.equal(fake.knobs.legOf(cid), leg.client_order_id);
    assert.equal(fake.knobs.legOf('long-aapl'), null, 'a simple order has no leg');
    assert.equal(await fake.controls.ordersCreated(cid), 1);
    const pushed = await updateOf(cid, 'new');
    assert.equal(pushed.order.legs[0].id, leg.id);

    const stopOnly = await place({ limit_price: '190', stop_loss: { stop_price: '180' } });
    assert.deepEqual([stopOnly.parent.limit_price, stopOnly.leg.type, stopOnly.leg.stop_price, stopOnly.leg.limit_price], ['190', 'stop', '180', null]);

    const again = await api('POST', '/v2/orders', oco({ client_order_id: cid }));
    assert.deepEqual([again.status, again.body.code], [422, 40010001]);
    assert.equal(fake.submits().resends >= 1, true, 'the repeat reached the books under the parent id');
    assert.equal(fake.knobs.counters.ocoSubmits, before + 2);
  });

  it('lists the stop-loss under its take-profit with nested=true, and every order alone without', async () => {
    const { cid, parent, leg } = await place();
    const nested = (await api('GET', '/v2/orders?status=open&nested=true')).body as Json[];
    const mine = nested.find((x) => x.id === parent.id)!;
    assert.deepEqual(mine.legs.map((l: Json) => [l.id, l.client_order_id, l.status]), [[leg.id, leg.client_order_id, 'held']]);
    assert.equal(nested.some((x) => x.id === leg.id), false, 'the leg is not listed at the top level');

    const flat = (await api('GET', '/v2/orders?status=open')).body as Json[];
    assert.deepEqual(flat.filter((x) => x.id === parent.id || x.id === leg.id).map((x) => [x.id, x.legs]), [[parent.id, null], [leg.id, null]]);
    assert.equal(flat.find((x) => x.id === leg.id)!.status, 'held', 'held counts as open');

    assert.deepEqual((await byId(parent.id, true)).legs.map((l: Json) => l.id), [leg.id]);
    assert.equal((await byId(parent.id)).legs, null);
    assert.deepEqual([(await byId(leg.id, true)).id, (await byId(leg.id, true)).legs], [leg.id, null]);
    const byCid = await api('GET', `/v2/orders:by_client_order_id?client_order_id=${cid}`);
    assert.deepEqual([byCid.body.id, byCid.body.legs], [parent.id, null]);
    const legByCid = await api('GET', `/v2/orders:by_client_order_id?client_order_id=${leg.client_order_id}`);
    assert.equal(legByCid.body.id, leg.id);
  });

  it('shrinks the stop-loss to what a partially filled take-profit leaves, and cancels it once the take-profit is filled', async () => {
    const { cid, parent, leg } = await place();
    await fake.controls.fill(cid, 4);
    const partly = await byId(parent.id, true);
    assert.deepEqual([partly.status, partly.filled_qty, partly.legs[0].qty, partly.legs[0].status], ['partially_filled', '4', '6', 'held']);
    assert.ok(partly.legs[0].updated_at >= leg.updated_at);

    await fake.controls.fill(cid, 6);
    const cancel = await updateOf(leg.client_order_id, 'canceled');
    assert.equal(cancel.order.status, 'canceled');
    const filled = await byId(parent.id, true);
    assert.deepEqual([filled.status, filled.filled_qty, filled.legs[0].status], ['filled', '10', 'canceled']);
    assert.ok(filled.legs[0].canceled_at);
    await assert.rejects(fake.controls.fill(leg.client_order_id, 1), /canceled/);
  });

  it('cancels the take-profit once the stop-loss fills', async () => {
    const { cid, parent, leg } = await place({ stop_loss: { stop_price: '180' } });
    const { price } = await fake.controls.fill(leg.client_order_id, 10);
    assert.equal(price, 180, 'a stop fills at its stop price here');
    await updateOf(cid, 'canceled');
    const after = await byId(parent.id, true);
    assert.deepEqual([after.status, after.legs[0].status, after.legs[0].filled_qty], ['canceled', 'filled', '10']);
    await assert.rejects(fake.controls.fill(cid, 1), /canceled/);
  });

  it('cancels both orders when either is canceled', async () => {
    const { cid, parent, leg } = await place();
    const del = await api('DELETE', `/v2/orders/${leg.id}`);
    assert.equal(del.status, 204);
    await updateOf(leg.client_order_id, 'canceled');
    await updateOf(cid, 'canceled');
    assert.deepEqual([(await byId(parent.id)).status, (await byId(leg.id)).status], ['canceled', 'canceled']);
    assert.equal((await api('DELETE', `/v2/orders/${parent.id}`)).status, 422);
    const open = (await api('GET', '/v2/orders?status=open&nested=true')).body as Json[];
    assert.equal(open.some((x) => x.id === parent.id), false);
  });

  it('refuses what Alpaca refuses', async () => {
    const before = fake.knobs.counters.ocoSubmits;
    const refused = async (over: Json, status: number, code: number, message?: RegExp) => {
      const req = oco(over);
      const res = await api('POST', '/v2/orders', req);
      assert.deepEqual([res.status, res.body.code], [status, code], `${JSON.stringify(over)}: ${JSON.stringify(res.body)}`);
      if (message) assert.match(res.body.message, message);
      assert.equal(await fake.controls.ordersCreated(req.client_order_id), 0);
    };
    await refused({ type: 'market' }, 422, 40010000, /type limit/);
    await refused({ type: 'stop_limit', stop_price: '180', limit_price: '190' }, 422, 40010000);
    await refused({ stop_loss: { limit_price: '179.5' } }, 422, 40010000, /stop_price/);
    await refused({ take_profit: undefined }, 422, 40010000, /take_profit/);
    await refused({ limit_price: '191' }, 422, 40010000, /take_profit\.limit_price/);
    await refused({ stop_loss: { stop_price: '195' } }, 422, 42210000, /base_price/);
    await refused({ stop_loss: { stop_price: '189.995' } }, 422, 42210000, /base_price/);
    await refused({ time_in_force: 'ioc' }, 422, 40010000, /time_in_force/);
    await refused({ extended_hours: true }, 422, 40010000, /extended hours/);
    await refused({ symbol: 'BTC/USD', time_in_force: 'gtc' }, 422, 40010000, /crypto/);
    await refused({ symbol: 'MSFT' }, 403, 40310000, /^insufficient qty available for order$/);
    await refused({ qty: '100000' }, 403, 40310000);
    await refused({ side: 'buy', take_profit: { limit_price: '170' }, stop_loss: { stop_price: '180' } }, 403, 40310000, /insufficient qty/);
    await refused({ side: 'buy', take_profit: { limit_price: '170' }, stop_loss: { stop_price: '165' } }, 422, 42210000, /base_price/);
    // The market is a base price too: the bid for a sell.
    fake.knobs.setQuote('AAPL', { bp: 185, bs: 1, ap: 185.02, as: 1 });
    await refused({ stop_loss: { stop_price: '185' } }, 422, 42210000, /base_price 185/);
    assert.equal(fake.knobs.counters.ocoSubmits, before);
    const ok = await place({ stop_loss: { stop_price: '184.99' } });
    assert.equal(ok.leg.stop_price, '184.99');
  });
});
