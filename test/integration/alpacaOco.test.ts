// Issue 17 item 2 at Alpaca: a bracket's exits as ONE order of class `oco`. On the real Kafka and
// registry, the brackets processor and the Alpaca connector runtime against the local Alpaca fake
// (test/fakes/alpaca/, written from Alpaca's "OCO Orders" and "Bracket Orders" documentation): the
// take-profit is the order, the stop-loss its leg under an id Alpaca makes up, which the connector names
// ours. A partly filled take-profit shrinks the stop (the pipeline's own OCO cancel leaves it alone), a
// filled leg cancels the other at the venue, a restarted connector finds the leg by the id `executions`
// holds, an `exit` gets the pair canceled before its sell (Alpaca refuses a closing order beyond the
// shares open orders hold), and an OCO whose answer never comes is looked up as a pair, never sent twice. Seen failing with
// ORDER_ROUTER_FAULT=blind-resend (look-ups that never ask the venue): the last test counts 2 OCO requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { randomUUID } from 'node:crypto';
import { outcomeControl, parseOutcome, settleOutcome, type OrderOutcome } from '../../schemas/orderOutcome.ts';
import type { Control, Order } from '../../schemas/types.ts';
import { controlMessage } from '../../streams/control/publisher.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail } from '../../streams/runtime/tail.ts';
import { startAlpacaFake, type AlpacaFake } from '../fakes/alpaca/server.ts';
import { startBracketsRig, type BracketsRig } from '../helpers/bracketsRig.ts';
import { waitFor } from '../helpers/env.ts';

const keyId = 'PKTEST0000000000OCO1';
const secretKey = 'alpaca-oco-test-secret-0000000000000000';

describe('bracket exits as a native Alpaca OCO', { timeout: 150_000 }, () => {
  let rig: BracketsRig;
  let fake: AlpacaFake;
  const startConnector = () => rig.startConnector(createAlpacaClient(parseAlpacaConfig({ baseUrl: fake.url, keyId, secretKey, timeoutMs: 300, reconnectMs: 100, pingMs: 1_000 }), { log: rig.log }));
  const reports: BracketsRig['reports'] = (o, type) => rig.reports(o, type);

  before(async () => {
    rig = await startBracketsRig('alpaca');
    fake = await startAlpacaFake({ keyId, secretKey });
    await startConnector();
  });

  after(async () => {
    await rig?.stop();
    await fake?.stop();
  });

  /** A limit buy of 10 AAPL at 100 with a take-profit at 110 and a stop at 95 (or `stopLoss`), filled by the test at the fake. */
  async function filledEntry(stopLoss: Order['stopLoss'] = { orderType: 'STOP', price: 95, percent: null, amount: null, limitPrice: null }): Promise<Order> {
    const entry = rig.entry('alpaca', { takeProfit: { orderType: 'LIMIT', price: 110, percent: null, amount: null, limitPrice: null }, stopLoss });
    await rig.send(entry);
    await waitFor('the entry acknowledged', async () => reports(entry, 'ACK').length > 0, 30_000, 50);
    await fake.controls.fill(entry.clientOrderId, 10);
    return entry;
  }
  const exitsOf = (entry: Order) => rig.ackedExits(entry);
  const positionOf = (account: string) => rig.positionOf(account);

  it('sends both exits as one OCO; a partial take-profit shrinks the stop, which the pipeline leaves alone; the stop then fills and the venue cancels the rest', async () => {
    const ocoBefore = fake.knobs.counters.ocoSubmits;
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    assert.equal(fake.knobs.counters.ocoSubmits - ocoBefore, 1, 'one OCO request');
    const leg = fake.knobs.legOf(tp.clientOrderId);
    assert.ok(leg, 'the stop is the leg of the take-profit');
    assert.notEqual(leg, sl.clientOrderId, 'under an id of Alpaca\'s own');
    assert.equal(reports(sl, 'ACK')[0].venueOrderId !== null, true);

    await fake.controls.fill(tp.clientOrderId, 4);
    await waitFor('the partial take-profit recorded', async () => reports(tp, 'PARTIAL_FILL').length > 0, 30_000, 50);
    await rig.ocoCancelHandled(sl);
    assert.equal(reports(sl, 'CANCEL').length, 0, 'the stop left working: the venue shrank it to what is still held');

    await fake.controls.fill(leg, 6);
    await waitFor('the stop filled and the take-profit canceled by the venue', async () => reports(sl, 'CANCEL').length > 0 && reports(tp, 'CANCEL').length > 0, 30_000, 50);
    assert.deepEqual(reports(sl, 'PARTIAL_FILL').map((e) => [e.lastQty, e.leavesQty]), [[6, 4]]);
    assert.deepEqual(reports(sl, 'CANCEL').map((e) => [e.cumQty, e.reason]), [[6, 'VENUE_REDUCED']], 'the 4 the venue took off the stop end with one CANCEL');
    assert.deepEqual(reports(tp, 'CANCEL').map((e) => e.cumQty), [4]);
    await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
  });

  it('a take-profit filled in full: the venue cancels the stop, one CANCEL on executions', async () => {
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    await fake.controls.fill(tp.clientOrderId, 10);
    await waitFor('the take-profit filled, the stop canceled', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    await rig.ocoCancelSettled(sl);
    assert.equal(reports(sl, 'CANCEL').length, 1, 'exactly one CANCEL for the stop');
    assert.equal(reports(tp, 'CANCEL').length, 0);
  });

  it('a connector restarted after the pair was placed names the stop leg again and records its fill once', async () => {
    const entry = await filledEntry();
    const { tp, sl } = await exitsOf(entry);
    await startConnector(); // the running one stopped first: its map of legs is gone
    const leg = fake.knobs.legOf(tp.clientOrderId)!;
    await fake.controls.fill(leg, 10);
    await waitFor('the stop\'s fill and the take-profit\'s cancel recorded', async () => reports(sl, 'FILL').length > 0 && reports(tp, 'CANCEL').length > 0, 30_000, 50);
    await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
    assert.equal(reports(sl, 'FILL').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
  });

  it('an exit (a closing sell and the cancels of the resting pair, one transaction): the pair is canceled first, so the sell is not refused for shares the pair holds, also while Alpaca takes its time to cancel', async () => {
    fake.knobs.cancelLagMs = 400; // the DELETE is accepted and the pair stays pending_cancel a while
    try {
      const entry = await filledEntry();
      const { tp, sl } = await exitsOf(entry);
      // As decide writes an `exit`: the closing order and the cancels of the bracket's exits in one transaction.
      const close = await rig.exitWithCancels(entry, [tp, sl]);
      await waitFor('the closing sell answered', async () => reports(close, 'ACK').length + reports(close, 'REJECT').length > 0, 30_000, 50);
      assert.deepEqual(reports(close, 'REJECT').map((e) => e.reason), [], 'not refused for shares the pair held');
      await waitFor('both exits canceled', async () => reports(tp, 'CANCEL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
      await fake.controls.fill(close.clientOrderId, 10);
      await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
    } finally { fake.knobs.cancelLagMs = 0; }
  });

  it('an OCO answer lost while Alpaca does not list the pair yet: the resend\'s refusal (the shares the pair holds) proves nothing, the pair is settled once listed, one pair at the venue', async () => {
    const entry = await filledEntry();
    const ocoBefore = fake.knobs.counters.ocoSubmits;
    fake.knobs.listLagMs = 1_500;
    try {
      await fake.controls.timeoutNextSubmit();
      const { tp, sl } = await exitsOf(entry);
      assert.equal(fake.knobs.counters.ocoSubmits - ocoBefore, 1, 'one pair at the venue');
      assert.ok(await fake.controls.submitsReceived(tp.clientOrderId) >= 2, 'sent again while not listed, and refused');
      assert.equal(reports(tp, 'ACK').length, 1);
      assert.equal(reports(sl, 'ACK').length, 1);
      assert.equal(reports(tp, 'REJECT').length + reports(sl, 'REJECT').length, 0);
    } finally { fake.knobs.listLagMs = 0; }
  });

  it('an OCO request whose answer never comes is looked up as a pair, not sent again', async () => {
    const entry = await filledEntry();
    const ocoBefore = fake.knobs.counters.ocoSubmits;
    await fake.controls.timeoutNextSubmit(); // the next POST is booked and never answered: the exits' OCO
    const { tp, sl } = await exitsOf(entry);
    assert.equal(fake.knobs.counters.ocoSubmits - ocoBefore, 1, 'one OCO for the pair');
    assert.equal(await fake.controls.submitsReceived(tp.clientOrderId), 1, 'one POST with the take-profit\'s id');
    assert.equal(reports(tp, 'ACK').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
    assert.equal(reports(tp, 'REJECT').length + reports(sl, 'REJECT').length, 0);
  });

  it('a pair Alpaca cannot hold as one oco (a trailing stop) goes as two orders, the stop first: the take-profit is the one refused for the shares the stop holds', async () => {
    const ocoBefore = fake.knobs.counters.ocoSubmits;
    const entry = await filledEntry({ orderType: 'TRAILING_STOP', price: null, percent: 2, amount: null, limitPrice: null });
    const { tp, sl } = await rig.exitsOf(entry);
    await waitFor('both exits answered', async () => reports(sl, 'ACK').length + reports(sl, 'REJECT').length > 0 && reports(tp, 'ACK').length + reports(tp, 'REJECT').length > 0, 30_000, 50);
    assert.equal(fake.knobs.counters.ocoSubmits - ocoBefore, 0, 'no oco: Alpaca\'s takes no trailing stop');
    assert.equal(reports(sl, 'ACK').length, 1, 'the protective stop works');
    assert.deepEqual(reports(tp, 'REJECT').map((e) => e.reason), ['VENUE_REJECTED:40310000'], 'the take-profit refused for the shares the stop holds');
  });

  it('a stop leg of unknown outcome after a restart (Alpaca names it, nothing holds its id): an operator settles it by that id, and its fill is recorded once', async () => {
    const outcomes: OrderOutcome[] = [];
    const tail = await startTail(rig.kafka, [rig.topics.control], async (_t, m) => {
      if (!m.value) return;
      const c = await rig.codec.decode('Control', m.value);
      if (c.kind === 'ORDER_OUTCOME') outcomes.push(parseOutcome(c));
    });
    try {
      const entry = await filledEntry();
      fake.knobs.listLagMs = 15_000; // the pair is listed only after every attempt and a restart
      await fake.controls.timeoutNextSubmit();
      const { tp, sl } = await rig.exitsOf(entry);
      fake.knobs.listLagMs = 0;
      const parked = (o: Order, status: OrderOutcome['status']) => outcomes.some((u) => u.clientOrderId === o.clientOrderId && u.status === status);
      await waitFor('both legs parked as of unknown outcome', async () => parked(tp, 'UNKNOWN') && parked(sl, 'UNKNOWN'), 60_000, 100);
      await startConnector(); // forgets which leg the stop is
      await waitFor('the take-profit resolved', async () => parked(tp, 'RESOLVED'), 60_000, 100);
      // What the operator reads in Alpaca's dashboard once the pair is listed: the leg's own order id.
      const legId = await waitFor('the pair listed', async () => legIdOf(fake.url, reports(tp, 'ACK')[0].venueOrderId!), 60_000, 500);
      await new Promise((r) => setTimeout(r, 3_000)); // a few rounds of look-ups of the parked stop
      assert.equal(reports(sl, 'ACK').length, 0, 'the stop leg stays unknown: Alpaca lists it under its own ids only');
      const u = outcomes.find((x) => x.clientOrderId === sl.clientOrderId && x.status === 'UNKNOWN')!;
      // As POST /ops/unknown-orders/alpaca/<id>/settle writes it (streams/control/plane.ts), with the leg's id from Alpaca.
      const settle = settleOutcome(new Map([[`alpaca|${sl.clientOrderId}`, u]]), { venue: 'alpaca', clientOrderId: sl.clientOrderId, settle: { venueOrderId: legId }, actor: 'bob', reason: 'the oco leg in the Alpaca dashboard' });
      const c = outcomeControl(settle, { controlId: randomUUID(), actor: 'bob', at: Date.now(), hlc: rig.hlc.now() });
      await publishControl(rig, c);
      await waitFor('the stop acknowledged and resolved', async () => reports(sl, 'ACK').length > 0 && parked(sl, 'RESOLVED'), 60_000, 100);
      await fake.controls.fill(fake.knobs.legOf(tp.clientOrderId)!, 10);
      await waitFor('the stop filled, the take-profit canceled', async () => reports(sl, 'FILL').length > 0 && reports(tp, 'CANCEL').length > 0, 30_000, 50);
      assert.equal(reports(sl, 'FILL').length, 1);
      await waitFor('the position flat', async () => positionOf(entry.account) === 0, 10_000, 50);
    } finally {
      fake.knobs.listLagMs = 0;
      await tail.stop();
    }
  });
});

/** One record on `control`, as the control plane's publisher writes it. */
async function publishControl(rig: BracketsRig, c: Control): Promise<void> {
  const producer = rig.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try { await producer.send({ topic: rig.topics.control, acks: -1, messages: [controlMessage(rig.codec, rig.topics.control, c)] }); } finally { await producer.disconnect(); }
}

/** The Alpaca id of an OCO's stop leg, from its parent read with `nested=true`; null while not listed. */
async function legIdOf(url: string, parentId: string): Promise<string | null> {
  const res = await fetch(`${url}/v2/orders/${encodeURIComponent(parentId)}?nested=true`, { headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secretKey } });
  const body = (await res.json()) as { legs?: { id: string }[] };
  return body.legs?.[0]?.id ?? null;
}
