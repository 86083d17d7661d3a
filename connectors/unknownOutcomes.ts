// The orders of unknown outcome of a connector runtime. When an order is still VENUE_OUTCOME_UNKNOWN
// after the submitter's attempts (the venue may hold it, and its look-up cannot say "absent" for sure),
// it is parked: an ORDER_OUTCOME `UNKNOWN` record goes to `control` in the same transaction as the
// order's offset, so the batch commits and the partition goes on. A parked order is never sent again,
// by this process or by a successor (the set is rebuilt from `control` before the order loop starts).
// The timer's rounds look parked orders up; once the venue lists one, its ACK / FILL / REJECT reach
// `executions` through the venue sync, and a `RESOLVED` record clears it. It does not feed the breaker:
// the venue answered (venueGate.ts).
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import { foldOutcome, listUnknown, orderOutcomePrefix, outcomeControl, type OrderOutcome, type UnknownOrders } from '../schemas/orderOutcome.ts';
import type { Control, Order } from '../schemas/types.ts';
import { controlMessage, controlRecord } from '../streams/control/publisher.ts';
import type { OutRecord } from '../streams/runtime/consume.ts';
import { connectorActor } from './breaker.ts';
import { filledQty, type KnownOrder } from './reconcile.ts';
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
    resolution: null, resolvedAt: null,
  };
}

export interface UnknownOutcomesOptions {
  venue: string; producer: Producer; codec: Codec; topic: string; log: Logger; clock: () => number; hlc: () => number;
  /** The runtime's fold of `executions`, by clientOrderId. */
  known: ReadonlyMap<string, KnownOrder>;
  /** Whether this instance owns the order's `orders` partition: only the owner looks up and resolves. */
  owns(clientOrderId: string): boolean;
  /** Looks orders up at the venue and records what it says on `executions` (the venue sync's poll). */
  lookUp(clientOrderIds: string[]): Promise<void>;
}

export type UnknownOutcomes = ReturnType<typeof createUnknownOutcomes>;

export function createUnknownOutcomes(o: UnknownOutcomesOptions) {
  let parked: UnknownOrders = new Map();
  const prefix = orderOutcomePrefix(o.venue);
  const entry = (cid: string) => parked.get(`${o.venue}|${cid}`);
  const control = (u: OrderOutcome): Control => outcomeControl(u, { controlId: randomUUID(), actor: connectorActor(o.venue), at: o.clock(), hlc: o.hlc() });

  return {
    /** A record key of this venue's ORDER_OUTCOME records (for the runtime's control tail). */
    owned: (key: string) => key.startsWith(prefix),
    /** A record read from `control`. */
    observe(c: Control): void { parked = foldOutcome(parked, c); },
    isParked: (cid: string) => entry(cid) !== undefined,
    /** The UNKNOWN record of an order, for the batch's transaction. */
    record: (u: OrderOutcome): OutRecord => controlRecord(o.codec, o.topic, control(u)),
    /** The batch that carried the record committed. */
    parked(u: OrderOutcome): void {
      o.log.error({ clientOrderId: u.clientOrderId, since: u.since, reason: u.reason }, 'order outcome unknown: recorded as UNKNOWN on control, never resent, looked up until the venue lists it');
      parked = foldOutcome(parked, control(u));
    },
    list: (): OrderOutcome[] => listUnknown(parked),
    /** One round: owned parked orders are looked up; those `executions` now settles are cleared. */
    async round(): Promise<void> {
      const mine = [...parked.values()].filter((u) => u.venue === o.venue && o.owns(u.clientOrderId) && o.known.has(u.clientOrderId));
      const open = mine.filter((u) => resolutionOf(o.known.get(u.clientOrderId)) === null).map((u) => u.clientOrderId);
      if (open.length > 0) await o.lookUp(open).catch((e) => o.log.warn({ err: message(e), orders: open.length }, 'orders of unknown outcome not looked up; next round'));
      for (const u of mine) {
        const resolution = resolutionOf(o.known.get(u.clientOrderId));
        if (resolution === null) continue;
        const done: OrderOutcome = { ...u, status: 'RESOLVED', resolution, resolvedAt: o.clock() };
        const c = control(done);
        await o.producer.send({ topic: o.topic, acks: -1, messages: [controlMessage(o.codec, o.topic, c)] });
        parked = foldOutcome(parked, c);
        o.log.info({ clientOrderId: u.clientOrderId, resolution }, 'order of unknown outcome resolved by the venue');
      }
    },
  };
}
