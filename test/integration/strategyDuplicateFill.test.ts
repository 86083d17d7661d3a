// A fill recorded twice on `executions` (the same executionId, as a connector handover can write it)
// counts once in the strategy's position and reaches its onFill once. The runtime runs as its own
// process (`start --only strategies`) beside an in-process edge and decide; the strategy answers each
// fill with its position as a target, keyed by that position, so a fill counted twice shows as a
// signal `pos-6`. The same scenario with ORDER_ROUTER_FAULT=strategy-double-fill (the dedupe switched
// off) must produce it: the check has been seen failing.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPipeline } from '../../edge/main/pipeline.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { isolatedEnv, readAll, testKafka, testLog, waitFor } from '../helpers/env.ts';
import { kill, spawnComponent } from '../helpers/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'strategies-dup-'));
writeFileSync(join(dir, 'positionEcho.mjs'), `export default {
  id: 'trend-1', symbols: ['AAPL'],
  onFill(f, ctx) {
    const p = ctx.position('AAPL');
    ctx.submit({ symbol: 'AAPL', intent: 'target', target: p, price: f.price, idempotencyKey: 'pos-' + p });
  },
};`);

async function scenario(fault: string | null): Promise<string[]> {
  const env = isolatedEnv({ STRATEGIES_DIR: dir });
  const pipeline = await startPipeline({ env, log: testLog(), components: ['edge', 'decide'] });
  const child = spawnComponent('strategies', { ...env, STRATEGIES_EDGE_URL: pipeline.edgeUrl!, LOG_LEVEL: 'info', ...(fault ? { ORDER_ROUTER_FAULT: fault } : {}) });
  const producer = testKafka(env).producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await waitFor('the strategy to start', async () => child.output().includes('strategy started'), 60_000);
    const codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
    await codec.register(pipeline.topics.quotes, 'Quote');
    await codec.register(pipeline.topics.executions, 'ExecutionReport');
    await producer.connect();
    const now = Date.now();
    await producer.send({
      topic: pipeline.topics.quotes, acks: -1,
      messages: [{ key: 'paper|AAPL', value: codec.encode(pipeline.topics.quotes, { venue: 'paper', symbol: 'AAPL', bid: 190, ask: 190.02, bidSize: 100, askSize: 100, venueTime: now, hlc: now * 1000 }) }],
    });
    const fill: ExecutionReport = {
      executionId: 'paper:dup-1', type: 'FILL', orderId: 'ord-x', clientOrderId: 'c1', venueOrderId: 'v1', venueTradeId: 't1',
      signalId: 'trend-1:manual', account: 'ACC-1', strategy: 'trend-1', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 3, lastPrice: 190.02,
      cumQty: 3, leavesQty: 0, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: now, recordedAt: now, hlc: now * 1000,
    };
    const record = { key: 'ord-x', value: codec.encode(pipeline.topics.executions, fill), partition: 0 };
    await producer.send({ topic: pipeline.topics.executions, acks: -1, messages: [record, record] });
    const ids = async () => (await Promise.all((await readAll(env, pipeline.topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)))).map((d) => d.signalId);
    await waitFor('the decision on the first fill', async () => (await ids()).includes('trend-1:pos-3'));
    // Time for a second, wrong signal to arrive if the fill were counted twice (with the fault on: until it does).
    if (fault) await waitFor('the signal of a fill counted twice', async () => (await ids()).includes('trend-1:pos-6'), 30_000).catch(() => {});
    else await sleep(3000);
    return ids();
  } finally {
    await producer.disconnect().catch(() => {});
    await kill(child, 'SIGTERM');
    await pipeline.stop();
  }
}

test('a fill recorded twice counts once', async () => {
  const ids = await scenario(null);
  assert.ok(ids.includes('trend-1:pos-3'));
  assert.ok(!ids.includes('trend-1:pos-6'), 'the repeated fill was counted again');
});

test('seen failing: with the dedupe switched off the position doubles', async () => {
  const ids = await scenario('strategy-double-fill');
  assert.ok(ids.includes('trend-1:pos-6'), 'the fault should make the runtime count the repeat');
});
