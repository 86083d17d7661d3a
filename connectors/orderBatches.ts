// What the connector does with one batch of its exactly-once loop (streams/runtime/partitionedLoop.ts):
// an `orders` batch is submitted (through the order submitter: look-up before any resend), a
// `cancel-requests` batch is sent as cancels; their reports are written in the batch's transaction and
// become known (executions seen, each order's fold) only once it commits.
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { ExecutionReport } from '../schemas/types.ts';
import type { OutRecord } from '../streams/runtime/consume.ts';
import type { createCancelHandler } from './cancelHandler.ts';
import type { createOrderSubmitter, Staged } from './orderSubmitter.ts';
import { inPool } from './pool.ts';
import type { KnownOrder } from './reconcile.ts';
import { VenueError } from './http.ts';
import { message, sleep, type createVenueGate } from './venueGate.ts';

/** The longest a cancel read with its order waits for the order to be sent first (see `prepare`). */
const CANCEL_WAITS_FOR_ORDER_MS = 10_000;

export interface OrderBatchesDeps {
  venue: string; codec: Codec; log: Logger; clock: () => number;
  topics: { orders: string; cancelRequests: string };
  gate: ReturnType<typeof createVenueGate>;
  submitter: ReturnType<typeof createOrderSubmitter>;
  cancels: ReturnType<typeof createCancelHandler>;
  /** The runtime's fold of `executions` per clientOrderId, what this instance submitted, and the executions written. */
  known: Map<string, KnownOrder>; attempted: ReadonlySet<string>; seen: Set<string>;
  /** Where each order was read from: push events and reconciliation write only for owned partitions. */
  partitionOf: Map<string, number>;
  submitConcurrency: number;
  /** `executions` read up to the last assignment: the first batch of an assignment waits for it. */
  stateCurrent(): Promise<void>;
  /** Test-only drop-fill fault filter. */
  kept(e: ExecutionReport): boolean;
  toRecord(e: ExecutionReport): OutRecord;
}

export function createOrderBatches(d: OrderBatchesDeps) {
  let staged: Staged[] = [];
  return {
    /** One batch of `orders` or of `cancel-requests` (one partition): its venue calls and their reports. */
    async handle(messages: KafkaMessage[], partition: number, topic: string): Promise<OutRecord[]> {
      staged = [];
      await d.stateCurrent();
      const breaker = d.gate.breaker;
      if (breaker.mode === 'OPEN') throw new VenueError('VENUE_HALTED', `${d.venue}: halted (${breaker.reason}); orders wait`, { venue: d.venue, operation: 'submit' });
      let results: Staged[];
      if (topic === d.topics.orders) {
        const orders = (await Promise.all(messages.map((m) => d.codec.decode('Order', m.value!)))).filter((ord) => ord.venue === d.venue);
        for (const ord of orders) d.partitionOf.set(ord.clientOrderId, partition);
        const unique = [...new Map(orders.map((ord) => [ord.clientOrderId, ord])).values()];
        results = await inPool(unique, d.submitConcurrency, d.submitter.handleOrder);
      } else {
        results = await d.cancels.handleAll(await d.cancels.decode(messages), []);
      }
      staged = results;
      return results.flatMap((r) => r.reports.filter((x) => !d.seen.has(x.executionId) && d.kept(x))).map(d.toRecord);
    },

    /**
     * A cancel read with its order (the same fetch, after a restart) waits, holding no lock, until the
     * order has been sent: the loop gives the order's batch its turn meanwhile. Sent first, the cancel
     * of an order the venue does not have yet would be refused and lost.
     */
    async prepare(messages: KafkaMessage[], _partition: number, topic: string): Promise<void> {
      if (topic !== d.topics.cancelRequests) return;
      const cids = (await d.cancels.decode(messages)).map((r) => r.clientOrderId ?? d.cancels.cidOf(r.orderId));
      const unsent = () => cids.some((cid) => {
        const k = cid === undefined ? undefined : d.known.get(cid);
        return k !== undefined && !k.acked && !k.rejected && !k.canceled && !d.attempted.has(cid!);
      });
      for (const until = d.clock() + CANCEL_WAITS_FOR_ORDER_MS; unsent() && d.clock() < until;) await sleep(20);
    },

    /** Committed: the batch's reports are now what `executions` holds. */
    async afterCommit(): Promise<void> {
      for (const r of staged) { d.known.set(r.cid, r.next); for (const x of r.reports) d.seen.add(x.executionId); }
      staged = [];
    },

    async onAbort(e: unknown): Promise<void> {
      staged = [];
      d.log.warn({ err: message(e) }, 'order batch aborted; it will be read again');
    },
  };
}
