// What the native-OCO tests share (binanceOco, alpacaOco): topics on the real Kafka and registry, tails of
// `orders`, `executions` and `cancel-requests`, a producer of entries, the brackets processor, and a
// connector runtime for the venue under test (restartable, as a crash would). The venue's fake and its
// client come from the test.
import type { Producer } from 'kafkajs';
import type { VenueClient } from '../../connectors/venue.ts';
import { createConnectorRuntime } from '../../connectors/runtime.ts';
import { createCodec, type RecordName } from '../../schemas/codec.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../../schemas/topics.ts';
import { randomUUID } from 'node:crypto';
import { clientOrderIdFor } from '../../schemas/clientOrderId.ts';
import type { CancelRequest, ExecutionReport, Order } from '../../schemas/types.ts';
import { createBracketsProcessor } from '../../streams/brackets/processor.ts';
import { foldPositions } from '../../streams/positions/fold.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { AccountPartitioner } from '../../streams/runtime/kafka.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { ensureTopics } from '../../streams/runtime/topics.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from './env.ts';

export type BracketsRig = Awaited<ReturnType<typeof startBracketsRig>>;

export async function startBracketsRig(venue: string) {
  const env = isolatedEnv();
  const runtimeEnv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(runtimeEnv.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const log = testLog();
  const orders: Order[] = [];
  const executions: ExecutionReport[] = [];
  const cancels: { request: CancelRequest; offset: string; partition: number }[] = [];
  const topics: Topics = topicNames(env.TOPIC_PREFIX);
  const group = `${env.TOPIC_PREFIX}connector-${venue}`;
  const admin = kafka.admin();
  await admin.connect();
  try { await ensureTopics(admin, topics, runtimeEnv.TOPIC_PARTITIONS); } finally { await admin.disconnect(); }
  for (const k of Object.keys(topics) as TopicKey[]) await codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName);
  const tails: Tail[] = [
    await startTail(kafka, [topics.orders], async (_t, m) => { orders.push(await codec.decode('Order', m.value!)); }),
    await startTail(kafka, [topics.executions], async (_t, m) => { executions.push(await codec.decode('ExecutionReport', m.value!)); }),
    await startTail(kafka, [topics.cancelRequests], async (_t, m, partition) => { cancels.push({ request: await codec.decode('CancelRequest', m.value!), offset: m.offset, partition }); }),
  ];
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
  await producer.connect();
  const brackets = createBracketsProcessor({ kafka, codec, log, hlc, topics, groupId: `${env.TOPIC_PREFIX}brackets`, transactionalIdBase: `${env.TOPIC_PREFIX}brackets` });
  await brackets.start();
  let runtime: ReturnType<typeof createConnectorRuntime> | null = null;

  const reports = (o: Order, type: ExecutionReport['type']) => executions.filter((e) => e.orderId === o.orderId && e.type === type);
  const both = (o: Order, type: ExecutionReport['type'], p: Order) => reports(o, type).length > 0 && reports(p, type).length > 0;
  const exitsOf = (entry: Order) => waitFor('the two exits on orders', async () => {
    const exits = orders.filter((o) => o.parentOrderId === entry.orderId);
    const tp = exits.find((o) => o.exitRole === 'TAKE_PROFIT');
    const sl = exits.find((o) => o.exitRole === 'STOP_LOSS');
    return tp && sl ? { tp, sl } : null;
  }, 30_000, 50);

  return {
    kafka, codec, hlc, log, topics, orders, executions, cancels, group, reports,
    /** Starts (again) the venue's connector runtime on `client`; a running one is stopped first. */
    async startConnector(client: VenueClient): Promise<void> {
      await runtime?.stop();
      runtime = createConnectorRuntime({
        kafka, codec, log, hlc, topics, client, groupId: group, transactionalId: `${group}-0`,
        tickMs: 100, reconcileIntervalMs: 800, submitAttempts: 6, backoffMs: 50, maxBackoffMs: 1_000,
      });
      await runtime.start();
    },
    async send(order: Order): Promise<void> {
      await producer.send({ topic: topics.orders, acks: -1, messages: [{ key: order.orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
    },
    /** An order and cancel requests in one Kafka transaction, as decide writes an `exit`. */
    async sendInOneTransaction(order: Order, requests: readonly CancelRequest[]): Promise<void> {
      const p = kafka.producer({ transactionalId: `${group}-test-${order.orderId}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
      await p.connect();
      try {
        const txn = await p.transaction();
        await txn.send({ topic: topics.orders, messages: [{ key: order.orderId, value: codec.encode(topics.orders, order), headers: accountHeaders(order.account) }] });
        await txn.send({ topic: topics.cancelRequests, messages: requests.map((r) => ({ key: r.orderId, value: codec.encode(topics.cancelRequests, r), headers: accountHeaders(r.account) })) });
        await txn.commit();
      } finally { await p.disconnect(); }
    },
    /** The entry's two exits once they are on `orders`. */
    exitsOf,
    /** The entry's two exits once both are acknowledged by the venue. */
    async ackedExits(entry: Order): Promise<{ tp: Order; sl: Order }> {
      const { tp, sl } = await exitsOf(entry);
      await waitFor('the two exits acknowledged', async () => both(tp, 'ACK', sl), 30_000, 50);
      return { tp, sl };
    },
    /**
     * An entry of 10 AAPL BUY for `venue` with a take-profit and a stop-loss at fixed prices (`over` for
     * the rest), with fresh ids, not sent.
     */
    entry(venue: string, over: Partial<Order> & Pick<Order, 'takeProfit' | 'stopLoss'>): Order {
      const orderId = randomUUID();
      return {
        orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), account: `ACC-${orderId.slice(0, 8)}`, strategy: 'brackets', symbol: 'AAPL', venue,
        side: 'BUY', quantity: 10, orderType: 'LIMIT', limitPrice: 100, timeInForce: 'GTC', stopPrice: null, trailAmount: null, trailPercent: null,
        parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: Date.now(), hlc: hlc.now(), ...over,
      };
    },
    /** The account's AAPL position folded from what `executions` holds. */
    positionOf: (account: string) => [...foldPositions(executions.filter((e) => e.account === account)).values()].find((p) => p.symbol === 'AAPL')?.quantity ?? 0,
    /**
     * As decide writes an `exit` alert: a market sell of the entry's quantity and the cancels of its
     * resting exits, in one Kafka transaction. Returns the sell.
     */
    async exitWithCancels(entry: Order, exits: readonly Order[]): Promise<Order> {
      const orderId = randomUUID();
      const close: Order = {
        ...entry, orderId, clientOrderId: clientOrderIdFor(orderId), signalId: randomUUID(), decisionId: randomUUID(), side: 'SELL', orderType: 'MARKET',
        limitPrice: null, timeInForce: 'IOC', takeProfit: null, stopLoss: null, createdAt: Date.now(), hlc: hlc.now(),
      };
      const requests = exits.map((o): CancelRequest => ({
        requestId: `exit|${orderId}|${o.orderId}`, orderId: o.orderId, clientOrderId: o.clientOrderId, account: o.account, venue: o.venue, symbol: o.symbol,
        source: 'alert', actor: entry.strategy, reason: 'exit', requestedAt: Date.now(), hlc: hlc.now(),
      }));
      await this.sendInOneTransaction(close, requests);
      return close;
    },
    /** The brackets processor's `oco` cancel request for `sibling`, once the connector has read past it. */
    async ocoCancelHandled(sibling: Order): Promise<void> {
      const request = await waitFor('the oco cancel request', async () => cancels.find((c) => c.request.source === 'oco' && c.request.orderId === sibling.orderId), 30_000, 50);
      const a = kafka.admin();
      await a.connect();
      try {
        await waitFor('the connector past the oco cancel request', async () => {
          const [t] = await a.fetchOffsets({ groupId: group, topics: [topics.cancelRequests] });
          const p = t.partitions.find((x) => x.partition === request.partition);
          return p !== undefined && BigInt(p.offset) > BigInt(request.offset);
        }, 30_000, 100);
      } finally { await a.disconnect(); }
    },
    /**
     * After a leg filled in full: the brackets processor asks to cancel `sibling` only if the venue's own
     * cancel of it was not on `executions` first (streams/brackets/core.ts), so the request may never come.
     * Waits `graceMs` for it, and for the connector to read past it if it came.
     */
    async ocoCancelSettled(sibling: Order, graceMs = 1_500): Promise<void> {
      await new Promise((r) => setTimeout(r, graceMs));
      if (cancels.some((c) => c.request.source === 'oco' && c.request.orderId === sibling.orderId)) await this.ocoCancelHandled(sibling);
    },
    async stop(): Promise<void> {
      await brackets.stop();
      await runtime?.stop();
      await producer.disconnect();
      for (const t of tails) await t.stop();
    },
  };
}
