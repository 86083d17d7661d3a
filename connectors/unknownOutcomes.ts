// The orders of unknown outcome of a connector runtime. When an order is still VENUE_OUTCOME_UNKNOWN
// after the submitter's attempts (the venue may hold it, and its look-up cannot say "absent" for sure),
// it is parked: an ORDER_OUTCOME `UNKNOWN` record goes to `control` in the same transaction as the
// order's offset, so the batch commits and the partition goes on. A parked order is never sent again,
// by this process or by a successor (the set is rebuilt from `control` before the order loop starts).
// The timer's rounds look parked orders up; once the venue lists one, its ACK / FILL / REJECT reach
// `executions` through the venue sync, and a `RESOLVED` record clears it. It does not feed the breaker:
// the venue answered (venueGate.ts).
// For a venue whose look-up cannot say "absent" for sure (MT5), an order is first marked `SENDING` on
// `control`, acknowledged before the venue call: a successor that meets the order again, finds the marker
// and not the order, parks it (the previous owner may have sent it just before it died). Once the order's
// outcome is on `executions`, the marker is deleted with a tombstone.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import { foldOutcome, listUnknown, orderOutcomeKey, orderOutcomePrefix, outcomeControl, parseOutcome, type OrderOutcome, type UnknownOrders } from '../schemas/orderOutcome.ts';
import type { Control, Order } from '../schemas/types.ts';
import { controlMessage, controlRecord } from '../streams/control/publisher.ts';
import { accountHeaders, type OutRecord } from '../streams/runtime/consume.ts';
import { connectorActor } from './breaker.ts';
import type { LedgerView } from './ledger.ts';
import { filledQty, type KnownOrder } from './reconcile.ts';
import type { VenueOrderState } from './venue.ts';
import { message } from './venueGate.ts';

/** What the venue said in the end, once `executions` holds it; null while the outcome is still unknown. Pure. */
export function resolutionOf(k: KnownOrder | undefined): string | null {
  if (!k) return null;
  if (k.rejected) return 'REJECTED';
  if (k.canceled) return 'CANCELED';
  if (!k.acked) return null;
  return k.quantity > 0 && filledQty(k) >= k.quantity - 1e-9 ? 'FILLED' : 'ACKED';
}

/** The UNKNOWN outcome of an order, from the error that left it so (Mt5OutcomeUnknown carries `since` and `reason`). Pure. */
export function unknownOutcome(order: Order, err: unknown, now: number): OrderOutcome {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { since?: unknown; reason?: unknown; code?: unknown; message?: unknown };
  return {
    status: 'UNKNOWN', clientOrderId: order.clientOrderId, orderId: order.orderId, venue: order.venue, symbol: order.symbol, side: order.side,
    quantity: order.quantity, account: order.account, strategy: order.strategy,
    since: typeof e.since === 'number' ? e.since : now,
    reason: typeof e.reason === 'string' ? e.reason : typeof e.code === 'string' ? e.code : 'VENUE_OUTCOME_UNKNOWN',
    resolution: null, resolvedAt: null, settle: null, settledBy: null, settleReason: null,
  };
}

/** The outcome a record carries, or null (another kind, or one that does not parse). Pure. */
function outcomeOf(c: Control): OrderOutcome | null {
  if (c.kind !== 'ORDER_OUTCOME') return null;
  try { return parseOutcome(c); } catch { return null; }
}

export interface UnknownOutcomesOptions {
  venue: string; producer: Producer; codec: Codec; topic: string; log: Logger; clock: () => number; hlc: () => number;
  /** The runtime's ledger: what `executions` holds per order; only the owner of its partition looks up and resolves. */
  ledger: LedgerView;
  /**
   * Looks orders up at the venue and records what it says on `executions` (the venue sync's poll);
   * `venueIds`: an order to look up by the venue id an operator gave (a settlement), not the ledger's.
   */
  lookUp(clientOrderIds: string[], venueIds?: ReadonlyMap<string, string>): Promise<void>;
  /** Records a venue state of an order on `executions` as a view of the venue would (an operator's settlement). */
  record(clientOrderId: string, state: VenueOrderState): Promise<void>;
}

export type UnknownOutcomes = ReturnType<typeof createUnknownOutcomes>;

export function createUnknownOutcomes(o: UnknownOutcomesOptions) {
  let parked: UnknownOrders = new Map();
  const sending = new Set<string>(); // clientOrderIds whose latest record is a SENDING marker
  const prefix = orderOutcomePrefix(o.venue);
  const entry = (cid: string) => parked.get(`${o.venue}|${cid}`);
  const control = (u: OrderOutcome): Control => outcomeControl(u, { controlId: randomUUID(), actor: connectorActor(o.venue), at: o.clock(), hlc: o.hlc() });

  return {
    /** A record key of this venue's ORDER_OUTCOME records (for the runtime's control tail). */
    owned: (key: string) => key.startsWith(prefix),
    /** A record read from `control`. */
    observe(c: Control): void {
      parked = foldOutcome(parked, c);
      const u = outcomeOf(c);
      // An UNKNOWN or RESOLVED record under the same key replaced the marker.
      if (u?.status === 'SENDING') sending.add(u.clientOrderId);
      else if (u !== null) sending.delete(u.clientOrderId);
    },
    /** A tombstone read from `control`: that order's marker is gone. */
    forget(key: string): void { if (key.startsWith(prefix)) sending.delete(key.slice(prefix.length)); },
    /** Whether an order was marked SENDING (by this instance or a predecessor). */
    sentBefore: (cid: string) => sending.has(cid),
    /** Marks an order SENDING on `control`, acknowledged before the venue call (a failure means no send). */
    async markSending(order: Order): Promise<void> {
      const u: OrderOutcome = { ...unknownOutcome(order, { reason: 'SENDING' }, o.clock()), status: 'SENDING' };
      await o.producer.send({ topic: o.topic, acks: -1, messages: [controlMessage(o.codec, o.topic, control(u))] });
      sending.add(u.clientOrderId);
    },
    isParked: (cid: string) => entry(cid) !== undefined,
    /** The UNKNOWN record of an order, for the batch's transaction. */
    record: (u: OrderOutcome): OutRecord => controlRecord(o.codec, o.topic, control(u)),
    /** The batch that carried the record committed. */
    parked(u: OrderOutcome): void {
      o.log.error({ clientOrderId: u.clientOrderId, since: u.since, reason: u.reason }, 'order outcome unknown: recorded as UNKNOWN on control, never resent, looked up until the venue lists it');
      parked = foldOutcome(parked, control(u));
      sending.delete(u.clientOrderId); // its UNKNOWN record replaced the marker
    },
    list: (): OrderOutcome[] => listUnknown(parked),
    /**
     * One round: owned parked orders are looked up (a settled one by the venue id its operator gave, or
     * recorded as REJECTED when the operator says it never traded); those `executions` now settles are cleared.
     */
    async round(): Promise<void> {
      const mine = [...parked.values()].filter((u) => u.venue === o.venue && o.ledger.owns(u.clientOrderId) && o.ledger.has(u.clientOrderId));
      const open = mine.filter((u) => resolutionOf(o.ledger.get(u.clientOrderId)) === null);
      for (const u of open) {
        if (u.status !== 'SETTLE' || u.settle === null || !('notTraded' in u.settle)) continue;
        const why = `SETTLED_BY_OPERATOR: ${u.settledBy ?? 'unknown'}: ${u.settleReason ?? ''}`.slice(0, 300);
        await o.record(u.clientOrderId, {
          clientOrderId: u.clientOrderId, venueOrderId: '', symbol: u.symbol, side: u.side, quantity: u.quantity,
          status: 'REJECTED', filledQty: 0, fills: [], rejectReason: why, venueTime: o.clock(),
        }).catch((e) => o.log.warn({ err: message(e), clientOrderId: u.clientOrderId }, 'settlement not recorded; next round'));
      }
      const venueIds = new Map(open.flatMap((u) => (u.status === 'SETTLE' && u.settle !== null && 'venueOrderId' in u.settle ? [[u.clientOrderId, u.settle.venueOrderId] as const] : [])));
      const lookups = open.filter((u) => !(u.settle !== null && 'notTraded' in u.settle)).map((u) => u.clientOrderId);
      if (lookups.length > 0) await o.lookUp(lookups, venueIds).catch((e) => o.log.warn({ err: message(e), orders: lookups.length }, 'orders of unknown outcome not looked up; next round'));
      for (const u of mine) {
        const resolution = resolutionOf(o.ledger.get(u.clientOrderId));
        if (resolution === null) continue;
        const done: OrderOutcome = { ...u, status: 'RESOLVED', resolution, resolvedAt: o.clock() };
        const c = control(done);
        await o.producer.send({ topic: o.topic, acks: -1, messages: [controlMessage(o.codec, o.topic, c)] });
        parked = foldOutcome(parked, c);
        o.log.info({ clientOrderId: u.clientOrderId, resolution }, 'order of unknown outcome resolved by the venue');
      }
      // Markers of orders whose outcome `executions` now holds are no longer needed: a tombstone deletes them.
      for (const cid of sending) {
        if (!o.ledger.owns(cid) || resolutionOf(o.ledger.get(cid)) === null) continue;
        await o.producer.send({ topic: o.topic, acks: -1, messages: [{ key: orderOutcomeKey(o.venue, cid), value: null, headers: accountHeaders(o.venue) }] });
        sending.delete(cid);
      }
    },
  };
}
