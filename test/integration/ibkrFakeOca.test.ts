// The fake Client Portal gateway's One-Cancels-All groups (test/fakes/ibkr/oca.ts), driven over HTTP and
// its websocket only, as a connector would: lines sent together with isSingleGroup are one group that
// is placed, refused, questioned or dropped as a whole; a completing fill cancels the rest of the group
// and a partial one shrinks it; a DELETE cancels one order only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createFakeIbkrGateway, type FakeIbkrGateway } from '../fakes/ibkr/fake.ts';

const ACCOUNT = 'DU7654321';
type Json = Record<string, unknown>;

let fake: FakeIbkrGateway;
let base: string;
let seq = 0;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const line = (cOID: string, over: Json = {}): Json => ({
  acctId: ACCOUNT, conid: 265598, secType: '265598:STK', cOID, orderType: 'LMT', price: 150.25, side: 'SELL', quantity: 10, tif: 'GTC', isSingleGroup: true, ...over,
});
/** Fresh cOIDs for a take-profit / stop-loss pair. */
const pair = () => { seq += 1; return [`tp-${seq}`, `sl-${seq}`]; };
const exits = ([tp, sl]: string[]) => [line(tp, { price: 160 }), line(sl, { orderType: 'STP', price: 140 })];
const place = (orders: Json[]) => call('POST', `/iserver/account/${ACCOUNT}/orders`, { orders });
const status = async (orderId: string) => (await call('GET', `/iserver/account/order/status/${orderId}`)).json;
const liveRow = async (cOID: string) => ((await call('GET', '/iserver/account/orders')).json.orders as Json[]).find((o) => o.order_ref === cOID);
const created = () => fake.state.counters.ordersCreated;

async function placeGroup(cOIDs: string[]): Promise<string[]> {
  const { status: code, json } = await place(exits(cOIDs));
  assert.equal(code, 200);
  return (json as Json[]).map((r) => r.order_id as string);
}

describe('ibkr fake: OCA groups (Place Order with isSingleGroup)', () => {
  before(async () => {
    fake = createFakeIbkrGateway({ accountId: ACCOUNT, heartbeatMs: 100 });
    base = await fake.start();
    assert.equal((await call('GET', '/iserver/accounts')).status, 200);
    await call('GET', '/iserver/account/orders'); // the first live-orders request only starts the subscription
  });
  after(async () => { await fake.stop(); });

  it('places two lines as one group: one answer element per line, one oca_group_id in order status, none in live orders', async () => {
    const cOIDs = pair();
    const groups = fake.state.counters.ocaGroups;
    const { json } = await place(exits(cOIDs));
    assert.equal(json.length, 2);
    for (const r of json) assert.deepEqual(Object.keys(r).sort(), ['encrypt_message', 'order_id', 'order_status']);
    assert.deepEqual(json.map((r: Json) => r.order_status), ['Submitted', 'Submitted']);
    assert.notEqual(json[0].order_id, json[1].order_id);
    assert.equal(fake.state.counters.ocaGroups - groups, 1);
    assert.deepEqual(fake.ocaGroupOf(cOIDs[1]), cOIDs);
    assert.deepEqual(cOIDs.map((c) => fake.state.submits.get(c)), [1, 1]);
    const [a, b] = [await status(json[0].order_id), await status(json[1].order_id)];
    assert.equal(typeof a.oca_group_id, 'string');
    assert.equal(a.oca_group_id, b.oca_group_id);
    assert.equal(Object.keys((await liveRow(cOIDs[0]))!).some((k) => /oca/i.test(k)), false);
  });

  it('a single order is in no group', async () => {
    const { json } = await place([line(`single-${++seq}`, { isSingleGroup: undefined })]);
    assert.equal(json.length, 1);
    assert.equal('oca_group_id' in (await status(json[0].order_id)), false);
    assert.equal(fake.ocaGroupOf(`single-${seq}`), null);
  });

  it('a full fill of one order cancels the other, pushed on the websocket', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    const frames: Json[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Json));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ session: (await call('POST', '/tickle')).json.session }));
    ws.send('sor+{}');
    await sleep(100);
    const cOIDs = pair();
    const [tpId, slId] = await placeGroup(cOIDs);
    fake.fill(cOIDs[0], 10);
    assert.equal((await status(tpId)).order_status, 'Filled');
    assert.equal((await status(slId)).order_status, 'Cancelled');
    assert.equal((await liveRow(cOIDs[1]))!.status, 'Cancelled');
    const pushed = () => frames.some((f) => f.topic === 'sor' && (f.args as Json[]).some((r) => r.order_ref === cOIDs[1] && r.status === 'Cancelled'));
    for (let i = 0; i < 50 && !pushed(); i += 1) await sleep(20);
    ws.close();
    assert.ok(pushed(), 'the cancel pushed on sor');
  });

  it('a partial fill of 4 of 10 shrinks the other to 6; a full fill of that one then cancels the first', async () => {
    const cOIDs = pair();
    const [tpId, slId] = await placeGroup(cOIDs);
    fake.fill(cOIDs[0], 4);
    const sl = await liveRow(cOIDs[1]);
    assert.deepEqual([sl!.totalSize, sl!.remainingQuantity, sl!.status], [6, 6, 'Submitted']);
    assert.deepEqual([(await status(slId)).total_size, (await status(slId)).size], ['6.0', '6.0']);
    assert.equal((await status(tpId)).order_status, 'Submitted');
    fake.fill(cOIDs[1], 6);
    const [tp, slDone] = [await status(tpId), await status(slId)];
    assert.deepEqual([slDone.order_status, slDone.cum_fill], ['Filled', '6.0']);
    assert.deepEqual([tp.order_status, tp.cum_fill, tp.total_size], ['Cancelled', '4.0', '10.0']);
  });

  it('a DELETE cancels that order only; the rest of the group stays working', async () => {
    const cOIDs = pair();
    const [tpId, slId] = await placeGroup(cOIDs);
    assert.equal((await call('DELETE', `/iserver/account/${ACCOUNT}/order/${tpId}`)).json.msg, 'Request was submitted');
    assert.equal((await status(tpId)).order_status, 'Cancelled');
    assert.equal((await status(slId)).order_status, 'Submitted');
  });

  it('a cOID already registered refuses the whole group; nothing is placed', async () => {
    const [tp, sl] = pair();
    await place([line(tp, { isSingleGroup: undefined })]);
    const before = created();
    const { status: code, json } = await place(exits([`new-${seq}`, tp]));
    assert.equal(code, 200);
    assert.deepEqual(json, { error: `Order couldn't be submitted: Local order ID=${tp} is already registered.` });
    assert.equal((await place(exits([sl, sl]))).json.error, `Order couldn't be submitted: Local order ID=${sl} is already registered.`);
    assert.equal(created(), before);
    assert.equal(fake.ocaGroupOf(`new-${seq}`), null);
  });

  it('an invalid line refuses the whole group; nothing is placed', async () => {
    const cOIDs = pair();
    const before = created();
    const { status: code, json } = await place([line(cOIDs[0]), line(cOIDs[1], { orderType: 'STP', price: undefined })]);
    assert.deepEqual([code, json.error], [400, 'Price is required for this order type']);
    assert.equal(created(), before);
  });

  it('several lines without isSingleGroup on each are refused as bulk unrelated orders', async () => {
    const before = created();
    for (const orders of [exits(pair()).map((l) => ({ ...l, isSingleGroup: undefined })), [line(`a-${++seq}`), line(`b-${seq}`, { isSingleGroup: false })]]) {
      const { status: code, json } = await place(orders);
      assert.equal(code, 400);
      assert.match(json.error, /bulk/);
    }
    assert.equal(created(), before);
  });

  it('a question is asked once for the group: confirmed places it, declined drops it', async () => {
    const question = { messageId: 'o163', text: 'The following order exceeds the price percentage limit' };
    const placed = pair();
    fake.state.faults.questions.push(question);
    const asked = (await place(exits(placed))).json;
    assert.equal(asked.length, 1);
    assert.equal(fake.ocaGroupOf(placed[0]), null);
    const answered = (await call('POST', `/iserver/reply/${asked[0].id}`, { confirmed: true })).json;
    assert.equal(answered.length, 2);
    assert.deepEqual(fake.ocaGroupOf(placed[0]), placed);

    const dropped = pair();
    const before = created();
    fake.state.faults.questions.push(question);
    const again = (await place(exits(dropped))).json;
    assert.deepEqual((await call('POST', `/iserver/reply/${again[0].id}`, { confirmed: false })).json, [{ error: 'Order was not confirmed' }]);
    assert.equal(created(), before);
    assert.equal(fake.state.byCoid(dropped[1]), undefined);
  });

  it('failSubmit with created places the group and answers the error; without, places nothing', async () => {
    const yes = pair();
    fake.state.faults.failSubmit = { status: 500, created: true };
    assert.equal((await place(exits(yes))).status, 500);
    assert.deepEqual(fake.ocaGroupOf(yes[0]), yes);
    const no = pair();
    fake.state.faults.failSubmit = { status: 503, created: false };
    assert.equal((await place(exits(no))).status, 503);
    assert.equal(fake.state.byCoid(no[0]), undefined);
  });

  it('dropSubmits places the group and never answers', async () => {
    const cOIDs = pair();
    fake.state.faults.dropSubmits += 1;
    const answered = await Promise.race([place(exits(cOIDs)).then(() => true, () => true), sleep(300).then(() => false)]);
    assert.equal(answered, false);
    assert.deepEqual(fake.ocaGroupOf(cOIDs[0]), cOIDs);
  });
});
