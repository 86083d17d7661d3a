// Our order → the order-type fields of one line of IBKR Client Portal's POST /iserver/account/{acct}/orders.
// Pure. From IBKR's documentation: orderType LMT, MKT, STP, STOP_LIMIT, MIDPRICE, TRAIL, TRAILLMT;
// `price` is the limit price (LMT, STOP_LIMIT) and a STP order's stop price; `auxPrice` is the stop
// trigger of a STOP_LIMIT; a TRAIL takes "trailingType": "amt" (an offset in the instrument's currency)
// or "%" (0 to 100) with "trailingAmt", its stop price being optional (the market price at submission
// when absent). tif: GTC, OPG, DAY, IOC, PAX (crypto only): there is no fill-or-kill.
import { unsupported, type NativeOrders } from '../orderTypes.ts';
import type { VenueOrderRequest } from '../venue.ts';
import type { OcoLegs } from '../venueCapabilities.ts';

const TIF = ['IOC', 'GTC', 'DAY'] as const;
export const IBKR_ORDERS: NativeOrders = { types: { MARKET: TIF, LIMIT: TIF, STOP: TIF, STOP_LIMIT: TIF, TRAILING_STOP: TIF } };

/** orderType, tif and the price fields, or the refusal to throw. */
export function ibkrOrderFields(order: VenueOrderRequest): Record<string, string | number> {
  const refusal = unsupported('ibkr', IBKR_ORDERS, order);
  if (refusal) throw refusal;
  const need = (x: number | null | undefined, what: string): number => {
    if (x == null) throw new Error(`ibkr: a ${order.orderType} order without its ${what}`);
    return x;
  };
  const base = { tif: order.timeInForce };
  switch (order.orderType) {
    case 'MARKET':
      return { ...base, orderType: 'MKT' };
    case 'LIMIT':
      return { ...base, orderType: 'LMT', price: need(order.limitPrice, 'limit price') };
    case 'STOP':
      return { ...base, orderType: 'STP', price: need(order.stopPrice, 'stop price') };
    case 'STOP_LIMIT':
      return { ...base, orderType: 'STOP_LIMIT', price: need(order.limitPrice, 'limit price'), auxPrice: need(order.stopPrice, 'stop price') };
    case 'TRAILING_STOP':
      return order.trailAmount != null
        ? { ...base, orderType: 'TRAIL', trailingType: 'amt', trailingAmt: order.trailAmount }
        : { ...base, orderType: 'TRAIL', trailingType: '%', trailingAmt: need(order.trailPercent, 'trail') };
    default: {
      const never: never = order.orderType;
      throw new Error(`unhandled order type ${String(never)}`);
    }
  }
}

/**
 * Whether a bracket's two exits can go as one OCA group ("How to Code an OCA Order in the Web API":
 * the orders of one request, each with `isSingleGroup`). The gateway then cancels the rest of the group
 * when one order completes and shrinks it in proportion when one fills in part, which is our pair's
 * meaning only when both close the same quantity on the same side of one contract; each leg must also
 * be an order type IBKR takes.
 */
export function ibkrOcaSupported({ takeProfit: tp, stopLoss: sl }: OcoLegs): boolean {
  return tp.symbol === sl.symbol && tp.side === sl.side && tp.quantity === sl.quantity
    && unsupported('ibkr', IBKR_ORDERS, tp) === null && unsupported('ibkr', IBKR_ORDERS, sl) === null;
}
