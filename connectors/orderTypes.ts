// Which order types and times in force a venue takes natively. An order the venue has no form for is
// refused before anything is sent (a REJECT on `executions` with reason
// VENUE_REJECTED:ORDER_TYPE_UNSUPPORTED or :TIME_IN_FORCE_UNSUPPORTED), never sent as another type:
// a stop sent as a market order would trade at once, long before the price the trader chose.
import type { OrderType, TimeInForce } from '../schemas/types.ts';
import { VenueError } from './http.ts';
import type { VenueOrderRequest } from './venue.ts';

export interface NativeOrders {
  /** Per order type, the times in force the venue has for it; a type missing here is unsupported. */
  readonly types: Partial<Record<OrderType, readonly TimeInForce[]>>;
}

/** Null when the venue takes the order as it is; else the refusal to throw from submit. */
export function unsupported(venue: string, native: NativeOrders, order: VenueOrderRequest): VenueError | null {
  const tifs = native.types[order.orderType];
  const ctx = { venue, operation: 'submit', clientOrderId: order.clientOrderId };
  if (tifs === undefined) {
    return new VenueError('VENUE_REJECTED', `${venue} submit ${order.clientOrderId}: ${venue} has no native ${order.orderType} order`, { ...ctx, venueCode: 'ORDER_TYPE_UNSUPPORTED' });
  }
  if (!tifs.includes(order.timeInForce)) {
    return new VenueError('VENUE_REJECTED', `${venue} submit ${order.clientOrderId}: ${venue} has no ${order.timeInForce} ${order.orderType} order`, { ...ctx, venueCode: 'TIME_IN_FORCE_UNSUPPORTED' });
  }
  return null;
}
