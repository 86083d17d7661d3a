// Two decide instances sharing the signals partitions, as separate processes (`order-router start
// --only decide`, INSTANCE_ID a and b). Each scenario runs on its own topics: signals flow the whole
// time, and every signal must end up decided exactly once, with exactly one order per approval.
//  - rebalance: the second instance starts mid-stream, then the first is killed with SIGKILL;
//  - zombie: one instance is frozen (SIGSTOP) past its session timeout, its partitions move to the
//    other, then it is thawed (SIGCONT) and carries on with whatever it held: it must be fenced.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Producer } from 'kafkajs';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Signal } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import type { Topics } from '../../schemas/topics.ts';
import { isolatedEnv, readAll, testKafka, waitFor } from '../helpers/env.ts';
import { teeToTestLog } from '../helpers/testLogs.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ACCOUNTS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance { child: ChildProcess; output: string[]; exited: Promise<number | null>; joins(): number; assigned(): number[] }

const instances: Instance[] = [];
const producers: Producer[] = [];
after(async () => {
  await Promise.all(producers.map((p) => p.disconnect()));
  for (const i of instances) {
    if (i.child.exitCode !== null || i.child.signalCode !== null) continue;
    i.child.kill('SIGCONT');
    i.child.kill('SIGTERM');
  }
  const giveUp = () => new Promise((r) => setTimeout(r, 15_000).unref());
  await Promise.all(instances.map((i) => Promise.race([i.exited, giveUp()])));
});

async function setup() {
  const env = isolatedEnv({ LOG_LEVEL: 'info' });
  const kafka = testKafka(env);
  const codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
  const topics = await prepare(loadRuntimeEnv(env), kafka, codec);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  await producer.connect();
  producers.push(producer);
  const sent: string[] = [];
  let n = 0;

  function start(id: string): Instance {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'start', '--only', 'decide'], {
      cwd: root, env: { ...env, INSTANCE_ID: id }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    teeToTestLog(child, `decide ${id}`);
    const output: string[] = [];
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const joinLines = () => output.join('').split('\n').filter((l) => l.includes('"partitions assigned"'));
    /** The partitions of this instance's latest assignment, from its log. */
    const assigned = (): number[] => {
      const last = joinLines().at(-1);
      return last ? (JSON.parse(last) as { partitions: number[] }).partitions : [];
    };
    const instance = { child, output, exited, joins: () => joinLines().length, assigned };
    instances.push(instance);
    return instance;
  }

  /** One signal every `gapMs`, across ACCOUNTS accounts and strategies, for `count` signals. */
  async function send(count: number, gapMs: number, at?: (i: number) => void): Promise<void> {
    for (let i = 0; i < count; i++, n++) {
      const now = Date.now();
      const s: Signal = {
        signalId: `so-${n}-${randomUUID()}`, source: 'SIGNED', account: `SO-${n % ACCOUNTS}`, strategy: `so-strategy-${n % ACCOUNTS}`, symbol: 'AAPL',
        intent: 'DELTA', side: n % 3 === 0 ? 'SELL' : 'BUY', quantity: 1, targetPosition: null, orderType: 'MARKET', limitPrice: null, price: 190,
        reportedPosition: null, externalOrderId: null, alertTime: now, receivedAt: now, hlc: now * 1000, extras: null, stopPrice: null, trailAmount: null, trailPercent: null, timeInForce: null, sizing: null, takeProfit: null, stopLoss: null,
      };
      sent.push(s.signalId);
      await producer.send({ topic: topics.signals, acks: -1, messages: [{ key: s.signalId, value: codec.encode(topics.signals, s), headers: accountHeaders(s.account) }] });
      at?.(i);
      await sleep(gapMs);
    }
  }

  // The instances' own logs are in this file's test log (printed when a test fails).
  const assertExactlyOnce = () => assertDecidedOnce(env, topics, codec, sent);

  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicMetadata({ topics: [topics.signals] })).topics[0]!.partitions.length;
  await admin.disconnect();
  return { start, send, assertExactlyOnce, partitions };
}

async function assertDecidedOnce(env: NodeJS.ProcessEnv, topics: Topics, codec: Codec, sent: string[]): Promise<void> {
  const decisionsNow = async () => Promise.all((await readAll(env, topics.riskDecisions)).map((m) => codec.decode('RiskDecision', m.value!)));
  await waitFor('a decision for every signal', async () => {
    const distinct = new Set((await decisionsNow()).map((d) => d.signalId));
    return sent.every((id) => distinct.has(id));
  }, 120_000, 1000);
  // Anything a late or fenced transaction might still add would show up by now.
  await sleep(2000);
  const decisions = await decisionsNow();
  const perSignal = new Map<string, number>();
  for (const d of decisions) perSignal.set(d.signalId, (perSignal.get(d.signalId) ?? 0) + 1);
  assert.deepEqual([...perSignal].filter(([, count]) => count !== 1), [], 'signals decided more than once');
  assert.equal(perSignal.size, sent.length);

  const orders = await Promise.all((await readAll(env, topics.orders)).map((m) => codec.decode('Order', m.value!)));
  const approved = decisions.filter((d) => d.verdict === 'APPROVED');
  assert.ok(approved.length > 0, 'some signals were approved');
  assert.equal(orders.length, approved.length, 'one order per approved decision');
  assert.deepEqual(new Set(orders.map((o) => o.decisionId)), new Set(approved.map((d) => d.decisionId)));
}

describe('decide scale-out', () => {
  it('given a second instance joining mid-stream and the first killed, then every signal is decided once and every approval has one order', async () => {
    const { start, send, assertExactlyOnce } = await setup();
    const a = start('a');
    await waitFor('instance a to join the group', async () => a.joins() > 0, 60_000);
    let b: Instance | null = null;
    let killed = false;
    let bJoinsAtKill = 0;
    await send(600, 20, (i) => {
      if (i === 200) b = start('b');
      // a is killed once b holds partitions of its own (starting a process takes a few seconds).
      if (i >= 400 && !killed && b !== null && (b as Instance).assigned().length > 0) {
        bJoinsAtKill = (b as Instance).joins();
        a.child.kill('SIGKILL');
        killed = true;
      }
    });
    assert.ok(killed, 'b joined the group while signals were flowing');
    await assertExactlyOnce();
    assert.ok((b as unknown as Instance).joins() > bJoinsAtKill, 'b was assigned partitions again after a was killed');
    assert.equal(await Promise.race([a.exited, sleep(100).then(() => 'running')]), null, 'a died by the signal');
  });

  it('given an instance frozen past its session and thawed after its partitions moved, then it is fenced and decides nothing twice', async () => {
    const { start, send, assertExactlyOnce, partitions } = await setup();
    const a = start('a');
    const b = start('b');
    // Both started together: they may join in one generation or in two. The group is settled once
    // each holds some partitions and the two assignments split the topic between them.
    await waitFor('both instances in the group', async () => {
      const [pa, pb] = [a.assigned(), b.assigned()];
      return pa.length > 0 && pb.length > 0 && !pa.some((p) => pb.includes(p)) && pa.length + pb.length === partitions;
    }, 60_000);
    await send(100, 20);
    a.child.kill('SIGSTOP');
    const syncs = () => b.output.join('').split('state current for the assigned partitions').length - 1;
    const bJoins = b.joins();
    const bSyncs = syncs();
    // Signals keep coming while a is frozen; b takes a's partitions once a's session (15 s) expires,
    // and a is thawed only after that, so it resumes as a zombie.
    let thawed = false;
    await send(900, 25, () => {
      if (!thawed && b.joins() > bJoins && syncs() > bSyncs) {
        a.child.kill('SIGCONT');
        thawed = true;
      }
    });
    assert.ok(thawed, 'b took over while a was frozen');
    await send(100, 20);
    await assertExactlyOnce();
  });
});
