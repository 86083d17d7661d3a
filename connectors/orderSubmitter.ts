// The order submitter of a connector runtime: it turns one order read from `orders` into what the venue
// holds for it (a diff against the known state), exactly once whatever fails on the way. A timeout or a
// 5xx is an UNKNOWN outcome, resolved by looking the order up before any resend; an order too old to send,
// or one that breaks the venue's instrument rules, is rejected without leaving. An order still of unknown
// outcome after the attempts (VENUE_OUTCOME_UNKNOWN) comes back `unknown`, to be parked (unknownOutcomes.ts),
// and a parked order is never sent again. The coordinator (runtime.ts) stages the returned diffs and
// applies them once the batch's transaction commits. A venue with native OCO (venueCapabilities.ts)
// gets the two exits of one ocoGroup that share a batch as one request (ocoPairs.ts, `handlePair`).
import type { Logger } from 'pino';
import { clientOrderIdFor } from '../schemas/clientOrderId.ts';
import type { Order } from '../schemas/types.ts';
import { errorCode, isRetriable } from '../schemas/errors.ts';
import type { OrderOutcome } from '../schemas/orderOutcome.ts';
import { faultOn } from '../streams/runtime/faults.ts';
import { VenueError } from './http.ts';
import type { InstrumentBook } from './instrumentRules.ts';
import { afterLookup, pairExits, type OcoPair } from './ocoPairs.ts';
import { inPool } from './pool.ts';
import type { OrderLedger } from './ledger.ts';
import { diffOrder, type Diff, type KnownOrder } from './reconcile.ts';
import type { Stamp } from './reports.ts';
import { unknownOutcome } from './unknownOutcomes.ts';
import type { VenueClient, VenueOrderRequest, VenueOrderState } from './venue.ts';
import { hasNativeOco, hasUnknownOutcomeWindow, type NativeOco, type OcoLegs } from './venueCapabilities.ts';
import { message, sleep, type VenueGate } from './venueGate.ts';

/** One order's outcome, applied to the known state only after its batch commits. */
export type Staged = Diff & { cid: string; unknown?: OrderOutcome };

export interface OrderSubmitterOptions {
  client: VenueClient; gate: VenueGate; log: Logger; clock: () => number; stamp: () => Stamp;
  /** The instance's ledger: what `executions` holds per order, and which orders it sent (a re-read looks up first). */
  ledger: OrderLedger;
  /** An order first known here may release venue events parked while it was unknown. */
  flushParked(cid: string): void;
  /** Recorded as of unknown outcome (on `control`): never sent again. */
  isUnknown(cid: string): boolean;
  /**
   * A venue whose look-up cannot say "absent" for sure: `beforeSend` marks the order on `control` before
   * its first venue call; `sentBefore` says a predecessor did, so a look-up that finds nothing proves nothing.
   */
  beforeSend?(order: Order): Promise<void>;
  sentBefore?(cid: string): boolean;
  /** The venue's instrument rules, when it publishes them. */
  instruments(): InstrumentBook | null;
  /** When this instance last took its partitions: orders created before it may be out already. */
  assignedAt(): number;
  attempts: number; backoffMs: number; maxBackoffMs: number; maxOrderAgeMs?: number;
}

export const requestOf = (order: Order): VenueOrderRequest => ({
  clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity,
  orderType: order.orderType, limitPrice: order.limitPrice, timeInForce: order.timeInForce,
  stopPrice: order.stopPrice, trailAmount: order.trailAmount, trailPercent: order.trailPercent,
  ...(order.exitRole !== null ? { reduceOnly: true } : {}),
});
const legsOf = (p: OcoPair): OcoLegs => ({
  takeProfit: requestOf(p.takeProfit), stopLoss: requestOf(p.stopLoss),
  entryClientOrderId: p.takeProfit.parentOrderId === null ? null : clientOrderIdFor(p.takeProfit.parentOrderId),
});

export function createOrderSubmitter(o: OrderSubmitterOptions) {
  const { client, gate, log, clock, stamp, ledger } = o;
  const call = gate.call;
  // Exponential with jitter, so that instances retrying after one outage do not hit the venue in step;
  // a venue's Retry-After is already enforced in `call`.
  const backoff = (i: number) => {
    const exp = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** i);
    return exp / 2 + Math.random() * (exp / 2);
  };

  /** Resolves an order at the venue exactly once, whatever fails on the way. */
  async function submitSafely(order: Order, lookupFirst: boolean): Promise<VenueOrderState> {
    const req = requestOf(order);
    let lastError: unknown;
    for (let i = 0; i < o.attempts; i++) {
      try {
        // After any failure the outcome may be unknown: the venue may hold the order already.
        if (i > 0 || lookupFirst) {
          const found = await call('lookup', () => client.lookup(order.clientOrderId, order.symbol, ledger.get(order.clientOrderId)?.venueOrderId));
          if (found) return found;
        }
        if (!ledger.wasSent(order.clientOrderId)) await o.beforeSend?.(order);
        ledger.markSent(order.clientOrderId);
        return await call('submit', () => client.submit(req));
      } catch (e) {
        lastError = e;
        if (!isRetriable(e) || gate.isOpen()) throw e;
        log.warn({ clientOrderId: order.clientOrderId, attempt: i + 1, code: errorCode(e) }, 'submit outcome unknown or refused for now; will look up before any resend');
        await sleep(backoff(i));
      }
    }
    throw lastError;
  }

  const rejected = (order: Order, reason: string): VenueOrderState => ({
    clientOrderId: order.clientOrderId, venueOrderId: '', symbol: order.symbol, side: order.side, quantity: order.quantity,
    status: 'REJECTED', filledQty: 0, fills: [], rejectReason: reason, venueTime: clock(),
  });

  async function handleOrder(order: Order): Promise<Staged> {
    const cid = order.clientOrderId;
    const k = knownOf(order);
    // Test-only resend-unknown fault (streams/runtime/faults.ts): an order of unknown outcome is handled as new.
    if (o.isUnknown(cid) && !faultOn('resend-unknown')) return { cid, reports: [], next: k }; // looked up by the timer, never resent
    if (k.acked || k.rejected) return { cid, reports: [], next: k }; // its outcome is recorded already
    const takenOver = !ledger.wasSent(cid) && order.createdAt <= o.assignedAt();
    const lookupFirst = ledger.wasSent(cid) || takenOver;
    // An order the previous owner of this partition may have sent just before we took it: a venue whose
    // look-up is not conclusive for a while after a send (Binance) keeps looking until that has passed.
    if (takenOver && hasUnknownOutcomeWindow(client)) client.mayHaveBeenSent(cid, o.assignedAt());
    const observedAt = clock();
    try {
      // A predecessor marked it SENDING and the venue's look-up cannot say "absent": found, or parked,
      // never sent again (test-only ignore-send-marker fault: the marker is ignored).
      if (takenOver && o.sentBefore?.(cid) && !faultOn('ignore-send-marker')) {
        const found = await call('lookup', () => client.lookup(cid, order.symbol, ledger.get(cid)?.venueOrderId));
        if (found) return { cid, ...diffOrder(k, found, observedAt, stamp()) };
        return { cid, reports: [], next: k, unknown: unknownOutcome(order, { reason: 'SENT_BY_PREDECESSOR' }, observedAt) };
      }
      if (o.maxOrderAgeMs !== undefined && observedAt - order.createdAt > o.maxOrderAgeMs) {
        const found = lookupFirst ? await call('lookup', () => client.lookup(cid, order.symbol, ledger.get(cid)?.venueOrderId)) : null;
        return { cid, ...diffOrder(k, found ?? rejected(order, 'STALE_ORDER'), observedAt, stamp()) };
      }
      // The venue's own rules, before the order leaves (an order that may be out already is looked up instead).
      const breach = lookupFirst ? null : o.instruments()?.refusal(order) ?? null;
      if (breach) return { cid, ...diffOrder(k, rejected(order, breach), observedAt, stamp()) };
      return { cid, ...diffOrder(k, await submitSafely(order, lookupFirst), observedAt, stamp()) };
    } catch (e) {
      // Still unknown after the attempts: parked, so the batch commits; the timer keeps looking it up.
      if (errorCode(e) === 'VENUE_OUTCOME_UNKNOWN') return { cid, reports: [], next: k, unknown: unknownOutcome(order, e, observedAt) };
      if (isRetriable(e)) throw e; // venue unreachable: abort; the order is re-read once it answers
      const venueCode = e instanceof VenueError && e.venueCode ? `:${e.venueCode}` : '';
      log.warn({ clientOrderId: cid, code: errorCode(e), err: message(e) }, 'order refused by the venue');
      return { cid, ...diffOrder(k, rejected(order, `${errorCode(e)}${venueCode}`), observedAt, stamp()) };
    }
  }

  /** The order as known (first seen here: from the order itself). */
  const knownOf = (order: Order): KnownOrder => {
    if (ledger.noteOrder(order)) o.flushParked(order.clientOrderId);
    return ledger.get(order.clientOrderId)!;
  };

  /**
   * The two exits of one ocoGroup as ONE native OCO request, exactly once. Legs that are not both new
   * (an outcome recorded, parked as unknown, too old, against the venue's rules) go one by one as before.
   * After any failure, or when the pair may be out already, BOTH legs are looked up by their own ids
   * before anything is sent; one leg found and the other not never leads to a second OCO (afterLookup).
   * A conclusive refusal of the pair (the venue holds neither leg) sends the legs one by one.
   */
  async function handlePair(p: OcoPair): Promise<Staged[]> {
    const legs = [p.takeProfit, p.stopLoss];
    const ks = legs.map(knownOf);
    const observedAt = clock();
    const single = () => stopLossFirst(p);
    const fresh = legs.every((l, i) => !o.isUnknown(l.clientOrderId) && !ks[i].acked && !ks[i].rejected
      && (o.maxOrderAgeMs === undefined || observedAt - l.createdAt <= o.maxOrderAgeMs));
    const lookupFirst = legs.some((l) => ledger.wasSent(l.clientOrderId) || l.createdAt <= o.assignedAt());
    if (!fresh || !hasNativeOco(client) || (!lookupFirst && legs.some((l) => o.instruments()?.refusal(l)))) return single();
    // As in handleOrder: a leg the previous owner of this partition may have sent just before we took it.
    for (const l of legs) {
      if (!ledger.wasSent(l.clientOrderId) && l.createdAt <= o.assignedAt() && hasUnknownOutcomeWindow(client)) client.mayHaveBeenSent(l.clientOrderId, o.assignedAt());
    }
    const staged = (states: (VenueOrderState | null)[]): Staged[] => legs.map((l, i) => ({ cid: l.clientOrderId, ...diffOrder(ks[i], states[i]!, observedAt, stamp()) }));
    let lastError: unknown;
    for (let i = 0; i < o.attempts; i++) {
      try {
        if (i > 0 || lookupFirst) {
          const found = await lookupPair(client, p);
          const next = afterLookup(found[0] !== null, found[1] !== null);
          if (next.kind === 'found') return staged(found);
          if (next.kind === 'split') {
            const at = next.missing === 'TAKE_PROFIT' ? 0 : 1;
            log.warn({ ocoGroup: p.ocoGroup, missing: legs[at].clientOrderId }, 'one leg of an OCO pair is at the venue, the other is not: the missing leg goes alone, the pair is pipeline-managed');
            const other = at === 0 ? 1 : 0;
            return [{ cid: legs[other].clientOrderId, ...diffOrder(ks[other], found[other]!, observedAt, stamp()) }, await handleOrder(legs[at])];
          }
        }
        for (const l of legs) ledger.markSent(l.clientOrderId);
        const r = await call('submitOco', () => client.submitOco(legsOf(p)));
        return staged([r.takeProfit, r.stopLoss]);
      } catch (e) {
        lastError = e;
        if (!isRetriable(e) || gate.isOpen()) break;
        log.warn({ ocoGroup: p.ocoGroup, attempt: i + 1, code: errorCode(e) }, 'OCO outcome unknown or refused for now; both legs are looked up before any resend');
        await sleep(backoff(i));
      }
    }
    const e = lastError;
    if (errorCode(e) === 'VENUE_OUTCOME_UNKNOWN') return legs.map((l, i) => ({ cid: l.clientOrderId, reports: [], next: ks[i], unknown: unknownOutcome(l, e, observedAt) }));
    if (isRetriable(e)) throw e; // venue unreachable: abort; the pair is re-read (and looked up) once it answers
    log.warn({ ocoGroup: p.ocoGroup, code: errorCode(e), err: message(e) }, 'native OCO refused; the legs go one by one (pipeline-managed OCO)');
    return single();
  }

  /** Both legs at the venue, as a pair where the venue can only find them so (lookupOco), else each by its id. */
  async function lookupPair(c: VenueClient & NativeOco, p: OcoPair): Promise<(VenueOrderState | null)[]> {
    if (c.lookupOco !== undefined) {
      const r = await call('lookupOco', () => c.lookupOco!(legsOf(p)));
      return [r.takeProfit, r.stopLoss];
    }
    return Promise.all([p.takeProfit, p.stopLoss].map((l) => call('lookup', () => c.lookup(l.clientOrderId, l.symbol, ledger.get(l.clientOrderId)?.venueOrderId))));
  }

  /** A pair as two orders, the stop-loss answered before the take-profit is sent (ocoPairs.ts says why). */
  async function stopLossFirst(p: OcoPair): Promise<Staged[]> {
    const stop = await handleOrder(p.stopLoss);
    return [await handleOrder(p.takeProfit), stop];
  }

  /** One batch's orders: exit pairs as native OCO where the venue has it, else stop-loss first; the rest one by one. */
  async function handleBatch(orders: readonly Order[], concurrency: number): Promise<Staged[]> {
    const native = hasNativeOco(client) ? client : null;
    const units = pairExits(orders, (p) => native !== null && native.ocoSupported(legsOf(p)));
    const out = await inPool(units, concurrency, async (u) => {
      switch (u.kind) {
        case 'pair': return handlePair(u.pair);
        case 'legs': return stopLossFirst(u.pair);
        case 'single': return [await handleOrder(u.order)];
        default: {
          const never: never = u;
          throw new Error(`unhandled batch unit ${JSON.stringify(never)}`);
        }
      }
    });
    return out.flat();
  }

  return { handleOrder, handlePair, handleBatch };
}
