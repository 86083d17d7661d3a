// ExecutionReport builders. Pure: execution ids are deterministic, so the same venue fact always
// yields the same event id and any instance can drop what `executions` already has.
import type { ExecutionReport, Order } from '../schemas/types.ts';
import type { VenueFill, VenueOrderState } from './venue.ts';
import type { DetailedFill } from './venueCapabilities.ts';

/** What every report of an order repeats: the causal ids and the order's description. */
export type OrderContext = Pick<Order, 'orderId' | 'clientOrderId' | 'signalId' | 'account' | 'strategy' | 'symbol' | 'venue' | 'side'>;

export const contextOf = (o: Order | ExecutionReport): OrderContext => ({
  orderId: o.orderId, clientOrderId: o.clientOrderId, signalId: o.signalId, account: o.account,
  strategy: o.strategy, symbol: o.symbol, venue: o.venue, side: o.side,
});

/** Our time for a batch of reports: wall clock once, a fresh hlc per report. */
export interface Stamp { recordedAt: number; hlc: () => number }

function base(ctx: OrderContext, venueOrderId: string | null, stamp: Stamp) {
  return {
    ...ctx, venueOrderId, venueTradeId: null as string | null, lastQty: 0, lastPrice: 0,
    cumQty: 0, leavesQty: 0, fee: 0, refExecutionId: null as string | null, reason: null as string | null,
    venueTime: null as number | null, recordedAt: stamp.recordedAt, hlc: stamp.hlc(),
    feeAsset: null as string | null, feeInAsset: null as number | null, netQty: null as number | null,
  };
}

export const fillExecutionId = (venue: string, tradeId: string) => `${venue}:T:${tradeId}`;
export const orderExecutionId = (ctx: OrderContext, kind: 'ACK' | 'REJECT' | 'CANCEL') => `${ctx.venue}:${ctx.orderId}:${kind}`;
/** The n-th amendment of a fill (1-based): counted from the log, so every instance mints the same id. */
export const amendmentExecutionId = (ref: string, n: number, type: 'CORRECTION' | 'BUST') => `${ref}:${n}:${type}`;

export function ackReport(ctx: OrderContext, s: VenueOrderState, stamp: Stamp): ExecutionReport {
  return { ...base(ctx, s.venueOrderId || null, stamp), executionId: orderExecutionId(ctx, 'ACK'), type: 'ACK', leavesQty: s.quantity, venueTime: s.venueTime };
}

export function rejectReport(ctx: OrderContext, s: VenueOrderState, cumQty: number, stamp: Stamp): ExecutionReport {
  return {
    ...base(ctx, s.venueOrderId || null, stamp), executionId: orderExecutionId(ctx, 'REJECT'), type: 'REJECT',
    cumQty, reason: s.rejectReason ?? 'REJECTED', venueTime: s.venueTime,
  };
}

export function fillReport(ctx: OrderContext, venueOrderId: string | null, f: VenueFill, cumQty: number, orderQty: number, stamp: Stamp): ExecutionReport {
  const leaves = Math.max(0, roundQty(orderQty - cumQty));
  return {
    ...base(ctx, venueOrderId, stamp), executionId: fillExecutionId(ctx.venue, f.tradeId), type: leaves > 0 ? 'PARTIAL_FILL' : 'FILL',
    venueTradeId: f.tradeId, lastQty: f.quantity, lastPrice: f.price, cumQty: roundQty(cumQty), leavesQty: leaves, fee: f.fee, venueTime: f.venueTime,
    ...feeFields(f),
  };
}

/**
 * The fee as the venue charged it, when the client says (DetailedFill): its asset and amount, and the
 * quantity the holding really moved by when that differs from the fill's (a Binance BUY whose fee is
 * taken from the base asset received), which is what the position fold counts.
 */
function feeFields(f: VenueFill): Pick<ExecutionReport, 'feeAsset' | 'feeInAsset' | 'netQty'> {
  const d = (f as DetailedFill).feeDetail;
  if (d === undefined) return { feeAsset: null, feeInAsset: null, netQty: null };
  const net = roundQty(d.netQuantity);
  return { feeAsset: d.commissionAsset, feeInAsset: d.commission, netQty: net === roundQty(f.quantity) ? null : net };
}

/** The order's end without (more) fills; `reason` defaults to the venue's status (CANCELED, EXPIRED). */
export function cancelReport(ctx: OrderContext, s: VenueOrderState, cumQty: number, stamp: Stamp, reason: string = s.status): ExecutionReport {
  return {
    ...base(ctx, s.venueOrderId || null, stamp), executionId: orderExecutionId(ctx, 'CANCEL'), type: 'CANCEL',
    cumQty: roundQty(cumQty), reason, venueTime: s.venueTime,
  };
}

export type Amendment =
  | { kind: 'correction'; tradeId: string; quantity: number; price: number; fee: number; venueTime: number }
  | { kind: 'bust'; tradeId: string; venueTime: number };

/** A venue's later amendment of a fill becomes a new event that references it; history stays. */
export function reportFromAmendment(ctx: OrderContext, venueOrderId: string | null, ev: Amendment, n: number, stamp: Stamp): ExecutionReport {
  const ref = fillExecutionId(ctx.venue, ev.tradeId);
  switch (ev.kind) {
    case 'correction':
      return { ...base(ctx, venueOrderId, stamp), executionId: amendmentExecutionId(ref, n, 'CORRECTION'), type: 'CORRECTION', venueTradeId: ev.tradeId,
        lastQty: ev.quantity, lastPrice: ev.price, fee: ev.fee, refExecutionId: ref, venueTime: ev.venueTime };
    case 'bust':
      return { ...base(ctx, venueOrderId, stamp), executionId: amendmentExecutionId(ref, n, 'BUST'), type: 'BUST', venueTradeId: ev.tradeId,
        refExecutionId: ref, venueTime: ev.venueTime };
    default: {
      const never: never = ev;
      throw new Error(`unhandled amendment ${JSON.stringify(never)}`);
    }
  }
}

export const roundQty = (q: number) => Math.round(q * 1e9) / 1e9;
