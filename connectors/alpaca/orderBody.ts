// Our order → Alpaca's POST /v2/orders body. Pure. From Alpaca's documentation: `type` market, limit,
// stop, stop_limit, trailing_stop; `stop_price` for stop and stop_limit, `limit_price` for limit and
// stop_limit, `trail_price` (a dollar offset from the high-water mark) or `trail_percent` for
// trailing_stop, which takes time_in_force day or gtc only. Crypto takes market, limit and stop_limit,
// time_in_force gtc or ioc only ("We only support gtc and ioc time in force options for crypto orders").
import { unsupported, type NativeOrders } from '../orderTypes.ts';
import type { VenueOrderRequest } from '../venue.ts';
import { isCrypto, toVenue } from './symbols.ts';

const ALL = ['IOC', 'GTC', 'DAY', 'FOK'] as const;
export const ALPACA_EQUITY_ORDERS: NativeOrders = {
  types: { MARKET: ALL, LIMIT: ALL, STOP: ALL, STOP_LIMIT: ALL, TRAILING_STOP: ['DAY', 'GTC'] },
};
// DAY is sent as gtc for crypto, as before: a crypto market never closes, GTC is the nearest.
const CRYPTO_TIF = ['IOC', 'GTC', 'DAY'] as const;
export const ALPACA_CRYPTO_ORDERS: NativeOrders = { types: { MARKET: CRYPTO_TIF, LIMIT: CRYPTO_TIF, STOP_LIMIT: CRYPTO_TIF } };

const TYPE = { MARKET: 'market', LIMIT: 'limit', STOP: 'stop', STOP_LIMIT: 'stop_limit', TRAILING_STOP: 'trailing_stop' } as const;

/** The request body, or the refusal (VENUE_REJECTED:ORDER_TYPE_UNSUPPORTED / :TIME_IN_FORCE_UNSUPPORTED) to throw. */
export function alpacaOrderBody(venue: string, order: VenueOrderRequest): Record<string, string> {
  const crypto = isCrypto(order.symbol);
  const refusal = unsupported(venue, crypto ? ALPACA_CRYPTO_ORDERS : ALPACA_EQUITY_ORDERS, order);
  if (refusal) throw refusal;
  const body: Record<string, string> = {
    symbol: toVenue(order.symbol), qty: String(order.quantity), side: order.side === 'BUY' ? 'buy' : 'sell',
    type: TYPE[order.orderType],
    time_in_force: order.timeInForce === 'DAY' && crypto ? 'gtc' : order.timeInForce.toLowerCase(),
    client_order_id: order.clientOrderId,
  };
  const price = (x: number | null | undefined, what: string): string => {
    if (x == null) throw new Error(`alpaca: a ${order.orderType} order without its ${what}`);
    return String(x);
  };
  if (order.orderType === 'LIMIT' || order.orderType === 'STOP_LIMIT') body.limit_price = price(order.limitPrice, 'limit price');
  if (order.orderType === 'STOP' || order.orderType === 'STOP_LIMIT') body.stop_price = price(order.stopPrice, 'stop price');
  if (order.orderType === 'TRAILING_STOP') {
    if (order.trailAmount != null) body.trail_price = String(order.trailAmount);
    else body.trail_percent = price(order.trailPercent, 'trail');
  }
  return body;
}
