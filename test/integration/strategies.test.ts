// The strategy runtime on the real stack: `start --only edge,decide,strategies` with a strategy module
// in STRATEGIES_DIR. Its signal reaches the gate through the edge's signed POST /signals (a decision on
// `risk-decisions` for its strategy and account), and a fill of its own on `executions` reaches its
// onFill with the position folded, which it answers with a new target.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { startPipeline, type Pipeline } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { ExecutionReport, RiskDecision } from '../../schemas/types.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { isolatedEnv, readAll, testKafka, testLog, waitFor } from '../helpers/env.ts';

const dir = mkdtempSync(join(tmpdir(), 'strategies-it-'));
writeFileSync(join(dir, 'buyOnce.mjs'), `export default {
  id: 'trend-1', symbols: ['AAPL'],
  init: () => ({ sent: false }),
  onQuote(q, ctx) {
    if (ctx.state.sent) return;
    ctx.state.sent = true;
    ctx.submit({ symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 3, price: q.ask, idempotencyKey: 'first-buy' });
  },
  onFill(f, ctx) {
    ctx.submit({ symbol: 'AAPL', intent: 'target', target: ctx.position('AAPL') + 1, price: f.price, idempotencyKey: 'after-' + f.executionId });
  },
};`);
const env = isolatedEnv({ STRATEGIES_DIR: dir });
let pipeline: Pipeline;
let producer: Producer;
let codec: Codec;

before(async () => {
  pipeline = await startPipeline({ env, log: testLog(), components: ['edge', 'decide', 'strategies'] });
  codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
  await codec.register(pipeline.topics.quotes, 'Quote');
  await codec.register(pipeline.topics.executions, 'ExecutionReport');
  producer = testKafka(env).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await pipeline?.stop();
});

const decisions = async () => Promise.all((await readAll(env, pipeline.topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)));

test('a strategy signal takes the signed edge path to the gate; its own fill comes back with its position', async () => {
  const now = Date.now();
  await producer.send({
    topic: pipeline.topics.quotes, acks: -1,
    messages: [{ key: 'paper|AAPL', value: codec.encode(pipeline.topics.quotes, { venue: 'paper', symbol: 'AAPL', bid: 190, ask: 190.02, bidSize: 100, askSize: 100, venueTime: now, hlc: now * 1000 }) }],
  });
  const first = await waitFor('the strategy\'s first decision', async () => (await decisions()).find((d) => d.signalId === 'trend-1:first-buy'));
  assert.equal(first.strategy, 'trend-1');
  assert.equal(first.account, 'ACC-1', 'the account comes from the edge\'s configuration of the strategy');
  assert.equal(first.verdict, 'APPROVED');
  assert.equal(first.quantity, 3);

  const fill: ExecutionReport = {
    executionId: 'paper:test-fill-1', type: 'FILL', orderId: first.orderId!, clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: 't1',
    signalId: first.signalId, account: 'ACC-1', strategy: 'trend-1', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 3, lastPrice: 190.02,
    cumQty: 3, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: now, recordedAt: Date.now(), hlc: Date.now() * 1000,
  };
  await producer.send({ topic: pipeline.topics.executions, acks: -1, messages: [{ key: first.orderId!, value: codec.encode(pipeline.topics.executions, fill) }] });
  const next: RiskDecision = await waitFor('the decision on the signal sent from onFill', async () => (await decisions()).find((d) => d.signalId === 'trend-1:after-paper:test-fill-1'));
  // Target 4 from a position of 3: the strategy saw its fill folded into ctx.position.
  assert.equal(next.verdict, 'APPROVED');
  assert.equal(next.side, 'BUY');
  assert.equal(next.quantity, 1);
});
