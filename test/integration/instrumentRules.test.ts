// The venue's instrument rules in the connector, on the real stack against the Binance fake (built from
// exchangeInfo's documented filters): the rules are on the `instruments` topic after start, an order off
// the venue's lot step is rejected with RULE_LOT_SIZE without reaching the venue, and one on the rules
// goes out as before.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Order } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startBinanceFake, type BinanceFake } from '../fakes/binance/server.ts';
import { isolatedEnv, readAll, testKafka, testLog, waitFor } from '../helpers/env.ts';

const apiKey = 'rulesTestApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF0123';
const secretKey = 'rulesTestSecret0123456789abcdefABCDEF0123456789abcdefABCDEF012';

describe('instrument rules before an order leaves', () => {
  let fake: BinanceFake;
  let pipeline: Pipeline;
  let codec: Codec;
  let producer: Producer;
  const env = isolatedEnv();

  before(async () => {
    fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
    Object.assign(env, {
      VENUES: 'binance', BINANCE_BASE_URL: fake.url, BINANCE_WS_API_URL: fake.wsApiUrl, BINANCE_STREAM_URL: fake.streamUrl,
      BINANCE_API_KEY: apiKey, BINANCE_SECRET_KEY: secretKey, BINANCE_UNKNOWN_WINDOW_MS: '1000', BINANCE_SYMBOLS: 'BTCUSDT',
    });
    pipeline = await startPipeline({ env, components: ['connector'], log: testLog() });
    codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
    await codec.register(pipeline.topics.orders, 'Order');
    producer = testKafka(env).producer({ createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await pipeline?.stop();
    await fake?.stop();
  });

  async function send(quantity: number, limitPrice: number): Promise<Order> {
    const orderId = `ord-${randomUUID()}`;
    const order: Order = {
      orderId, clientOrderId: `r${orderId.slice(4, 23).replace(/-/g, '')}`, signalId: `sig-${orderId}`, decisionId: `dec-${orderId}`, account: 'ACC-1', strategy: 'trend-1',
      symbol: 'BTCUSD', venue: 'binance', side: 'BUY', quantity, orderType: 'LIMIT', limitPrice, stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce: 'GTC', signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: Date.now() * 1000,
    };
    await producer.send({ topic: pipeline.topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(pipeline.topics.orders, order), headers: accountHeaders('ACC-1') }] });
    return order;
  }
  const reportOf = (order: Order) => waitFor(`the outcome of ${order.orderId}`, async () => {
    for (const m of await readAll(env, pipeline.topics.executions)) {
      const e = await codec.decode('ExecutionReport', m.value!);
      if (e.orderId === order.orderId) return e;
    }
    return null;
  });

  it('publishes the venue\'s rules, refuses an order off its lot step before it leaves, and sends one on it', async () => {
    const rules = await waitFor('BTCUSD on the instruments topic', async () => {
      for (const m of await readAll(env, pipeline.topics.instruments)) {
        const r = await codec.decode('Instrument', m.value!);
        if (r.venue === 'binance' && r.symbol === 'BTCUSD') return { key: m.key?.toString(), r };
      }
      return null;
    });
    assert.equal(rules.key, 'binance|BTCUSD');
    assert.deepEqual([rules.r.venueSymbol, rules.r.trading, rules.r.lotSize, rules.r.tickSize, rules.r.minNotional], ['BTCUSDT', true, 0.00001, 0.01, 5]);

    const off = await send(0.000125, 58000);
    const refused = await reportOf(off);
    assert.equal(refused.type, 'REJECT');
    assert.equal(refused.reason, 'RULE_LOT_SIZE: quantity 0.000125 is not a multiple of 0.00001');
    assert.equal(await fake.controls.submitsReceived(off.clientOrderId), 0, 'the venue never saw it');

    const on = await send(0.0001, 58000);
    assert.equal((await reportOf(on)).type, 'ACK');
    assert.equal(await fake.controls.submitsReceived(on.clientOrderId), 1);
  });
});
