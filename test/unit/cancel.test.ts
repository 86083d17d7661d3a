// Cancels, the connector's side and the request: which requests are refused and why, what a venue's
// answer to a cancel records (once), the co-partitioned assignment that brings a cancel to the order's
// owner, and the record requestCancel writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { createOrderLedger } from '../../connectors/ledger.ts';
import { cancelRefusal, createCancelHandler } from '../../connectors/cancelHandler.ts';
import { requestCancel } from '../../connectors/cancelRequest.ts';
import { coPartitionedAssignment } from '../../connectors/coPartition.ts';
import { VenueError } from '../../connectors/http.ts';
import { applyReport, diffOrder, knownFromOrder, type KnownOrder } from '../../connectors/reconcile.ts';
import type { VenueClient, VenueOrderState } from '../../connectors/venue.ts';
import type { Codec } from '../../schemas/codec.ts';
import type { CancelRequest, Order } from '../../schemas/types.ts';

const order: Order = {
  orderId: 'ord-1', clientOrderId: 'c-1', signalId: 'sig-1', decisionId: 'dec-1', account: 'ACC-1', strategy: 's1', symbol: 'AAPL', venue: 'paper',
  side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 100, stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce: 'DAY', signalPrice: null, arrivalMid: null, createdAt: 1, hlc: 1,
};
const stamp = () => ({ recordedAt: 50, hlc: () => 7 });
const state = (over: Partial<VenueOrderState> = {}): VenueOrderState => ({
  clientOrderId: 'c-1', venueOrderId: 'v-1', symbol: 'AAPL', side: 'BUY', quantity: 10, status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: 40, ...over,
});
const fold = (k: KnownOrder, s: VenueOrderState) => { let cur = k; for (const r of diffOrder(k, s, 1, stamp()).reports) cur = applyReport(cur, r); return cur; };
const resting = () => fold(knownFromOrder(order), state());
const request = (over: Partial<CancelRequest> = {}): CancelRequest => ({
  requestId: 'r-1', orderId: 'ord-1', clientOrderId: null, account: 'ACC-1', venue: 'paper', symbol: null, source: 'ops', actor: 'bob', reason: null, requestedAt: 1, hlc: 1, ...over,
});

function fakeVenue(answer: { cancel?: () => Promise<VenueOrderState>; lookup?: () => Promise<VenueOrderState | null> }) {
  const calls: string[] = [];
  const client = {
    venue: 'paper',
    async cancel(cid: string, symbol?: string) { calls.push(`cancel ${cid} ${symbol}`); return answer.cancel!(); },
    async lookup(cid: string) { calls.push(`lookup ${cid}`); return answer.lookup ? answer.lookup() : null; },
  } as unknown as VenueClient;
  return { client, calls };
}

function handler(client: VenueClient, known: Map<string, KnownOrder>) {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const ledger = createOrderLedger();
  for (const [cid, k] of known) ledger.recorded(cid, k, []);
  const h = createCancelHandler({ client, codec: {} as Codec, log, clock: () => 45, stamp, call: (_op, fn) => fn(), ledger });
  return { h, lines };
}

describe('cancel refusals (pure)', () => {
  it('names why a request changes nothing', () => {
    assert.equal(cancelRefusal(undefined, 'ord-1')?.code, 'UNKNOWN_ORDER');
    assert.equal(cancelRefusal(knownFromOrder(order), 'ord-1')?.code, 'NOT_ACKNOWLEDGED');
    assert.equal(cancelRefusal(resting(), 'ord-1'), null);
    const filled = fold(resting(), state({ status: 'FILLED', filledQty: 10, fills: [{ tradeId: 't1', quantity: 10, price: 100, fee: 0, venueTime: 41 }] }));
    assert.deepEqual(cancelRefusal(filled, 'ord-1'), { code: 'ORDER_NOT_OPEN', message: 'order ord-1 is filled' });
    assert.equal(cancelRefusal(fold(resting(), state({ status: 'CANCELED' })), 'ord-1')?.message, 'order ord-1 is canceled already');
    assert.equal(cancelRefusal(fold(knownFromOrder(order), state({ status: 'REJECTED', rejectReason: 'X' })), 'ord-1')?.message, 'order ord-1 was rejected');
  });
});

describe('cancel handler', () => {
  it('given a resting order named by its order id, then one venue cancel and one CANCEL report from the answer', async () => {
    const { client, calls } = fakeVenue({ cancel: async () => state({ status: 'CANCELED', venueTime: 44 }) });
    const { h } = handler(client, new Map([['c-1', resting()]]));
    const out = await h.handleAll([request()], []);
    assert.deepEqual(calls, ['cancel c-1 AAPL']);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0].reports.map((r) => [r.executionId, r.type, r.reason, r.venueTime, r.venueOrderId]), [['paper:ord-1:CANCEL', 'CANCEL', 'CANCELED', 44, 'v-1']]);
    assert.equal(out[0].next.canceled, true);
  });

  it('given the same request twice in one batch, then the second finds it canceled and adds nothing', async () => {
    const { client, calls } = fakeVenue({ cancel: async () => state({ status: 'CANCELED' }) });
    const { h, lines } = handler(client, new Map([['c-1', resting()]]));
    const out = await h.handleAll([request(), request({ requestId: 'r-2' })], []);
    assert.equal(out.flatMap((r) => r.reports).length, 1);
    assert.equal(calls.length, 1, 'the venue is asked once');
    assert.ok(lines.some((l) => l.includes('"code":"ORDER_NOT_OPEN"') && l.includes('canceled already')));
  });

  it('given an order and its cancel in one batch, then the cancel sees the order acknowledged by that batch', async () => {
    const { client } = fakeVenue({ cancel: async () => state({ status: 'CANCELED' }) });
    const known = new Map([['c-1', knownFromOrder(order)]]);
    const { h } = handler(client, known);
    const acked = diffOrder(knownFromOrder(order), state(), 1, stamp());
    const out = await h.handleAll([request({ clientOrderId: 'c-1' })], [{ cid: 'c-1', ...acked }]);
    assert.deepEqual(out.flatMap((r) => r.reports.map((x) => x.type)), ['CANCEL']);
  });

  it('given an order the venue filled meanwhile, then its fill is recorded and no CANCEL', async () => {
    const fill = { tradeId: 't9', quantity: 10, price: 99.5, fee: 0.1, venueTime: 43 };
    const { client } = fakeVenue({ cancel: async () => state({ status: 'FILLED', filledQty: 10, fills: [fill] }) });
    const { h, lines } = handler(client, new Map([['c-1', resting()]]));
    const out = await h.handleAll([request()], []);
    assert.deepEqual(out.flatMap((r) => r.reports.map((x) => x.type)), ['FILL']);
    assert.ok(lines.some((l) => l.includes('"code":"ORDER_NOT_OPEN"') && l.includes('FILLED')));
  });

  it('given a venue that refuses the cancel, then the order is looked up, what it became recorded, the refusal named', async () => {
    const { client, calls } = fakeVenue({
      cancel: async () => { throw new VenueError('VENUE_REJECTED', 'unknown order', { venue: 'paper', operation: 'cancel' }); },
      lookup: async () => state({ status: 'EXPIRED', venueTime: 42 }),
    });
    const { h, lines } = handler(client, new Map([['c-1', resting()]]));
    const out = await h.handleAll([request()], []);
    assert.deepEqual(calls, ['cancel c-1 AAPL', 'lookup c-1']);
    assert.deepEqual(out.flatMap((r) => r.reports.map((x) => [x.type, x.reason])), [['CANCEL', 'EXPIRED']], 'a DAY order the venue expired is recorded as such');
    assert.ok(!lines.some((l) => l.includes('cancel refused')), 'the order did end: no refusal');
  });

  it('given a venue that does not answer, then the error is thrown (the batch is read again), nothing staged', async () => {
    const { client } = fakeVenue({ cancel: async () => { throw new VenueError('VENUE_TIMEOUT', 'timeout', { venue: 'paper', operation: 'cancel' }); } });
    const { h } = handler(client, new Map([['c-1', resting()]]));
    await assert.rejects(h.handleAll([request()], []), /timeout/);
  });

  it('given an unknown order, another venue\'s id or a mismatched client id, then refused and the venue never asked', async () => {
    const { client, calls } = fakeVenue({ cancel: async () => state({ status: 'CANCELED' }) });
    const { h, lines } = handler(client, new Map([['c-1', resting()]]));
    assert.deepEqual(await h.handleAll([request({ orderId: 'ord-x' }), request({ orderId: 'ord-x', clientOrderId: 'c-1' })], []), []);
    assert.equal(calls.length, 0);
    assert.equal(lines.filter((l) => l.includes('"code":"UNKNOWN_ORDER"')).length, 2);
  });
});

describe('cancel handler, a leg of a native OCO pair', () => {
  const nativeVenue = (nativeOco: boolean) => {
    const v = fakeVenue({ cancel: async () => state({ status: 'CANCELED' }), lookup: async () => state({ ...(nativeOco ? { nativeOco: true } : {}) }) });
    Object.assign(v.client, { ocoSupported: () => true, submitOco: async () => { throw new Error('not here'); } });
    return v;
  };

  it('given the pipeline\'s own OCO cancel of a leg the venue holds natively, then refused VENUE_MANAGED and the venue never asked to cancel', async () => {
    const { client, calls } = nativeVenue(true);
    const { h, lines } = handler(client, new Map([['c-1', resting()]]));
    assert.deepEqual(await h.handleAll([request({ source: 'oco' })], []), []);
    assert.deepEqual(calls, ['lookup c-1']);
    assert.ok(lines.some((l) => l.includes('"code":"VENUE_MANAGED"')));
  });

  it('given an OCO cancel of a leg sent alone, or an operator\'s cancel of a native leg, then canceled as any order', async () => {
    const alone = nativeVenue(false);
    const a = handler(alone.client, new Map([['c-1', resting()]]));
    assert.deepEqual((await a.h.handleAll([request({ source: 'oco' })], [])).flatMap((r) => r.reports.map((x) => x.type)), ['CANCEL']);
    assert.deepEqual(alone.calls, ['lookup c-1', 'cancel c-1 AAPL']);
    const native = nativeVenue(true);
    const b = handler(native.client, new Map([['c-1', resting()]]));
    assert.deepEqual((await b.h.handleAll([request({ source: 'ops' })], [])).flatMap((r) => r.reports.map((x) => x.type)), ['CANCEL']);
    assert.deepEqual(native.calls, ['cancel c-1 AAPL']);
  });
});

describe('cancel handler, a scope of orders', () => {
  it('cancels different orders concurrently and each once, keeping the requests of one order in order', async () => {
    let inFlight = 0, most = 0;
    const client = {
      venue: 'paper',
      async cancel(cid: string) { inFlight++; most = Math.max(most, inFlight); await new Promise((r) => setTimeout(r, 20)); inFlight--; return state({ clientOrderId: cid, venueOrderId: `v-${cid}`, status: 'CANCELED' }); },
    } as unknown as VenueClient;
    const known = new Map<string, KnownOrder>();
    for (let i = 0; i < 40; i++) {
      const o = { ...order, orderId: `ord-${i}`, clientOrderId: `c-${i}` };
      known.set(o.clientOrderId, fold(knownFromOrder(o), state({ clientOrderId: o.clientOrderId, venueOrderId: `v-${o.clientOrderId}` })));
    }
    const { h } = handler(client, known);
    const reqs = [...known.keys()].flatMap((cid, i) => [request({ requestId: `a${i}`, orderId: `ord-${i}` }), request({ requestId: `b${i}`, orderId: `ord-${i}` })]);
    const out = await h.handleAll(reqs, [], 8);
    assert.equal(out.flatMap((r) => r.reports).length, 40, 'one CANCEL per order, the repeat of each adds nothing');
    assert.ok(most > 1 && most <= 8, `at most 8 at the venue at once, more than one (saw ${most})`);
  });
});

describe('co-partitioned assignment', () => {
  it('gives partition p of every topic to the same member, whatever the member order', () => {
    const plan = coPartitionedAssignment(['m-b', 'm-a'], { orders: [0, 1, 2], 'cancel-requests': [0, 1, 2] });
    assert.deepEqual(plan.get('m-a'), { orders: [0, 2], 'cancel-requests': [0, 2] });
    assert.deepEqual(plan.get('m-b'), { orders: [1], 'cancel-requests': [1] });
    const one = coPartitionedAssignment(['m'], { orders: [0, 1, 2], 'cancel-requests': [0, 1, 2] });
    assert.deepEqual(one.get('m'), { orders: [0, 1, 2], 'cancel-requests': [0, 1, 2] });
  });
});

describe('requestCancel', () => {
  const sent: unknown[] = [];
  const producer = { send: async (r: unknown) => { sent.push(r); return []; } } as unknown as Producer;
  const codec = { encode: (_t: string, v: unknown) => Buffer.from(JSON.stringify(v)) } as unknown as Codec;
  const deps = { producer, codec, topic: 'cancel-requests', hlc: () => 9, clock: () => 1000 };

  it('writes one record per order, keyed by order id, partitioned by account, acks=all', async () => {
    const out = await requestCancel(deps, [{ orderId: 'ord-1', account: 'ACC-1', venue: 'paper' }], { source: 'alert', actor: 'trend-1' });
    assert.equal(out.length, 1);
    assert.deepEqual({ ...out[0], requestId: 'x' }, {
      requestId: 'x', orderId: 'ord-1', clientOrderId: null, account: 'ACC-1', venue: 'paper', symbol: null, source: 'alert', actor: 'trend-1', reason: null, requestedAt: 1000, hlc: 9,
    });
    const rec = sent[0] as { topic: string; acks: number; messages: { key: string; headers: Record<string, string> }[] };
    assert.equal(rec.topic, 'cancel-requests');
    assert.equal(rec.acks, -1);
    assert.equal(rec.messages[0].key, 'ord-1');
    assert.equal(Object.values(rec.messages[0].headers)[0], 'ACC-1');
  });

  it('refuses a malformed target naming the field, writing nothing', async () => {
    const before = sent.length;
    await assert.rejects(
      requestCancel(deps, [{ orderId: 'ord-1', account: 'ACC-1', venue: 'paper' }, { orderId: 'ord 2', account: 'ACC-1', venue: 'paper' }], { source: 'ops', actor: 'bob' }),
      (e: Error & { field?: string }) => e.field === 'orderId',
    );
    assert.equal(sent.length, before);
  });
});
