// The strategy API on the real stack (Kafka, schema registry, Postgres, the projection): a strategy's
// stream carries its own decisions, orders, executions (with the projection's position) and the quotes
// it asked for; the edge is stopped mid-stream, more is produced, and the SDK reconnects with resumeFrom:
// the records received equal, in order, those the topics hold for it, none missing, none twice (and the
// same comparison fails with ORDER_ROUTER_FAULT=stream-resume-gap). A client that stops reading is cut
// off with SLOW_CLIENT while the server's buffer stays at its limit. REST reads the projection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { createEdgeApp } from '../../edge/app.ts';
import { loadEdgeConfig } from '../../edge/config.ts';
import { connect, createClient, type At } from '../../edge/sdk/index.ts';
import { createStrategyApi, type StrategyApi } from '../../edge/stream/index.ts';
import { helloFrame } from '../../edge/stream/protocol.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { ExecutionReport, Order, Quote, RiskDecision } from '../../schemas/types.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createProjection } from '../../streams/projection/processor.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import { createPool, migrate, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { parseFaults } from '../../streams/runtime/faults.ts';
import type { Topics } from '../../schemas/topics.ts';
import { isolatedEnv, testKafka, testLog, waitFor, TEST_SECRET } from '../helpers/env.ts';

const LIMIT = 64 * 1024;
const env = isolatedEnv({ STREAM_MAX_BUFFERED_BYTES: String(LIMIT), STREAM_SLOW_CLIENT_MS: '1500', STREAM_POSITION_WAIT_MS: '5000', STREAM_HELLO_TIMEOUT_MS: '1000', STREAM_MAX_PER_STRATEGY: '2' });
const renv = loadRuntimeEnv(env);
const kafka = testKafka(env);
const codec = createCodec(renv.SCHEMA_REGISTRY_URL);
const projectionGroup = `${env.TOPIC_PREFIX}order-router-projection`;
let topics: Topics;
let pool: Pool;
let producer: Producer;
let projection: ReturnType<typeof createProjection>;
let port: number;
let seq = 0;

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

async function startEdge(resumeGap = false, registry?: Registry): Promise<{ app: FastifyInstance; api: StrategyApi }> {
  const api = createStrategyApi({ kafka, codec, pool, topics, log: testLog(), env, projectionGroup, resumeGap, registry });
  const app = createEdgeApp({
    config: loadEdgeConfig(env), log: testLog(), clock: Date.now, hlc: () => Date.now() * 1000, accept: async () => ({ duplicate: false }), ready: () => true, strategyApi: api,
  });
  await app.listen({ port, host: '127.0.0.1' });
  return { app, api };
}

// A signal's records as decide and a connector would write them: decision → order → ACK → FILL.
function chain(strategy: string, account: string, symbol: string): { decision: RiskDecision; order: Order; execs: ExecutionReport[] } {
  const n = ++seq, id = `${strategy}-${n}`, now = Date.now();
  const decision: RiskDecision = {
    decisionId: `d-${id}`, signalId: `s-${id}`, account, strategy, symbol, verdict: 'APPROVED', reason: null, detail: null, orderId: `o-${id}`, venue: 'paper',
    side: 'BUY', quantity: 1, positionBefore: 0, candidates: [], alertTime: null, signalHlc: now * 1000, decidedAt: now, hlc: now * 1000,
  };
  const order: Order = {
    orderId: `o-${id}`, clientOrderId: `c-${id}`, signalId: `s-${id}`, decisionId: `d-${id}`, account, strategy, symbol, venue: 'paper', side: 'BUY', quantity: 1,
    orderType: 'MARKET', limitPrice: null, stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce: 'IOC', signalPrice: null, arrivalMid: 100, createdAt: now, hlc: now * 1000,
  };
  const exec = (type: ExecutionReport['type'], over: Partial<ExecutionReport>): ExecutionReport => ({
    executionId: `${type}-${id}`, type, orderId: order.orderId, clientOrderId: order.clientOrderId, venueOrderId: `v-${id}`, venueTradeId: null, signalId: order.signalId,
    account, strategy, symbol, venue: 'paper', side: 'BUY', lastQty: 0, lastPrice: 0, cumQty: 0, leavesQty: 1, fee: 0, feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null,
    venueTime: now, recordedAt: now, hlc: now * 1000 + 1, ...over,
  });
  return { decision, order, execs: [exec('ACK', {}), exec('FILL', { lastQty: 1, lastPrice: 100 + n, cumQty: 1, leavesQty: 0, fee: 0.5, venueTradeId: `t-${id}` })] };
}

/** `n` signals for each of two strategies, plus quotes of AAPL and MSFT; records spread over partitions, executions kept per account. */
async function produce(n: number): Promise<void> {
  const p = renv.TOPIC_PARTITIONS;
  const out: Record<string, { partition: number; key: string; value: Buffer }[]> = {};
  const push = (topic: string, partition: number, key: string, value: Buffer) => (out[topic] ??= []).push({ partition, key, value });
  for (let i = 0; i < n; i++) {
    for (const [strategy, account, part] of [['trend-1', 'ACC-1', 1], ['meanrev-2', 'ACC-2', 2]] as const) {
      const c = chain(strategy, account, 'AAPL');
      push(topics.riskDecisions, seq % p, c.decision.signalId, codec.encode(topics.riskDecisions, c.decision));
      push(topics.orders, (seq + 1) % p, c.order.orderId, codec.encode(topics.orders, c.order));
      for (const e of c.execs) push(topics.executions, part % p, e.orderId, codec.encode(topics.executions, e));
    }
    for (const symbol of ['AAPL', 'MSFT']) {
      const q: Quote = { venue: 'paper', symbol, bid: 100 + i, ask: 100.1 + i, bidSize: 1, askSize: 1, venueTime: Date.now(), hlc: Date.now() * 1000 };
      push(topics.quotes, i % p, `paper|${symbol}`, codec.encode(topics.quotes, q));
    }
  }
  await producer.sendBatch({ acks: -1, topicMessages: Object.entries(out).map(([topic, messages]) => ({ topic, messages })) });
}

const key = (a: At) => `${a.topic}:${a.partition}:${a.offset}`;

/** What the topics hold for trend-1 (and AAPL quotes) after `from`, per topic-partition in offset order. */
async function expected(from: Record<string, Record<string, string>>): Promise<string[]> {
  const keys: string[] = [];
  await readToEnd(kafka, [topics.riskDecisions, topics.orders, topics.executions, topics.quotes], async (topic, m, partition) => {
    if (m.value === null || BigInt(m.offset) <= BigInt(from[topic]?.[String(partition)] ?? '-1')) return;
    const r = topic === topics.quotes ? await codec.decode('Quote', m.value) : topic === topics.riskDecisions ? await codec.decode('RiskDecision', m.value)
      : topic === topics.orders ? await codec.decode('Order', m.value) : await codec.decode('ExecutionReport', m.value);
    if ('strategy' in r ? r.strategy === 'trend-1' : r.symbol === 'AAPL') keys.push(key({ topic, partition, offset: m.offset }));
  });
  return keys;
}

const byPartition = (keys: string[]) => {
  const m = new Map<string, string[]>();
  for (const k of keys) { const tp = k.slice(0, k.lastIndexOf(':')); m.set(tp, [...(m.get(tp) ?? []), k]); }
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
};

const FIRST = 40, SECOND = 10;

/**
 * Connect, receive part of a burst, then drop the connection (the client's socket cut, the edge stopped),
 * produce more, start the edge again: what the SDK received against what the topics hold.
 */
async function interrupted(resumeGap: boolean): Promise<{ got: string[]; want: string[]; positions: number }> {
  let edge = await startEdge();
  const got: string[] = [];
  let positions = 0, readies = 0;
  const client = connect({ url: `http://127.0.0.1:${port}`, strategy: 'trend-1', secret: TEST_SECRET, symbols: ['AAPL'], backoffMs: { min: 100, max: 500 } });
  let firstFrom: Record<string, Record<string, string>> | null = null;
  client.on('ready', (r) => { firstFrom ??= r.from; readies++; });
  for (const ev of ['decision', 'order', 'execution', 'quote'] as const) client.on(ev, (_v: unknown, at: At) => { got.push(key(at)); });
  client.on('position', () => { positions++; });
  await waitFor('the first ready', async () => firstFrom);
  let stopping: Promise<void> | null = null;
  client.on('execution', () => {
    if (got.length < 12 || stopping !== null) return;
    // What was in flight is lost with the socket: the resume must bring it back.
    client['ws']?.terminate();
    stopping = edge.app.close();
  });
  await produce(FIRST);
  await waitFor('the connection dropped mid-stream', async () => stopping !== null);
  await stopping;
  const before = got.length;
  assert.ok(before < (await expected(firstFrom!)).length, `dropped before everything was received (${before})`);
  await produce(SECOND);
  edge = await startEdge(resumeGap);
  const want = await expected(firstFrom!);
  await waitFor('the stream resumed', async () => readies >= 2 && got.length > before);
  // Until nothing more comes for a second.
  for (let last = -1; last !== got.length;) { last = got.length; await new Promise((r) => setTimeout(r, 1000)); }
  client.close();
  await edge.app.close();
  return { got, want, positions };
}

describe('strategy stream and REST on the real stack', () => {
  before(async () => {
    await migrate(renv);
    topics = await prepare(renv, kafka, codec);
    pool = createPool(renv);
    producer = kafka.producer();
    await producer.connect();
    projection = createProjection({ kafka, pool, codec, log: testLog(), topic: topics.executions, groupId: projectionGroup });
    await projection.start();
    port = await freePort();
  });
  after(async () => {
    await projection.stop();
    await producer.disconnect();
    await pool.end();
  });

  it('given the edge stopped mid-stream and more produced meanwhile, then after the SDK resumes it has every record of its own exactly once, in order', async () => {
    const { got, want, positions } = await interrupted(false);
    assert.deepEqual(byPartition(got), byPartition(want));
    assert.equal(got.length, want.length);
    // Each of trend-1's fills came with the position the projection booked for it.
    assert.equal(positions, FIRST + SECOND);
  });

  it('given ORDER_ROUTER_FAULT=stream-resume-gap, then the same comparison finds records missing', async () => {
    const gap = parseFaults({ ORDER_ROUTER_FAULT: 'stream-resume-gap' }).has('stream-resume-gap');
    const { got, want } = await interrupted(gap);
    const missing = want.filter((k) => !got.includes(k));
    assert.ok(missing.length > 0, 'the fault must show as a gap');
    assert.notDeepEqual(byPartition(got), byPartition(want));
  });

  it('given a wrong secret, no hello, a bad resumeFrom or one stream too many, then each is closed with its code and no detail', async () => {
    const registry = new Registry();
    const { app } = await startEdge(false, registry);
    const opened: WebSocket[] = [];
    const closeOf = async (frame: string | null): Promise<[number, string]> => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`);
      opened.push(ws);
      const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
      await new Promise((r) => ws.once('open', r));
      if (frame !== null) ws.send(frame);
      return Promise.race([closed, new Promise<[number, string]>((r) => setTimeout(() => r([0, 'still open']), 3000))]);
    };
    try {
      assert.deepEqual(await closeOf(helloFrame('not-the-secret-0123456789', Date.now(), { type: 'subscribe', strategy: 'trend-1' })), [4001, 'UNAUTHORIZED']);
      assert.deepEqual(await closeOf(helloFrame(TEST_SECRET, Date.now() - 600_000, { type: 'subscribe', strategy: 'trend-1' })), [4001, 'UNAUTHORIZED']);
      assert.deepEqual(await closeOf(null), [4001, 'UNAUTHORIZED']);
      // Larger than any hello: refused by the socket itself (1009), and the edge carries on.
      assert.equal((await closeOf('x'.repeat(70_000)))[0], 1009);
      assert.deepEqual(
        await closeOf(helloFrame(TEST_SECRET, Date.now(), { type: 'subscribe', strategy: 'trend-1', resumeFrom: { [topics.orders]: { 0: '999999999' } } })),
        [4002, `BAD_REQUEST resumeFrom.${topics.orders}.0`]);
      const ok = helloFrame(TEST_SECRET, Date.now(), { type: 'subscribe', strategy: 'trend-1' });
      assert.deepEqual(await Promise.all([closeOf(ok), closeOf(ok)]), [[0, 'still open'], [0, 'still open']]);
      assert.deepEqual(await closeOf(ok), [4029, 'TOO_MANY_STREAMS']);
      const metrics = await registry.metrics();
      assert.match(metrics, /strategy_stream_closes_total\{reason="UNAUTHORIZED"\} 3/);
      assert.match(metrics, /strategy_stream_closes_total\{reason="BAD_REQUEST"\} 1/);
      assert.match(metrics, /strategy_stream_closes_total\{reason="TOO_MANY_STREAMS"\} 1/);
      assert.match(metrics, /strategy_streams 2/);
    } finally {
      for (const ws of opened) ws.terminate();
      await app.close();
    }
  });

  it('given a client that never reads, then it is closed with SLOW_CLIENT and the server holds no more than its limit for it', async () => {
    const { app, api } = await startEdge();
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`);
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
      let received = 0;
      ws.on('message', () => { received++; });
      ws.send(helloFrame(TEST_SECRET, Date.now(), { type: 'subscribe', strategy: 'trend-1', symbols: ['AAPL'] }));
      await waitFor('the session', async () => api.sessions().length === 1);
      // Stop reading the socket: what the server sends piles up in the kernel, then in the server.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // Until the server's buffer for it reaches the limit (the kernel's socket buffers fill first).
      let peak = 0, produced = 0;
      while (peak <= LIMIT && produced < 400_000) {
        await producer.send({
          topic: topics.quotes, acks: -1,
          messages: Array.from({ length: 5000 }, (_, j) => ({
            partition: j % renv.TOPIC_PARTITIONS, key: 'paper|AAPL',
            value: codec.encode(topics.quotes, { venue: 'paper', symbol: 'AAPL', bid: j, ask: j + 1, bidSize: 1, askSize: 1, venueTime: null, hlc: 0 } satisfies Quote),
          })),
        });
        produced += 5000;
        await new Promise((r) => setTimeout(r, 200));
        peak = Math.max(peak, ...api.sessions().map((s) => s.maxBuffered));
      }
      await waitFor('the slow client cut off', async () => api.sessions().length === 0, 20_000);
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const [code, reason] = await closed;
      assert.deepEqual([code, reason], [4008, 'SLOW_CLIENT']);
      assert.ok(peak > LIMIT, `the buffer reached its limit (${peak})`);
      assert.ok(peak <= LIMIT + 4096, `the buffer stayed at its limit plus one message (${peak})`);
      assert.ok(received < produced, `the server stopped reading for it (${received} of ${produced})`);
    } finally {
      await app.close();
    }
  });

  it('given signed REST calls, then positions, open orders and one order with its trail come from the projection; another strategy\'s order is 404', async () => {
    const { app } = await startEdge();
    try {
      const url = `http://127.0.0.1:${port}`;
      const mine = createClient({ url, strategy: 'trend-1', secret: TEST_SECRET });
      const pos = await waitFor('positions', async () => { const p = await mine.positions(); return p.positions.length > 0 && p; });
      assert.equal(pos.account, 'ACC-1');
      assert.ok(pos.positions.every((p) => p.account === 'ACC-1'));
      const { rows } = await pool.query(`SELECT quantity FROM positions WHERE account_id = 'ACC-1'`);
      assert.deepEqual(pos.positions.map((p) => p.quantity), rows.map((r) => Number(r.quantity)));
      const all = await mine.orders({ status: 'all' });
      assert.ok(all.orders.length > 0 && all.orders.every((o) => o.strategy === 'trend-1' && o.status === 'FILLED'));
      assert.deepEqual((await mine.orders({ status: 'open' })).orders, []);
      const one = await mine.order(all.orders[0].orderId);
      assert.equal(one.order.orderId, all.orders[0].orderId);
      assert.ok(JSON.stringify(one.trail).includes(all.orders[0].signalId));
      const theirs = (await createClient({ url, strategy: 'meanrev-2', secret: TEST_SECRET }).orders()).orders[0];
      await assert.rejects(mine.order(theirs.orderId), { status: 404, code: 'NOT_FOUND' });
      await assert.rejects(mine.order('no-such-order'), { status: 404, code: 'NOT_FOUND' });
    } finally {
      await app.close();
    }
  });
});
