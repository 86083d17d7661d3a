// The shared runtime around every venue: consumes `orders` for its venue, submits safely (a timeout or
// a 5xx is an UNKNOWN outcome resolved by looking the order up, never by sending blindly again), and
// writes the outcome to `executions` in the same Kafka transaction as the consumer offset.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { ExecutionReport, Order } from '../schemas/types.ts';
import { createMutex, createTransactionalLoop, readToEnd, accountHeaders, type OutRecord } from '../streams/runtime/consume.ts';
import { AccountPartitioner } from '../streams/runtime/kafka.ts';
import { isRetriable } from '../streams/runtime/errors.ts';
import type { Hlc } from '../streams/runtime/hlc.ts';
import type { Topics } from '../streams/runtime/topics.ts';
import { contextOf, reportFromAmendment, reportsFromState, type OrderContext } from './reports.ts';
import type { VenueClient, VenueEvent, VenueOrderRequest, VenueOrderState } from './venue.ts';

export interface ConnectorOptions {
  kafka: Kafka; codec: Codec; log: Logger; hlc: Hlc; topics: Topics; client: VenueClient;
  groupId: string; transactionalId: string; clock?: () => number;
  submitAttempts?: number; backoffMs?: number; quoteSymbols?: string[]; quoteIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createConnectorRuntime(o: ConnectorOptions) {
  const venue = o.client.venue;
  const clock = o.clock ?? Date.now;
  const attempts = o.submitAttempts ?? 5;
  const backoff = o.backoffMs ?? 100;
  const log = o.log.child({ venue });
  // Execution ids already on `executions`: the venue's repeats (stream + poll + retry) are dropped here.
  const seen = new Set<string>();
  const contexts = new Map<string, OrderContext>(); // by clientOrderId, for events pushed by the venue
  const lock = createMutex();
  let unsubscribe: (() => void) | null = null;
  let quoteTimer: NodeJS.Timeout | null = null;
  const sideProducer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });

  const stamp = () => ({ recordedAt: clock(), hlc: () => o.hlc.now() });
  const toRecord = (e: ExecutionReport): OutRecord => ({ topic: o.topics.executions, key: e.orderId, value: o.codec.encode(o.topics.executions, e), account: e.account });

  /** Resolves an order at the venue exactly once, whatever fails on the way. */
  async function submitSafely(order: Order): Promise<VenueOrderState> {
    const req: VenueOrderRequest = {
      clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity,
      orderType: order.orderType, limitPrice: order.limitPrice, timeInForce: order.timeInForce,
    };
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        // After a failure whose outcome is unknown, look first: the venue may have the order already.
        if (i > 0) {
          const found = await o.client.lookup(order.clientOrderId);
          if (found) return found;
        }
        return await o.client.submit(req);
      } catch (e) {
        lastError = e;
        if (!isRetriable(e)) throw e;
        log.warn({ clientOrderId: order.clientOrderId, attempt: i + 1, code: (e as { code?: string }).code }, 'submit outcome unknown; will look up');
        await sleep(backoff * 2 ** i * (0.5 + Math.random() / 2));
      }
    }
    throw lastError;
  }

  function fresh(reports: ExecutionReport[]): ExecutionReport[] {
    return reports.filter((r) => !seen.has(r.executionId));
  }

  const loop = createTransactionalLoop({
    kafka: o.kafka, log, groupId: o.groupId, transactionalId: o.transactionalId, topic: o.topics.orders,
    serialize: lock,
    async handle(messages) {
      const out: ExecutionReport[] = [];
      const orders = await Promise.all(messages.map((m) => o.codec.decode('Order', m.value!)));
      await Promise.all(orders.filter((ord) => ord.venue === venue).map(async (order) => {
        const ctx = contextOf(order);
        contexts.set(order.clientOrderId, ctx);
        let reports: ExecutionReport[];
        try {
          reports = reportsFromState(ctx, await submitSafely(order), stamp());
        } catch (e) {
          if (isRetriable(e)) throw e; // venue unreachable: abort, the order is re-read and retried
          const reason = (e as { code?: string }).code ?? 'VENUE_REJECTED';
          reports = reportsFromState(ctx, {
            clientOrderId: order.clientOrderId, venueOrderId: '', symbol: order.symbol, side: order.side, quantity: order.quantity,
            status: 'REJECTED', filledQty: 0, fills: [], rejectReason: reason, venueTime: clock(),
          }, stamp());
        }
        out.push(...fresh(reports));
      }));
      pending = out;
      return out.map(toRecord);
    },
    onCommitted() { for (const r of pending) seen.add(r.executionId); pending = []; },
    async onAbort() { pending = []; },
  });
  let pending: ExecutionReport[] = [];

  async function onVenueEvent(ev: VenueEvent): Promise<void> {
    const cid = ev.kind === 'order' ? ev.order.clientOrderId : ev.clientOrderId;
    const ctx = contexts.get(cid);
    if (!ctx) return; // not ours yet: the order loop will report it from the submit answer
    const reports = ev.kind === 'order' ? reportsFromState(ctx, ev.order, stamp()) : [reportFromAmendment(ctx, ev, stamp())];
    await lock(async () => {
      const out = fresh(reports);
      if (out.length === 0) return;
      await sideProducer.send({ topic: o.topics.executions, acks: -1, messages: out.map((r) => {
        const rec = toRecord(r);
        return { key: rec.key, value: rec.value, headers: accountHeaders(rec.account) };
      }) });
      for (const r of out) seen.add(r.executionId);
    });
  }

  async function publishQuotes(): Promise<void> {
    if (!o.client.quotes || !o.quoteSymbols?.length) return;
    const quotes = await o.client.quotes(o.quoteSymbols);
    await sideProducer.send({ topic: o.topics.quotes, messages: quotes.map((q) => ({
      key: `${venue}|${q.symbol}`, headers: accountHeaders(`${venue}|${q.symbol}`),
      value: o.codec.encode(o.topics.quotes, { venue, symbol: q.symbol, bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize, venueTime: q.venueTime, hlc: o.hlc.now() }),
    })) });
  }

  return {
    async start() {
      // What `executions` already holds for this venue: never written twice.
      await readToEnd(o.kafka, [o.topics.executions], async (_t, m) => {
        const e = await o.codec.decode('ExecutionReport', m.value!);
        if (e.venue !== venue) return;
        seen.add(e.executionId);
        if (!contexts.has(e.clientOrderId)) contexts.set(e.clientOrderId, contextOf(e));
      });
      await o.client.connect();
      await sideProducer.connect();
      unsubscribe = o.client.onEvent((ev) => { onVenueEvent(ev).catch((e) => log.error({ err: e }, 'venue event not recorded')); });
      await loop.start();
      if (o.quoteSymbols?.length) {
        quoteTimer = setInterval(() => { publishQuotes().catch((e) => log.warn({ err: e }, 'quotes not published')); }, o.quoteIntervalMs ?? 500);
      }
      log.info({ known: seen.size }, 'connector started');
    },
    async stop() {
      if (quoteTimer) clearInterval(quoteTimer);
      unsubscribe?.();
      await loop.stop();
      await lock(async () => {});
      await sideProducer.disconnect();
      await o.client.disconnect();
    },
  };
}
