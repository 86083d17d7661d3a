// A connector stopped (SIGTERM, a rolling deploy) while one of its look-ups is still out at the venue:
// the order it looks up filled meanwhile, and the instance that takes its partitions looks the same
// order up. Both answers arrive together; the fill must reach `executions` once. The stopping instance
// stops recording for its partitions before it leaves the group, so only the new owner writes.
// Seen red: the same scenario in a child process with ORDER_ROUTER_FAULT=late-release (the stopping
// instance leaves the group first) writes the fill twice; the last test runs it and expects that.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createPaperClient } from '../../connectors/paper/client.ts';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import type { VenueClient } from '../../connectors/venue.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import { createHlc } from '../../schemas/hlc.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { ExecutionReport, Order } from '../../schemas/types.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from '../helpers/env.ts';

// Set only when this file runs itself as the fault's child.
const EXPECT_DOUBLE = process.env.HANDOVER_EXPECT_DOUBLE === '1';

/**
 * The paper venue seen as a venue that answers a submit with its acceptance only and has no push
 * stream: fills are learned by looking the order up. Look-ups wait while `held` until released.
 */
function lookUpOnly(inner: VenueClient) {
  const waiting: (() => void)[] = [];
  let held = true;
  const client: VenueClient = {
    venue: inner.venue,
    connect: () => inner.connect(),
    disconnect: () => inner.disconnect(),
    async submit(r) { const s = await inner.submit(r); return { ...s, status: 'NEW', filledQty: 0, fills: [] }; },
    cancel: (cid, symbol) => inner.cancel(cid, symbol),
    async lookup(cid, symbol) {
      if (held) await new Promise<void>((resolve) => waiting.push(resolve));
      return inner.lookup(cid, symbol);
    },
    openOrders: () => inner.openOrders(),
    onEvent: () => () => {},
    health: () => inner.health(),
  };
  return { client, waiting: () => waiting.length, release() { held = false; for (const r of waiting.splice(0)) r(); } };
}

describe('a connector handover with a look-up in flight', () => {
  const env = isolatedEnv();
  const kafka = testKafka(env);
  const hlc = createHlc();
  const groupId = `${env.TOPIC_PREFIX}connector-paper`;
  const executions: ExecutionReport[] = [];
  let venue: ReturnType<typeof createPaperVenueServer>;
  let url: string;
  let codec: Codec;
  let topics: Topics;
  let producer: Producer;
  let tail: Tail;
  const runtimes: ReturnType<typeof createConnectorRuntime>[] = [];
  const instance = (i: number, client: VenueClient) => {
    const rt = createConnectorRuntime({
      kafka, codec, log: testLog().child({ instance: i }), hlc, topics, groupId, transactionalId: `${groupId}-${i}`,
      client, tickMs: 100, reconcileIntervalMs: 200, streamSilentMs: 3_600_000,
    });
    runtimes.push(rt);
    return rt;
  };

  before(async () => {
    venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 5, tickMs: 0 }), log: testLog() });
    url = await venue.start(0, '127.0.0.1');
    const runtimeEnv = loadRuntimeEnv(env);
    codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
    topics = await prepare(runtimeEnv, kafka, codec);
    tail = await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
    await producer.connect();
  });
  const clients: ReturnType<typeof lookUpOnly>[] = [];
  after(async () => {
    for (const c of clients) c.release();
    for (const r of runtimes) await r.stop().catch(() => {});
    await producer?.disconnect();
    await tail?.stop();
    await venue?.stop();
  });

  it(EXPECT_DOUBLE ? 'with the fault on, writes the fill twice' : 'writes the fill once: the stopping instance has stopped recording before the next owner reads', { timeout: 90_000 }, async () => {
    const paper = () => createPaperClient({ baseUrl: url, venue: 'paper', timeoutMs: 2000, log: testLog() });
    const a = lookUpOnly(paper());
    clients.push(a);
    const first = instance(0, a.client);
    await first.start();
    // Assigned before the order exists: an order older than the assignment would be looked up before
    // it is sent (it may be a predecessor's), and look-ups are held here.
    const admin = kafka.admin();
    await admin.connect();
    await waitFor('the first instance assigned', async () => {
      const g = (await admin.describeGroups([groupId])).groups[0];
      return g.state === 'Stable' && g.members.length === 1;
    });
    await admin.disconnect();

    const orderId = `ord-${randomUUID()}`;
    const order: Order = {
      orderId, clientOrderId: `c${orderId.slice(4, 20)}`, signalId: `sig-${orderId}`, decisionId: `dec-${orderId}`, account: 'ACC-1', strategy: 's',
      symbol: 'AAPL', venue: 'paper', side: 'BUY', quantity: 1, orderType: 'MARKET', limitPrice: null, stopPrice: null, trailAmount: null, trailPercent: null,
      takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, timeInForce: 'DAY', signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(),
    };
    await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    const ofType = (type: string) => executions.filter((e) => e.orderId === orderId && e.type === type);
    await waitFor('the ACK', async () => ofType('ACK').length > 0);
    // The venue filled the market order; the first instance's reconciliation is out looking it up.
    await waitFor('a look-up in flight at the first instance', async () => a.waiting() > 0);

    const stopping = first.stop();
    const b = lookUpOnly(paper());
    clients.push(b);
    await instance(1, b.client).start();
    await waitFor('the second instance, owner now, looking the order up', async () => b.waiting() > 0);
    a.release();
    b.release();
    await stopping;
    await waitFor('the fill', async () => ofType('FILL').length > 0);
    await new Promise((r) => setTimeout(r, 1_500)); // a second write would have landed by now
    assert.equal(ofType('FILL').length, EXPECT_DOUBLE ? 2 : 1, `fills of ${order.clientOrderId} on executions`);
  });

  it('has been seen failing: with ORDER_ROUTER_FAULT=late-release the same scenario writes the fill twice', { skip: EXPECT_DOUBLE ? 'this is the fault run' : false, timeout: 120_000 }, async () => {
    const self = fileURLToPath(import.meta.url);
    const env: NodeJS.ProcessEnv = { ...process.env, ORDER_ROUTER_FAULT: 'late-release', HANDOVER_EXPECT_DOUBLE: '1' };
    delete env.NODE_TEST_CONTEXT; // a test run of its own, not a file of this one
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', self], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `the fault run should see the fill twice:\n${out.slice(-3000)}`);
  });
});
