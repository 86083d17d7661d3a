// Pure core of the connector runtime: what `executions` holds for each order (a fold over its reports)
// and the reports that a venue's view of the order adds to it. Every path that learns something from a
// venue (submit answer, push event, poll, start-up reconciliation) goes through `diffOrder`, so they can
// overlap freely: a fact already recorded yields nothing, a fact the venue changed yields an amendment.
import type { ExecutionReport, Order } from '../schemas/types.ts';
import {
  ackReport, cancelReport, contextOf, fillReport, rejectReport, reportFromAmendment, roundQty,
  type Amendment, type OrderContext, type Stamp,
} from './reports.ts';
import type { VenueFill, VenueOrderState } from './venue.ts';

export interface KnownFill {
  tradeId: string;
  quantity: number;
  price: number;
  fee: number;
  busted: boolean;
  /** Amendments recorded so far; the next one is number amendments + 1. */
  amendments: number;
  /** recordedAt of the report that last changed it: a venue view observed before then is stale for it. */
  changedAt: number;
}

export interface KnownOrder {
  ctx: OrderContext;
  /** The order's quantity; 0 until the order or a report that implies it was seen. */
  quantity: number;
  venueOrderId: string | null;
  acked: boolean;
  rejected: boolean;
  canceled: boolean;
  fills: ReadonlyMap<string, KnownFill>;
  /** The venue's latest filled quantity: while above our fills, some fills are still to come. */
  venueFilledQty: number;
  /** The venue called the order finished (filled, canceled, expired): a bust does not reopen it. */
  venueDone: boolean;
  /** recordedAt of the latest fill or amendment: bounds how long the venue is asked for amendments. */
  lastFillAt: number | null;
}

const EPS = 1e-9;
const same = (a: number, b: number) => Math.abs(a - b) <= EPS * Math.max(1, Math.abs(a), Math.abs(b));

export const knownFromOrder = (o: Order): KnownOrder => ({
  ctx: contextOf(o), quantity: o.quantity, venueOrderId: null, acked: false, rejected: false, canceled: false,
  fills: new Map(), venueFilledQty: 0, venueDone: false, lastFillAt: null,
});

/** Quantity filled as things stand now: corrections applied, busts removed. */
export function filledQty(k: KnownOrder): number {
  let sum = 0;
  for (const f of k.fills.values()) if (!f.busted) sum += f.quantity;
  return roundQty(sum);
}

/** True while the venue may still change the order: open, or fills the venue reported are not all recorded. */
export function needsPolling(k: KnownOrder): boolean {
  if (k.rejected) return false;
  const cum = filledQty(k);
  if (k.venueFilledQty > cum + EPS) return true;
  return !k.canceled && !k.venueDone && (k.quantity === 0 || cum < k.quantity - EPS);
}

/** Folds one report into what we know. Repeats change nothing. */
export function applyReport(k: KnownOrder | undefined, e: ExecutionReport): KnownOrder {
  const cur: KnownOrder = k ?? {
    ctx: contextOf(e), quantity: 0, venueOrderId: null, acked: false, rejected: false, canceled: false,
    fills: new Map(), venueFilledQty: 0, venueDone: false, lastFillAt: null,
  };
  const next: KnownOrder = { ...cur, venueOrderId: cur.venueOrderId ?? e.venueOrderId };
  switch (e.type) {
    case 'ACK':
      return { ...next, acked: true, quantity: next.quantity || e.leavesQty };
    case 'REJECT':
      return { ...next, rejected: true };
    case 'CANCEL':
      return { ...next, canceled: true };
    case 'PARTIAL_FILL':
    case 'FILL': {
      const tradeId = e.venueTradeId;
      if (!tradeId || next.fills.has(tradeId)) return next;
      const fills = new Map(next.fills).set(tradeId, {
        tradeId, quantity: e.lastQty, price: e.lastPrice, fee: e.fee, busted: false, amendments: 0, changedAt: e.recordedAt,
      });
      return {
        ...next, acked: true, fills, quantity: next.quantity || roundQty(e.cumQty + e.leavesQty),
        venueFilledQty: Math.max(next.venueFilledQty, e.cumQty), venueDone: next.venueDone || e.leavesQty === 0, lastFillAt: e.recordedAt,
      };
    }
    case 'CORRECTION':
    case 'BUST': {
      const f = e.venueTradeId ? next.fills.get(e.venueTradeId) : undefined;
      if (!f) return next;
      const amended: KnownFill = e.type === 'BUST' || !(e.lastQty > 0)
        ? { ...f, busted: true, amendments: f.amendments + 1, changedAt: e.recordedAt }
        : { ...f, quantity: e.lastQty, price: e.lastPrice, fee: e.fee, busted: false, amendments: f.amendments + 1, changedAt: e.recordedAt };
      return { ...next, fills: new Map(next.fills).set(f.tradeId, amended), lastFillAt: e.recordedAt };
    }
    default: {
      const never: never = e.type;
      throw new Error(`unhandled execution type ${String(never)}`);
    }
  }
}

export interface Diff { reports: ExecutionReport[]; next: KnownOrder }

const differs = (k: KnownFill, f: VenueFill) => !same(k.quantity, f.quantity) || !same(k.price, f.price) || !same(k.fee, f.fee);

/**
 * The reports that the venue's view `s` adds to `k`. `observedAt` is when the view was asked for (our
 * clock): a fill that changed after that is left alone, so a slow poll cannot undo a newer correction.
 */
export function diffOrder(k: KnownOrder, s: VenueOrderState, observedAt: number, stamp: Stamp): Diff {
  const reports: ExecutionReport[] = [];
  let cur: KnownOrder = { ...k, quantity: k.quantity || s.quantity, venueOrderId: k.venueOrderId ?? (s.venueOrderId || null) };
  const add = (r: ExecutionReport) => { reports.push(r); cur = applyReport(cur, r); };
  const { ctx } = cur;

  if (s.status === 'REJECTED') {
    if (!cur.rejected) add(rejectReport(ctx, s, filledQty(cur), stamp));
    return { reports, next: cur };
  }
  if (!cur.acked) add(ackReport(ctx, s, stamp));
  for (const f of [...s.fills].sort((a, b) => a.venueTime - b.venueTime)) {
    const known = cur.fills.get(f.tradeId);
    if (!known) {
      add(fillReport(ctx, cur.venueOrderId, f, filledQty(cur) + f.quantity, cur.quantity, stamp));
    } else if (observedAt > known.changedAt && (known.busted || differs(known, f))) {
      // The venue's statement now says something else about a recorded fill: a correction (or a
      // reinstatement after a bust), never an edit of the original event.
      add(reportFromAmendment(ctx, cur.venueOrderId, { kind: 'correction', tradeId: f.tradeId, quantity: f.quantity, price: f.price, fee: f.fee, venueTime: s.venueTime }, known.amendments + 1, stamp));
    }
  }
  if (s.fillsComplete) {
    const listed = new Set(s.fills.map((f) => f.tradeId));
    for (const known of cur.fills.values()) {
      if (!known.busted && !listed.has(known.tradeId) && observedAt > known.changedAt) {
        add(reportFromAmendment(ctx, cur.venueOrderId, { kind: 'bust', tradeId: known.tradeId, venueTime: s.venueTime }, known.amendments + 1, stamp));
      }
    }
  }
  if ((s.status === 'CANCELED' || s.status === 'EXPIRED') && !cur.canceled) add(cancelReport(ctx, s, filledQty(cur), stamp));
  // The venue shrank the order (the stop leg of an Alpaca OCO whose take-profit partly filled) and filled
  // all of what it kept, every fill recorded: the rest will never fill. A CANCEL says so, or the order
  // would count as working for ever. (A FILLED order short of its fills by a bust is not this.)
  else if (s.status === 'FILLED' && !cur.canceled && s.quantity > 0 && s.quantity < cur.quantity - EPS && s.filledQty >= s.quantity - EPS && filledQty(cur) >= s.filledQty - EPS) {
    add(cancelReport(ctx, s, filledQty(cur), stamp, 'VENUE_REDUCED'));
  }
  const done = s.status === 'FILLED' || s.status === 'CANCELED' || s.status === 'EXPIRED';
  return { reports, next: { ...cur, venueFilledQty: s.filledQty, venueDone: cur.venueDone || done } };
}

/**
 * The report a pushed amendment adds, if any. `unknownFill` means the amendment refers to a fill not
 * recorded yet: the caller looks the order up, and the corrected fill arrives through `diffOrder`.
 */
export function diffAmendment(k: KnownOrder, a: Amendment, stamp: Stamp): Diff & { unknownFill: boolean } {
  const known = k.fills.get(a.tradeId);
  if (!known) return { reports: [], next: k, unknownFill: true };
  const nothing = a.kind === 'bust' ? known.busted : !known.busted && same(known.quantity, a.quantity) && same(known.price, a.price) && same(known.fee, a.fee);
  if (nothing) return { reports: [], next: k, unknownFill: false };
  const r = reportFromAmendment(k.ctx, k.venueOrderId, a, known.amendments + 1, stamp);
  return { reports: [r], next: applyReport(k, r), unknownFill: false };
}
