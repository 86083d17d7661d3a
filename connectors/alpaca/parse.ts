// Alpaca payloads → domain. Pure: schemas for what we read (unknown fields pass), and converters from
// Alpaca's strings-for-numbers to VenueOrderState / VenueFill / VenueEvent.
import { z } from 'zod';
import type { Side } from '../../schemas/types.ts';
import type { VenueEvent, VenueFill, VenueOrderState, VenueOrderStatus } from '../venue.ts';
import { fromVenue } from './symbols.ts';

const num = z.union([z.string(), z.number()]).transform((v) => Number(v)).pipe(z.number().finite());
const time = z.string().transform((v) => Date.parse(v)).pipe(z.number().finite());

const orderFields = {
  id: z.string(),
  client_order_id: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  qty: num.nullable(),
  filled_qty: num,
  filled_avg_price: num.nullable(),
  status: z.string(),
  created_at: time,
  updated_at: time.nullable(),
  submitted_at: time.nullable(),
  /** `simple` (or ""), `bracket`, `oco`, `oto`. */
  order_class: z.string().nullish(),
  type: z.string().nullish(),
  /** `entry`, `take_profit`, `stop_loss` (Alpaca's changelog of 2026-10-08); absent on older answers. */
  group_role: z.string().nullish(),
};
const legSchema = z.object(orderFields);
/** `legs`: the other orders of a multi-leg order, only when asked for nested (`nested=true`), else null. */
export const orderSchema = z.object({ ...orderFields, legs: z.array(legSchema).nullish() });
export type AlpacaOrder = z.output<typeof legSchema> & { legs?: z.output<typeof legSchema>[] | null };

export const activitySchema = z.object({
  id: z.string(),
  activity_type: z.literal('FILL'),
  transaction_time: time,
  price: num,
  qty: num,
  order_id: z.string(),
  /** The order's filled quantity once this execution is counted ("cumulative quantity of shares involved in the execution"). */
  cum_qty: num.optional(),
});
export type AlpacaFillActivity = z.output<typeof activitySchema>;

export const tradeUpdateSchema = z.object({
  stream: z.literal('trade_updates'),
  data: z.object({
    event: z.string(),
    execution_id: z.string().nullish(),
    timestamp: time.nullish(),
    price: num.nullish(),
    qty: num.nullish(),
    order: orderSchema,
  }),
});

/** Non-final states while nothing is filled read as NEW; done_for_day may resume the next session. */
export function statusOf(o: Pick<AlpacaOrder, 'status' | 'filled_qty'>): VenueOrderStatus {
  const open: VenueOrderStatus = o.filled_qty > 0 ? 'PARTIALLY_FILLED' : 'NEW';
  switch (o.status) {
    case 'filled': return 'FILLED';
    case 'canceled': case 'replaced': return 'CANCELED';
    case 'expired': return 'EXPIRED';
    case 'rejected': return 'REJECTED';
    case 'partially_filled': return 'PARTIALLY_FILLED';
    // new, accepted, pending_new, accepted_for_bidding, pending_cancel, pending_replace, calculated,
    // stopped, suspended, done_for_day, held: still working as far as our fills are concerned.
    default: return open;
  }
}

const side = (s: 'buy' | 'sell'): Side => (s === 'buy' ? 'BUY' : 'SELL');

/**
 * The one trade id both paths agree on. Alpaca documents no link between a FILL activity's id
 * (`<time>::<uuid>`) and a trade update's `execution_id`; what both do state is the order and its
 * filled quantity after the execution (activity `order_id` + `cum_qty`, the update's `order.id` +
 * `order.filled_qty`). The filled quantity only grows, so it names each execution of an order once.
 */
export const tradeIdOf = (orderId: string, cumQty: number): string => `${orderId}:${Number(cumQty.toFixed(9))}`;

/** An order's FILL activities as fills, oldest first; without `cum_qty` the running sum stands in for it. */
export function fillsFromActivities(activities: readonly AlpacaFillActivity[]): VenueFill[] {
  let cum = 0;
  // Two executions can share a millisecond, and the uuid half of an id says nothing about order: within
  // one order the cumulative quantity does (it only grows).
  return [...activities].sort((a, b) => a.transaction_time - b.transaction_time || (a.cum_qty ?? 0) - (b.cum_qty ?? 0) || a.id.localeCompare(b.id)).map((a) => {
    cum = a.cum_qty ?? cum + a.qty;
    // Equities trade commission-free; regulatory fees arrive later as separate FEE activities.
    return { tradeId: tradeIdOf(a.order_id, cum), quantity: a.qty, price: a.price, fee: 0, venueTime: a.transaction_time };
  });
}

export function orderState(o: AlpacaOrder, fills: VenueFill[], fillsComplete: boolean): VenueOrderState {
  return {
    clientOrderId: o.client_order_id, venueOrderId: o.id, symbol: fromVenue(o.symbol), side: side(o.side),
    quantity: o.qty ?? 0, status: statusOf(o), filledQty: o.filled_qty, fills,
    rejectReason: o.status === 'rejected' ? 'ALPACA_REJECTED' : null,
    venueTime: o.updated_at ?? o.submitted_at ?? o.created_at, ...(fillsComplete ? { fillsComplete: true } : {}),
    ...(o.order_class === 'oco' ? { nativeOco: true } : {}),
  };
}

/**
 * The order's fills as a statement: only when the activities add up to what the order says is filled,
 * since the two endpoints can lag each other and a short statement would read as a bust.
 */
export function stateWithActivities(o: AlpacaOrder, activities: AlpacaFillActivity[]): VenueOrderState {
  const fills = fillsFromActivities(activities.filter((a) => a.order_id === o.id));
  const sum = fills.reduce((s, f) => s + f.quantity, 0);
  return orderState(o, fills, Math.abs(sum - o.filled_qty) < 1e-9);
}

/** A trade_updates message → the order's new state, carrying the fill it reports (if any). */
export function eventFromTradeUpdate(msg: z.output<typeof tradeUpdateSchema>): VenueEvent {
  const { event, price, qty, timestamp, order } = msg.data;
  // trade_updates "fill"/"partial_fill": price and qty are this execution's, order is the order after it.
  const isFill = (event === 'fill' || event === 'partial_fill') && price != null && qty != null;
  const fills: VenueFill[] = isFill ? [{ tradeId: tradeIdOf(order.id, order.filled_qty), quantity: qty, price, fee: 0, venueTime: timestamp ?? order.updated_at ?? order.created_at }] : [];
  return { kind: 'order', order: orderState(order, fills, false) };
}
