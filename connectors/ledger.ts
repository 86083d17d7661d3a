// What one connector instance knows of its venue's orders, in one place: the fold of `executions` (and
// `orders`) per clientOrderId, the execution ids already on `executions`, the orders this instance has
// sent itself, and which `orders` partition each order is on with the partitions this instance owns.
// The runtime's parts (state tails, order submitter, venue sync, cancels, orders of unknown outcome)
// read and change it only through these methods. No I/O.
import type { ExecutionReport, Order } from '../schemas/types.ts';
import { applyReport, knownFromOrder, type KnownOrder } from './reconcile.ts';

/** What the parts that only read need. */
export interface LedgerView {
  get(clientOrderId: string): KnownOrder | undefined;
  has(clientOrderId: string): boolean;
  /** Whether this instance owns the order's `orders` partition: only the owner records for it. */
  owns(clientOrderId: string): boolean;
}

export type OrderLedger = ReturnType<typeof createOrderLedger>;

export function createOrderLedger() {
  const known = new Map<string, KnownOrder>();
  const byOrderId = new Map<string, string>(); // orderId → clientOrderId, for cancel requests by order id
  const seen = new Set<string>();
  const sent = new Set<string>();
  const partitionOf = new Map<string, number>();
  let owned = new Set<number>();

  const set = (cid: string, k: KnownOrder) => {
    known.set(cid, k);
    if (k.ctx.orderId) byOrderId.set(k.ctx.orderId, cid);
  };

  return {
    get: (cid: string) => known.get(cid),
    has: (cid: string) => known.has(cid),
    get size() { return known.size; },
    /** Every order known, in the order first met. */
    orders: () => known.values(),
    cidOfOrder: (orderId: string) => byOrderId.get(orderId),

    /**
     * An order read from `orders` (the state tail, the order loop, or the submitter meeting it first):
     * its partition when given, and its state. True when it was not known before (venue events parked
     * for it may now be replayed).
     */
    noteOrder(ord: Order, partition?: number): boolean {
      if (partition !== undefined) partitionOf.set(ord.clientOrderId, partition);
      const k = known.get(ord.clientOrderId);
      set(ord.clientOrderId, k ? { ...k, quantity: ord.quantity } : knownFromOrder(ord));
      return k === undefined;
    },
    /** A report read from `executions`: applied once, whoever wrote it. */
    applyRecorded(e: ExecutionReport): void {
      if (seen.has(e.executionId)) return;
      seen.add(e.executionId);
      set(e.clientOrderId, applyReport(known.get(e.clientOrderId), e));
    },
    /** Of these reports, those not on `executions` yet. */
    unrecorded: <R extends { executionId: string }>(reports: readonly R[]): R[] => reports.filter((r) => !seen.has(r.executionId)),
    /** Reports this instance has written (acknowledged), and the order's state after them. */
    recorded(cid: string, next: KnownOrder, reports: readonly { executionId: string }[]): void {
      set(cid, next);
      for (const r of reports) seen.add(r.executionId);
    },

    /** This instance is about to send the order (or an OCO leg): later reads look it up first. */
    markSent(cid: string): void { sent.add(cid); },
    wasSent: (cid: string) => sent.has(cid),

    /** The `orders` partitions assigned to this instance (none during a rebalance or once stopping). */
    own(partitions: readonly number[]): void { owned = new Set(partitions); },
    release(): void { owned = new Set(); },
    owns(cid: string): boolean {
      const p = partitionOf.get(cid);
      return p !== undefined && owned.has(p);
    },
  };
}
