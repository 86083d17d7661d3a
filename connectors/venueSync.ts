// Keeps `executions` in step with what the venue says outside the order loop: push events, polls of
// unfinished orders, and the reconciliation rounds (on start, on a timer, while the push stream is
// silent). Every view of an order goes through the pure diff in reconcile.ts under the runtime's lock,
// so sources that overlap (stream + poll + submit answer) never write a fact twice.
import type { Logger } from 'pino';
import type { ExecutionReport } from '../schemas/types.ts';
import type { OrderLedger } from './ledger.ts';
import { diffAmendment, diffOrder, filledQty, needsPolling, type Diff, type KnownOrder } from './reconcile.ts';
import type { Stamp } from './reports.ts';
import type { VenueClient, VenueEvent, VenueOrderState } from './venue.ts';

export interface VenueSyncDeps {
  client: VenueClient;
  log: Logger;
  clock: () => number;
  stamp: () => Stamp;
  /**
   * The instance's ledger: what `executions` holds per order, the orders it sent (their look-ups belong
   * in every round), and ownership. Several instances of one venue all see its push stream; only the
   * owner of the order's `orders` partition records, so a fact reaches `executions` once.
   */
  ledger: OrderLedger;
  lock<T>(fn: () => Promise<T>): Promise<T>;
  /** Writes reports to `executions` (acks=all) or throws. */
  write(reports: ExecutionReport[]): Promise<void>;
  /** The runtime's guarded venue call (breaker, Retry-After). */
  call<T>(operation: string, fn: () => Promise<T>, probing?: boolean): Promise<T>;
  amendmentWindowMs: number;
  amendmentLookups: number;
  /**
   * Before writing for an order: a wait for `executions` to be read up to now, or null when none is
   * needed. Soon after a handover the previous owner's last write may still have been in flight when
   * this instance read `executions`; what it wrote is then read before the diff is computed again.
   */
  settle?(clientOrderId: string): Promise<void> | null;
}

export function createVenueSync(d_: VenueSyncDeps) {
  const { client, log, clock, stamp, ledger, lock, call } = d_;
  const owns = ledger.owns;
  const parked = new Map<string, VenueEvent[]>(); // events for orders not read yet
  const warnedUnknown = new Set<string>();
  let lastEventAt = clock();
  let amendmentCursor = 0;

  async function applyView(cid: string, compute: (k: KnownOrder) => Diff): Promise<void> {
    await lock(async () => {
      let k = ledger.get(cid);
      if (!k || !owns(cid)) return;
      let d = compute(k);
      let out = ledger.unrecorded(d.reports);
      const settling = out.length > 0 ? d_.settle?.(cid) : null;
      if (settling) {
        await settling;
        k = ledger.get(cid);
        if (!k || !owns(cid)) return;
        d = compute(k);
        out = ledger.unrecorded(d.reports);
      }
      if (out.length > 0) await d_.write(out);
      ledger.recorded(cid, d.next, out);
    });
  }

  async function onVenueEvent(ev: VenueEvent): Promise<void> {
    lastEventAt = clock();
    const cid = ev.kind === 'order' ? ev.order.clientOrderId : ev.clientOrderId;
    if (ledger.has(cid) && !owns(cid)) return; // another instance's order: it records this
    if (!ledger.has(cid)) {
      // A fill can overtake its order (a restart, a slow consumer): kept until the order is read.
      const list = parked.get(cid) ?? [];
      if (parked.size < 10_000 && list.length < 100) parked.set(cid, [...list, ev]);
      return;
    }
    const observedAt = clock();
    if (ev.kind === 'order') return applyView(cid, (k) => diffOrder(k, ev.order, observedAt, stamp()));
    let unknownFill = false;
    const amendment = ev.kind === 'correction'
      ? { kind: ev.kind, tradeId: ev.tradeId, quantity: ev.quantity, price: ev.price, fee: ev.fee, venueTime: ev.venueTime }
      : { kind: ev.kind, tradeId: ev.tradeId, venueTime: ev.venueTime };
    await applyView(cid, (k) => { const d = diffAmendment(k, amendment, stamp()); unknownFill = d.unknownFill; return d; });
    if (unknownFill) await pollOrders([cid]);
  }

  function flushParked(cid: string): void {
    const events = parked.get(cid);
    if (!events) return;
    parked.delete(cid);
    void (async () => { for (const ev of events) await onVenueEvent(ev); })().catch((e) => log.error({ err: e, clientOrderId: cid }, 'parked venue event not recorded'));
  }

  /** `venueIds`: orders to look up by another venue id than the ledger's (an operator's settlement). */
  async function pollOrders(cids: string[], probing = false, venueIds?: ReadonlyMap<string, string>): Promise<void> {
    for (let i = 0; i < cids.length; i += 4) {
      await Promise.all(cids.slice(i, i + 4).map(async (cid) => {
        const observedAt = clock();
        const s = await call('lookup', () => client.lookup(cid, ledger.get(cid)?.ctx.symbol, venueIds?.get(cid) ?? ledger.get(cid)?.venueOrderId), probing);
        if (s) await applyView(cid, (k) => diffOrder(k, s, observedAt, stamp()));
      }));
    }
  }

  /** The venue's open orders and our unfinished ones, compared with `executions`; 'full' also looks for amendments. */
  async function reconcile(kind: 'start' | 'full' | 'poll', probing = false): Promise<void> {
    const observedAt = clock();
    const open = await call('openOrders', () => client.openOrders(), probing);
    for (const s of open) {
      if (ledger.has(s.clientOrderId)) await applyView(s.clientOrderId, (k) => diffOrder(k, s, observedAt, stamp()));
      else if (!warnedUnknown.has(s.clientOrderId)) {
        warnedUnknown.add(s.clientOrderId);
        log.warn({ clientOrderId: s.clientOrderId, venueOrderId: s.venueOrderId }, 'open order at the venue that is not on `orders`; left alone');
      }
    }
    const openIds = new Set(open.map((s) => s.clientOrderId));
    const pending = [...ledger.orders()].filter((k) => needsPolling(k) && owns(k.ctx.clientOrderId)
      && (k.acked || ledger.wasSent(k.ctx.clientOrderId) || kind === 'start')
      && (!openIds.has(k.ctx.clientOrderId) || k.venueFilledQty > filledQty(k) + 1e-9));
    await pollOrders(pending.map((k) => k.ctx.clientOrderId), probing);
    if (kind === 'poll') return;
    const polled = new Set(pending.map((k) => k.ctx.clientOrderId));
    const recent = [...ledger.orders()].filter((k) => k.lastFillAt !== null && owns(k.ctx.clientOrderId) && observedAt - k.lastFillAt < d_.amendmentWindowMs && !polled.has(k.ctx.clientOrderId));
    if (recent.length === 0) return;
    recent.sort((a, b) => (b.lastFillAt ?? 0) - (a.lastFillAt ?? 0));
    const start = amendmentCursor % recent.length;
    const slice = [...recent.slice(start), ...recent.slice(0, start)].slice(0, d_.amendmentLookups);
    amendmentCursor = start + slice.length;
    await pollOrders(slice.map((k) => k.ctx.clientOrderId), probing);
  }

  /** One state of an order recorded as if the venue had reported it (an operator's settlement). */
  const record = (cid: string, state: VenueOrderState): Promise<void> => {
    const observedAt = clock();
    return applyView(cid, (k) => diffOrder(k, state, observedAt, stamp()));
  };

  return { onVenueEvent, flushParked, pollOrders, record, reconcile, lastEventAt: () => lastEventAt };
}
