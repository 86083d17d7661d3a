// Our order → Binance spot's POST /api/v3/order parameters. Pure. From Binance's documentation:
// STOP_LOSS takes quantity and stopPrice or trailingDelta and "will execute a MARKET order when the
// conditions are met"; STOP_LOSS_LIMIT takes timeInForce, quantity, price and stopPrice or
// trailingDelta. A STOP_LOSS BUY triggers at or above its stopPrice and a SELL at or below it, which
// is what our STOP is (TAKE_PROFIT is the mirror image, a take-profit exit). trailingDelta is in BIPS
// (100 = 1%) measured from the best trade price since submission: a trailing stop by percent is
// native, one by a price amount is not. Spot has no DAY: a crypto market never closes, GTC is the
// nearest (as for LIMIT before); MARKET and STOP_LOSS take no timeInForce at all: a MARKET fills what
// it can at once whatever is asked, so only FOK, which it cannot promise, is refused.
import { unsupported, type NativeOrders } from '../orderTypes.ts';
import { VenueError } from '../http.ts';
import type { VenueOrderRequest } from '../venue.ts';

export const BINANCE_ORDERS: NativeOrders = {
  types: {
    MARKET: ['IOC', 'GTC', 'DAY'],
    LIMIT: ['IOC', 'GTC', 'DAY', 'FOK'],
    STOP: ['GTC', 'DAY'],
    STOP_LIMIT: ['IOC', 'GTC', 'DAY', 'FOK'],
    TRAILING_STOP: ['GTC', 'DAY'],
  },
};

export const fmt = (x: number) => x.toFixed(8).replace(/\.?0+$/, '');
const tif = (t: VenueOrderRequest['timeInForce']) => (t === 'IOC' || t === 'FOK' ? t : 'GTC');

/** Type-specific parameters (symbol, ids and response type are the caller's), or the refusal to throw. */
export function binanceOrderParams(venue: string, order: VenueOrderRequest): Record<string, string> {
  const refusal = unsupported(venue, BINANCE_ORDERS, order);
  if (refusal) throw refusal;
  const need = (x: number | null | undefined, what: string): string => {
    if (x == null) throw new Error(`binance: a ${order.orderType} order without its ${what}`);
    return fmt(x);
  };
  const base = { side: order.side, quantity: fmt(order.quantity) };
  switch (order.orderType) {
    case 'MARKET':
      return { ...base, type: 'MARKET' };
    case 'LIMIT':
      return { ...base, type: 'LIMIT', timeInForce: tif(order.timeInForce), price: need(order.limitPrice, 'limit price') };
    case 'STOP':
      return { ...base, type: 'STOP_LOSS', stopPrice: need(order.stopPrice, 'stop price') };
    case 'STOP_LIMIT':
      return { ...base, type: 'STOP_LOSS_LIMIT', timeInForce: tif(order.timeInForce), price: need(order.limitPrice, 'limit price'), stopPrice: need(order.stopPrice, 'stop price') };
    case 'TRAILING_STOP': {
      if (order.trailPercent == null) {
        throw new VenueError('VENUE_REJECTED', `${venue} submit ${order.clientOrderId}: Binance trails by percent (trailingDelta in BIPS), not by a price amount`,
          { venue, operation: 'submit', clientOrderId: order.clientOrderId, venueCode: 'ORDER_TYPE_UNSUPPORTED' });
      }
      // Whole BIPS only: 1.234% is sent as 123 BIPS (the nearest the venue can express).
      return { ...base, type: 'STOP_LOSS', trailingDelta: String(Math.round(order.trailPercent * 100)) };
    }
    default: {
      const never: never = order.orderType;
      throw new Error(`unhandled order type ${String(never)}`);
    }
  }
}
