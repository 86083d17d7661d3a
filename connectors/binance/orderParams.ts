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

/**
 * The two exits of one OCO group → POST /api/v3/orderList/oco parameters (rest-api.md "New Order list -
 * OCO"), or null when Binance has no OCO form for the pair (it then goes as two orders). The "above" leg
 * takes LIMIT_MAKER / TAKE_PROFIT(_LIMIT) / STOP_LOSS(_LIMIT), the "below" leg only STOP_LOSS(_LIMIT) /
 * TAKE_PROFIT(_LIMIT), each with its own client order id:
 * - a SELL pair (the exits of a long): above the take-profit as LIMIT_MAKER at its limit, below the stop;
 * - a BUY pair (the exits of a short): above the stop, below the take-profit as TAKE_PROFIT_LIMIT
 *   triggering and resting at its limit (the below leg has no LIMIT_MAKER).
 * The stop leg: STOP_LOSS + stopPrice, STOP_LOSS_LIMIT + price, stopPrice and timeInForce, or a trailing
 * stop by percent as STOP_LOSS + trailingDelta (faqs/trailing-stop-faq.md: OCO legs may trail); by a price
 * amount it has no form, as for a single order. The take-profit must be a LIMIT that rests (GTC or DAY).
 */
export function binanceOcoParams(takeProfit: VenueOrderRequest, stopLoss: VenueOrderRequest): Record<string, string> | null {
  if (takeProfit.side !== stopLoss.side || takeProfit.quantity !== stopLoss.quantity || takeProfit.symbol !== stopLoss.symbol) return null;
  if (takeProfit.orderType !== 'LIMIT' || takeProfit.limitPrice == null || (takeProfit.timeInForce !== 'GTC' && takeProfit.timeInForce !== 'DAY')) return null;
  let stop: Record<string, string>;
  switch (stopLoss.orderType) {
    case 'STOP':
      if (stopLoss.stopPrice == null) return null;
      stop = { Type: 'STOP_LOSS', StopPrice: fmt(stopLoss.stopPrice) };
      break;
    case 'STOP_LIMIT':
      if (stopLoss.stopPrice == null || stopLoss.limitPrice == null || stopLoss.timeInForce === 'IOC' || stopLoss.timeInForce === 'FOK') return null;
      stop = { Type: 'STOP_LOSS_LIMIT', StopPrice: fmt(stopLoss.stopPrice), Price: fmt(stopLoss.limitPrice), TimeInForce: 'GTC' };
      break;
    case 'TRAILING_STOP':
      if (stopLoss.trailPercent == null) return null;
      stop = { Type: 'STOP_LOSS', TrailingDelta: String(Math.round(stopLoss.trailPercent * 100)) };
      break;
    default:
      return null;
  }
  const limit = fmt(takeProfit.limitPrice);
  const tp: Record<string, string> = takeProfit.side === 'SELL'
    ? { Type: 'LIMIT_MAKER', Price: limit }
    : { Type: 'TAKE_PROFIT_LIMIT', Price: limit, StopPrice: limit, TimeInForce: 'GTC' };
  const [above, aboveId, below, belowId] = takeProfit.side === 'SELL'
    ? [tp, takeProfit.clientOrderId, stop, stopLoss.clientOrderId]
    : [stop, stopLoss.clientOrderId, tp, takeProfit.clientOrderId];
  const prefixed = (prefix: string, p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [`${prefix}${k}`, v]));
  return {
    side: takeProfit.side, quantity: fmt(takeProfit.quantity),
    ...prefixed('above', above), aboveClientOrderId: aboveId,
    ...prefixed('below', below), belowClientOrderId: belowId,
  };
}
