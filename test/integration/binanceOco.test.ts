// Issue 17 item 2 at Binance: a bracket's exits as ONE native OCO order list. On the real Kafka and
// registry, the brackets processor and the Binance connector runtime against the local Binance fake
// (test/fakes/binance/, written from rest-api.md "New Order list - OCO" and user-data-stream.md):
// an entry with a bracket fills, its two exits reach the venue as one POST /api/v3/orderList/oco, the
// take-profit fills, the venue expires the stop itself (one CANCEL on `executions`) and the brackets
// processor's own OCO cancel is a no-op; an OCO request whose answer never comes is looked up leg by leg,
// never sent twice. Seen failing with ORDER_ROUTER_FAULT=blind-resend (look-ups that never ask the venue):
// run this file with the variable set and the second test counts 2 OCO requests for one pair.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import type { Order } from '../../schemas/types.ts';
import { clientOrderIdFor } from '../../streams/decide/decide.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { startBracketsRig, type BracketsRig } from '../helpers/bracketsRig.ts';
import { waitFor } from '../helpers/env.ts';

// web-socket-api.md "SIGNED request example (HMAC)": the documentation's example key pair.
const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const OCO = 'POST /api/v3/orderList/oco';

describe('bracket exits as a native Binance OCO', { timeout: 120_000 }, () => {
  let rig: BracketsRig;
  let fake: BinanceFake;
  const reports: BracketsRig['reports'] = (o, type) => rig.reports(o, type);

  before(async () => {
    rig = await startBracketsRig('binance');
    fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
    await rig.startConnector(createBinanceClient(parseBinanceConfig({
      baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300,
      unknownWindowMs: 1_500, unknownPollMs: 100, recvWindowMs: 1_000,
    }), { log: rig.log }));
  });

  after(async () => {
    await rig?.stop();
    await fake?.stop();
  });

  /** A market buy of 0.01 BTC with a take-profit at 66000 and a stop at 64000 (the fake's book: 64990 / 65000). */
  async function sendEntry(takeProfitAt = 66000): Promise<Order> {
    const orderId = randomUUID();
    const order: Order = {
      orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: 'ACC-OCO', strategy: 'oco', symbol: 'BTCUSD', venue: 'binance',
      side: 'BUY', quantity: 0.01, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null,
      takeProfit: { orderType: 'LIMIT', price: takeProfitAt, percent: null, amount: null, limitPrice: null },
      stopLoss: { orderType: 'STOP', price: 64000, percent: null, amount: null, limitPrice: null },
      parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: rig.hlc.now(),
    };
    await rig.send(order);
    return order;
  }
  const exitsOf = (entry: Order) => rig.exitsOf(entry);
  const listsWith = (cid: string) => fake.knobs.orderLists().filter((l) => l.legs.includes(cid));

  it('sends both exits as one OCO; the take-profit fills, the venue expires the stop, and the pipeline\'s OCO cancel is a no-op', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    const entry = await sendEntry();
    const { tp, sl } = await exitsOf(entry);
    await waitFor('both legs acknowledged', async () => reports(tp, 'ACK').length > 0 && reports(sl, 'ACK').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request');
    assert.deepEqual(listsWith(tp.clientOrderId).map((l) => l.legs), [[tp.clientOrderId, sl.clientOrderId]], 'take-profit above, stop below, one list');
    assert.equal(fake.knobs.ordersWithId(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId).length, 1);
    assert.deepEqual(fake.knobs.ordersWithId(tp.clientOrderId).map((o) => o.type), ['LIMIT_MAKER']);

    const deletesBefore = fake.knobs.requests('DELETE /api/v3/order');
    await fake.controls.fill(tp.clientOrderId, 0.01);
    await waitFor('the take-profit filled and the stop canceled by the venue', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId)[0].status, 'EXPIRED', 'expired by the venue (OCO_TRIGGER)');

    // The brackets processor still asks to cancel the sibling once (the backstop); the connector finds it closed.
    await rig.ocoCancelHandled(sl);
    assert.equal(reports(sl, 'CANCEL').length, 1, 'exactly one CANCEL for the stop');
    assert.equal(reports(tp, 'CANCEL').length, 0);
    assert.equal(fake.knobs.requests('DELETE /api/v3/order') - deletesBefore, 0, 'no cancel sent for an order already closed');
  });

  it('a pair the venue refuses (a take-profit the market has passed: LIMIT_MAKER would take) goes as two orders, pipeline-managed', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    const entry = await sendEntry(64_900); // under the bid (64990): the take-profit is marketable
    const { tp, sl } = await exitsOf(entry);
    await waitFor('the take-profit filled at once, the stop canceled by the pipeline', async () => reports(tp, 'FILL').length > 0 && reports(sl, 'CANCEL').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request, refused');
    assert.equal(listsWith(tp.clientOrderId).length, 0, 'no list at the venue');
    assert.deepEqual(fake.knobs.ordersWithId(tp.clientOrderId).map((o) => [o.type, o.status]), [['LIMIT', 'FILLED']]);
    assert.deepEqual(fake.knobs.ordersWithId(sl.clientOrderId).map((o) => [o.type, o.status]), [['STOP_LOSS', 'CANCELED']]);
    assert.equal(reports(sl, 'CANCEL').length, 1);
    assert.equal(reports(tp, 'REJECT').length + reports(sl, 'REJECT').length, 0);
  });

  it('an OCO request whose answer never comes is looked up leg by leg, not sent again', async () => {
    const ocoBefore = fake.knobs.requests(OCO);
    // Applied 1 s later, after the client (300 ms) has given up; inside the unknown window (1.5 s).
    fake.knobs.delayNextOco(1_000, 'none');
    const entry = await sendEntry();
    const { tp, sl } = await exitsOf(entry);
    await waitFor('both legs acknowledged', async () => reports(tp, 'ACK').length > 0 && reports(sl, 'ACK').length > 0, 30_000, 50);
    assert.equal(fake.knobs.requests(OCO) - ocoBefore, 1, 'one OCO request for the pair');
    assert.equal(listsWith(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(tp.clientOrderId).length, 1);
    assert.equal(fake.knobs.ordersWithId(sl.clientOrderId).length, 1);
    assert.equal(reports(tp, 'ACK').length, 1);
    assert.equal(reports(sl, 'ACK').length, 1);
  });
});
