// Two decide instances sharing the signals partitions, as separate processes: the second starts while
// signals are flowing (a rebalance mid-stream), then the first is killed with SIGKILL (its open
// transaction, if any, is fenced by whoever takes its partitions). Every signal is decided exactly once
// and every approved decision has exactly one order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from 'kafkajs';
import { prepare } from '../../scripts/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Signal } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import type { Topics } from '../../streams/runtime/topics.ts';
import { isolatedEnv, readAll, testKafka, waitFor } from '../helpers/env.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIGNALS = 600;
const ACCOUNTS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance { child: ChildProcess; output: string[]; exited: Promise<number | null> }

describe('decide scale-out', () => {
  const env = isolatedEnv({ LOG_LEVEL: 'info' });
  let topics: Topics;
  let codec: Codec;
  let producer: Producer;
  const instances: Instance[] = [];

  function startInstance(id: string): Instance {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'start', '--only', 'decide'], {
      cwd: root, env: { ...env, INSTANCE_ID: id }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const instance = { child, output, exited };
    instances.push(instance);
    return instance;
  }

  before(async () => {
    const kafka = testKafka(env);
    codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
    topics = await prepare(loadRuntimeEnv(env), kafka, codec);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    for (const i of instances) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGTERM');
    const giveUp = () => new Promise((r) => setTimeout(r, 15_000).unref());
    await Promise.all(instances.map((i) => Promise.race([i.exited, giveUp()])));
  });

  function signal(n: number): Signal {
    const account = `SO-${n % ACCOUNTS}`;
    const now = Date.now();
    return {
      signalId: `so-${n}-${randomUUID()}`, source: 'SIGNED', account, strategy: `so-strategy-${n % ACCOUNTS}`, symbol: 'AAPL', intent: 'DELTA',
      side: n % 3 === 0 ? 'SELL' : 'BUY', quantity: 1, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: 190,
      reportedPosition: null, externalOrderId: null, alertTime: now, receivedAt: now, hlc: now * 1000,
    };
  }

  it('given a second instance joining mid-stream and the first killed, then every signal is decided once and every approval has one order', async () => {
    const a = startInstance('a');
    await waitFor('instance a to join the group', async () => a.output.join('').includes('partitions assigned'), 60_000);

    const sent: string[] = [];
    let b: Instance | null = null;
    for (let n = 0; n < SIGNALS; n++) {
      const s = signal(n);
      sent.push(s.signalId);
      await producer.send({ topic: topics.signals, acks: -1, messages: [{ key: s.signalId, value: codec.encode(topics.signals, s), headers: accountHeaders(s.account) }] });
      if (n === SIGNALS / 3) b = startInstance('b');
      if (n === (2 * SIGNALS) / 3) a.child.kill('SIGKILL');
      await sleep(20);
    }
    assert.ok(b !== null);

    const decisions = await waitFor('a decision for every signal', async () => {
      const all = await Promise.all((await readAll(env, topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)));
      const distinct = new Set(all.map((d) => d.signalId));
      return sent.every((id) => distinct.has(id)) ? all : null;
    }, 120_000, 1000);
    // Anything a late or fenced transaction might still add would show up here.
    await sleep(2000);
    const final = await Promise.all((await readAll(env, topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)));
    assert.ok(final.length >= decisions.length);

    const perSignal = new Map<string, number>();
    for (const d of final) perSignal.set(d.signalId, (perSignal.get(d.signalId) ?? 0) + 1);
    const twice = [...perSignal].filter(([, count]) => count !== 1);
    assert.deepEqual(twice, [], 'signals decided more than once');
    assert.equal(perSignal.size, SIGNALS);

    const orders = await Promise.all((await readAll(env, topics.orders)).map((m) => codec.decode('Order', m.value!)));
    const approved = final.filter((d) => d.verdict === 'APPROVED');
    assert.ok(approved.length > 0, 'some signals were approved');
    assert.equal(orders.length, approved.length, 'one order per approved decision');
    assert.deepEqual(new Set(orders.map((o) => o.decisionId)), new Set(approved.map((d) => d.decisionId)));

    const bLog = b.output.join('');
    assert.ok((bLog.match(/partitions assigned/g) ?? []).length >= 2, 'b was assigned partitions again after a was killed');
    assert.equal(await Promise.race([a.exited, sleep(100).then(() => 'running')]), null, 'a died by the signal');
  });
});
