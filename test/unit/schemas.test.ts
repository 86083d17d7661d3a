import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { avroType } from '../../schemas/codec.ts';
import { generateTypes, typesFile } from '../../schemas/generate.ts';
import { TOPIC_SCHEMA, topicNames } from '../../schemas/topics.ts';
import { topicConfigs } from '../../streams/runtime/topics.ts';
import type { ExecutionReport } from '../../schemas/types.ts';

describe('schemas', () => {
  it('keeps schemas/types.ts generated from the Avro files (run `npm run schemas:generate` after a schema change)', () => {
    assert.equal(readFileSync(typesFile, 'utf8'), generateTypes());
  });

  it('round-trips an execution report through its Avro type', () => {
    const e: ExecutionReport = {
      executionId: 'paper:T:AAPL-1-B', type: 'FILL', orderId: 'ord-1', clientOrderId: 'ord1', venueOrderId: 'V1', venueTradeId: 'AAPL-1-B',
      signalId: 's1', account: 'A', strategy: 'S', symbol: 'AAPL', venue: 'paper', side: 'BUY', lastQty: 10, lastPrice: 190.01,
      cumQty: 10, leavesQty: 0, fee: 0.19, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: 1795312800000, recordedAt: 1795312800001,
      hlc: 1795312800001 * 1000 + 999,
    };
    const t = avroType('ExecutionReport');
    assert.deepEqual({ ...t.fromBuffer(t.toBuffer(e)) }, e);
  });

  it('names a schema for every topic', () => {
    for (const name of Object.values(TOPIC_SCHEMA)) assert.ok(avroType(name as 'Signal'));
  });
});

describe('topics', () => {
  const configs = topicConfigs(topicNames('x.'), 3, { replicationFactor: 3, minInsyncReplicas: 2 });
  const config = (topic: string) => Object.fromEntries(configs.find((c) => c.topic === topic)!.configEntries!.map((e) => [e.name, e.value]));

  it('compacts signals, quotes and control', () => {
    for (const t of ['x.signals', 'x.quotes', 'x.control']) assert.equal(config(t)['cleanup.policy'], 'compact', t);
  });

  it('keeps the append-only logs forever', () => {
    for (const t of ['x.risk-decisions', 'x.orders', 'x.executions', 'x.dead-letters']) {
      assert.equal(config(t)['cleanup.policy'], undefined, t);
      assert.equal(config(t)['retention.ms'], '-1', t);
      assert.equal(config(t)['retention.bytes'], '-1', t);
    }
  });
});
