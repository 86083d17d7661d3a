// Venue order state → ExecutionReports. Pure: execution ids are deterministic, so the same venue
// state always yields the same events and the runtime can drop what `executions` already has.
import type { ExecutionReport, Order } from '../schemas/types.ts';
import type { VenueEvent, VenueOrderState } from './venue.ts';

/** What every report of an order repeats: the causal ids and the order's description. */
export type OrderContext = Pick<Order, 'orderId' | 'clientOrderId' | 'signalId' | 'account' | 'strategy' | 'symbol' | 'venue' | 'side'>;

export const contextOf = (o: Order | ExecutionReport): OrderContext => ({
  orderId: o.orderId, clientOrderId: o.clientOrderId, signalId: o.signalId, account: o.account,
  strategy: o.strategy, symbol: o.symbol, venue: o.venue, side: o.side,
});

type Stamp = { recordedAt: number; hlc: () => number };

function base(ctx: OrderContext, s: Pick<VenueOrderState, 'venueOrderId'> | null, stamp: Stamp) {
  return {
    ...ctx, venueOrderId: s?.venueOrderId ?? null, venueTradeId: null as string | null, lastQty: 0, lastPrice: 0,
    cumQty: 0, leavesQty: 0, fee: 0, refExecutionId: null as string | null, reason: null as string | null,
    venueTime: null as number | null, recordedAt: stamp.recordedAt, hlc: stamp.hlc(),
  };
}

export const fillExecutionId = (venue: string, tradeId: string) => `${venue}:T:${tradeId}`;

/** Every report a venue order state implies, in order: ACK or REJECT, fills, then a terminal CANCEL. */
export function reportsFromState(ctx: OrderContext, s: VenueOrderState, stamp: Stamp): ExecutionReport[] {
  const out: ExecutionReport[] = [];
  const id = (kind: string) => `${ctx.venue}:${ctx.orderId}:${kind}`;
  if (s.status === 'REJECTED') {
    out.push({ ...base(ctx, s, stamp), executionId: id('REJECT'), type: 'REJECT', leavesQty: 0, reason: s.rejectReason ?? 'REJECTED', venueTime: s.venueTime });
    return out;
  }
  out.push({ ...base(ctx, s, stamp), executionId: id('ACK'), type: 'ACK', leavesQty: s.quantity, venueTime: s.venueTime });
  let cum = 0;
  for (const f of s.fills) {
    cum += f.quantity;
    const leaves = Math.max(0, roundQty(s.quantity - cum));
    out.push({
      ...base(ctx, s, stamp), executionId: fillExecutionId(ctx.venue, f.tradeId), type: leaves > 0 ? 'PARTIAL_FILL' : 'FILL',
      venueTradeId: f.tradeId, lastQty: f.quantity, lastPrice: f.price, cumQty: roundQty(cum), leavesQty: leaves, fee: f.fee, venueTime: f.venueTime,
    });
  }
  if (s.status === 'CANCELED' || s.status === 'EXPIRED') {
    out.push({ ...base(ctx, s, stamp), executionId: id('CANCEL'), type: 'CANCEL', cumQty: roundQty(cum), reason: s.status, venueTime: s.venueTime });
  }
  return out;
}

/** A venue's later amendment of a fill becomes a new event that references it; history stays. */
export function reportFromAmendment(ctx: OrderContext, ev: Exclude<VenueEvent, { kind: 'order' }>, stamp: Stamp): ExecutionReport {
  const ref = fillExecutionId(ctx.venue, ev.tradeId);
  switch (ev.kind) {
    case 'correction':
      return { ...base(ctx, null, stamp), executionId: `${ref}:C:${ev.venueTime}`, type: 'CORRECTION', venueTradeId: ev.tradeId,
        lastQty: ev.quantity, lastPrice: ev.price, fee: ev.fee, refExecutionId: ref, venueTime: ev.venueTime };
    case 'bust':
      return { ...base(ctx, null, stamp), executionId: `${ref}:BUST`, type: 'BUST', venueTradeId: ev.tradeId, refExecutionId: ref, venueTime: ev.venueTime };
    default: {
      const never: never = ev;
      throw new Error(`unhandled venue event ${JSON.stringify(never)}`);
    }
  }
}

const roundQty = (q: number) => Math.round(q * 1e9) / 1e9;
