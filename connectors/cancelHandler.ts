// The connector's side of a cancel: a CancelRequest read from `cancel-requests` inside the order loop's
// transaction becomes a venue cancel, and the venue's answer goes through the same pure diff as every
// other view of the order (reconcile.ts), so its CANCEL report is written once, with the request's
// offset, and a push of the same cancel finds it recorded already.
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { CancelRequest } from '../schemas/types.ts';
import { errorCode, isRetriable } from '../schemas/errors.ts';
import { faultOn } from '../streams/runtime/faults.ts';
import type { OrderLedger } from './ledger.ts';
import { inPool } from './pool.ts';
import { diffOrder, filledQty, type Diff, type KnownOrder } from './reconcile.ts';
import type { Stamp } from './reports.ts';
import type { VenueClient, VenueOrderState } from './venue.ts';
import { hasNativeOco } from './venueCapabilities.ts';

/** Why a cancel request changed nothing: a stable code and a sentence. */
export type CancelRefusalCode = 'UNKNOWN_ORDER' | 'ORDER_NOT_OPEN' | 'NOT_ACKNOWLEDGED' | 'VENUE_REFUSED' | 'VENUE_MANAGED';
export interface CancelRefusal { code: CancelRefusalCode; message: string }

/** Whether a known order can be canceled now (pure); null when it can. */
export function cancelRefusal(k: KnownOrder | undefined, orderId: string): CancelRefusal | null {
  if (k === undefined) return { code: 'UNKNOWN_ORDER', message: `no order ${orderId} on this venue` };
  if (k.rejected) return { code: 'ORDER_NOT_OPEN', message: `order ${orderId} was rejected` };
  if (k.canceled) return { code: 'ORDER_NOT_OPEN', message: `order ${orderId} is canceled already` };
  const cum = filledQty(k);
  if (k.quantity > 0 && cum >= k.quantity - 1e-9) return { code: 'ORDER_NOT_OPEN', message: `order ${orderId} is filled` };
  if (!k.acked) return { code: 'NOT_ACKNOWLEDGED', message: `order ${orderId} has no acknowledgement from the venue yet; ask again once it rests` };
  return null;
}

export interface CancelHandlerDeps {
  client: VenueClient;
  codec: Codec;
  log: Logger;
  clock: () => number;
  stamp: () => Stamp;
  /** The runtime's guarded venue call (breaker, Retry-After). */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  /** What `executions` holds per order (the runtime's ledger). */
  ledger: Pick<OrderLedger, 'get' | 'cidOfOrder'>;
  /**
   * How long a batch's new orders wait for cancels the venue accepted and has not done yet (Alpaca's
   * `pending_cancel`: the order still holds what it closes). Default 2 s; past it the orders go anyway.
   */
  pendingCancelWaitMs?: number;
}

/** The handler's answer: reports to write with the request's offset, or a refusal that writes nothing. */
export type CancelOutcome =
  | { kind: 'reports'; cid: string; diff: Diff; status: VenueOrderState['status'] }
  | { kind: 'refused'; refusal: CancelRefusal };

export function createCancelHandler(d: CancelHandlerDeps) {
  const venue = d.client.venue;

  /**
   * `current(cid)` is what `executions` holds plus what this transaction adds so far; `cidOf` finds an
   * order's client order id from its order id. A retriable venue failure is thrown: the batch aborts and
   * the request is read again (a second venue cancel of the same order is harmless).
   */
  async function handle(req: CancelRequest, current: (cid: string) => KnownOrder | undefined, cidOf: (orderId: string) => string | undefined): Promise<CancelOutcome> {
    const cid = req.clientOrderId ?? cidOf(req.orderId);
    const k = cid === undefined ? undefined : current(cid);
    const refusal = cancelRefusal(k?.ctx.orderId === req.orderId ? k : undefined, req.orderId);
    if (refusal !== null || cid === undefined || k === undefined) return { kind: 'refused', refusal: refusal ?? { code: 'UNKNOWN_ORDER', message: `no order ${req.orderId} on ${venue}` } };
    const symbol = req.symbol ?? k.ctx.symbol;
    const observedAt = d.clock();
    // The pipeline's own one-cancels-other for a leg the venue holds in a native pair: the venue
    // resolves the pair itself (Alpaca shrinks the stop to what a partly filled take-profit leaves, and
    // a cancel of either leg would cancel both), so the request changes nothing.
    if (req.source === 'oco' && hasNativeOco(d.client)) {
      const held = await d.call('lookup', () => d.client.lookup(cid, symbol, k.venueOrderId));
      if (held?.nativeOco === true) return { kind: 'refused', refusal: { code: 'VENUE_MANAGED', message: `${venue} holds ${req.orderId} in a native OCO pair and resolves it itself` } };
    }
    let state: VenueOrderState | null;
    let venueRefusal: CancelRefusal | null = null;
    try {
      state = await d.call('cancel', () => d.client.cancel(cid, symbol, k.venueOrderId));
    } catch (e) {
      if (isRetriable(e)) throw e;
      // The venue would not cancel (filled meanwhile, unknown to it, ...): what the order became is
      // read and recorded, and the request answered with the venue's reason.
      venueRefusal = { code: 'VENUE_REFUSED', message: `${venue} refused the cancel of ${req.orderId}: ${errorCode(e)}` };
      state = await d.call('lookup', () => d.client.lookup(cid, symbol, k.venueOrderId));
    }
    if (state === null) return { kind: 'refused', refusal: venueRefusal ?? { code: 'UNKNOWN_ORDER', message: `${venue} has no order ${cid}` } };
    return { kind: 'reports', cid, diff: diffOrder(k, state, observedAt, d.stamp()), status: state.status };
  }

  /** Logs the outcome of one request: a refusal names its reason; nothing is written for it. */
  function report(req: CancelRequest, out: CancelOutcome): void {
    const who = { requestId: req.requestId, orderId: req.orderId, source: req.source, actor: req.actor };
    if (out.kind === 'refused') d.log.warn({ ...who, code: out.refusal.code }, `cancel refused: ${out.refusal.message}`);
    else if (out.status === 'CANCELED' || out.status === 'EXPIRED') d.log.info({ ...who, status: out.status }, 'order canceled');
    // Some venues answer "pending cancel" (IBKR): their push or the next poll records the CANCEL, once.
    else if (out.status === 'NEW' || out.status === 'PARTIALLY_FILLED') d.log.info({ ...who, status: out.status }, 'cancel sent; the venue has not confirmed it yet');
    else d.log.warn({ ...who, code: 'ORDER_NOT_OPEN', status: out.status }, `cancel refused: the venue says the order is ${out.status}`);
  }

  const cidOf = (orderId: string): string | undefined => d.ledger.cidOfOrder(orderId);

  /**
   * The requests of one transaction, after its orders (`staged`: their diffs): those of one order one
   * after the other, in order, different orders `concurrency` at a time (a scope cancel of hundreds of
   * orders must fit in the transaction's timeout). What each adds (`{cid, reports, next}`) is staged.
   */
  async function handleAll(reqs: readonly CancelRequest[], staged: readonly ({ cid: string } & Diff)[], concurrency = 16, stillOpen?: Set<string>): Promise<({ cid: string } & Diff)[]> {
    const latest = new Map(staged.map((r) => [r.cid, r.next]));
    const byOrder = new Map<string, CancelRequest[]>();
    for (const req of reqs) byOrder.set(req.orderId, [...(byOrder.get(req.orderId) ?? []), req]);
    const groups = await inPool([...byOrder.values()], concurrency, async (group) => {
      const out: ({ cid: string } & Diff)[] = [];
      for (const req of group) {
        const r = await handle(req, (cid) => latest.get(cid) ?? d.ledger.get(cid), cidOf);
        report(req, r);
        if (r.kind === 'reports') {
          latest.set(r.cid, r.diff.next);
          out.push({ cid: r.cid, ...r.diff });
          if (r.status === 'NEW' || r.status === 'PARTIALLY_FILLED') stillOpen?.add(r.cid); else stillOpen?.delete(r.cid);
        }
      }
      return out;
    });
    const out = groups.flat();
    return faultOn('double-cancel') ? [...out, ...out] : out; // test-only fault: every cancel written twice
  }

  /**
   * A batch's orders (`submit`) and cancel requests, in the order the venue needs: cancels of orders
   * already at the venue first (an order of the batch may need what they hold: an `exit` sells the shares
   * its bracket's resting exits hold, which Alpaca refuses beyond what open orders leave and Binance keeps
   * `locked`), then the orders, then the cancels of the batch's own orders, which see their ACKs.
   */
  async function aroundOrders<S extends { cid: string } & Diff>(reqs: readonly CancelRequest[], orderIds: ReadonlySet<string>, submit: () => Promise<S[]>): Promise<({ cid: string } & Diff)[]> {
    const pending = new Set<string>();
    const first = await handleAll(reqs.filter((r) => !orderIds.has(r.orderId)), [], 16, pending);
    if (pending.size > 0 && orderIds.size > 0) await untilDone(pending);
    const results: ({ cid: string } & Diff)[] = await submit();
    return [...results, ...first, ...await handleAll(reqs.filter((r) => orderIds.has(r.orderId)), results)];
  }

  /**
   * Waits (bounded) until the venue says the orders whose cancel it accepted are done; what it then says
   * reaches `executions` through the venue's own reports, as for any cancel answered "pending".
   */
  async function untilDone(cids: Set<string>): Promise<void> {
    const deadline = d.clock() + (d.pendingCancelWaitMs ?? 2_000);
    while (cids.size > 0 && d.clock() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      for (const cid of [...cids]) {
        const k = d.ledger.get(cid);
        const s = await d.call('lookup', () => d.client.lookup(cid, k?.ctx.symbol, k?.venueOrderId)).catch(() => null);
        if (s !== null && s.status !== 'NEW' && s.status !== 'PARTIALLY_FILLED') cids.delete(cid);
      }
    }
    if (cids.size > 0) d.log.warn({ orders: [...cids] }, 'cancels still pending at the venue; the batch\'s orders go anyway');
  }

  /** This venue's requests of a batch; one that cannot be decoded is logged and skipped, never a stuck loop. */
  async function decode(messages: readonly { value: Buffer | null; offset: string }[]): Promise<CancelRequest[]> {
    const out: CancelRequest[] = [];
    for (const m of messages) {
      try {
        if (m.value === null) throw new Error('empty record');
        const r = await d.codec.decode('CancelRequest', m.value);
        if (r.venue === venue) out.push(r);
      } catch (e) {
        if (isRetriable(e)) throw e;
        d.log.error({ offset: m.offset, err: e instanceof Error ? e.message : String(e) }, 'cancel request not readable; skipped');
      }
    }
    return out;
  }

  return { handle, report, handleAll, aroundOrders, decode };
}
