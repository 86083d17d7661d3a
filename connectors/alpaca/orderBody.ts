// Our order → Alpaca's POST /v2/orders body. Pure. From Alpaca's documentation: `type` market, limit,
// stop, stop_limit, trailing_stop; `stop_price` for stop and stop_limit, `limit_price` for limit and
// stop_limit, `trail_price` (a dollar offset from the high-water mark) or `trail_percent` for
// trailing_stop, which takes time_in_force day or gtc only. Crypto takes market, limit and stop_limit,
// time_in_force gtc or ioc only ("We only support gtc and ioc time in force options for crypto orders").
import { unsupported, type NativeOrders } from '../orderTypes.ts';
import type { VenueOrderRequest } from '../venue.ts';
import type { OcoLegs } from '../venueCapabilities.ts';
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

/**
 * Whether an exit pair can go as ONE order of class `oco` ("OCO Orders", "Threshold on stop price of
 * stop-loss orders"): equities only; the take-profit a limit, the stop-loss a stop or stop-limit (no
 * trailing stop); time in force day or gtc, the same for both; whole shares (a fractional quantity is for
 * simple orders); the stop at least $0.01 past the take-profit's limit, on the loss side (Alpaca's "base
 * price"; the market price it also checks is its own, so a stop the market has passed is refused there
 * and the legs go one by one).
 */
export function alpacaOcoSupported(legs: OcoLegs): boolean {
  const { takeProfit: tp, stopLoss: sl } = legs;
  if (isCrypto(tp.symbol) || tp.orderType !== 'LIMIT' || tp.limitPrice == null) return false;
  if ((sl.orderType !== 'STOP' && sl.orderType !== 'STOP_LIMIT') || sl.stopPrice == null) return false;
  if (sl.orderType === 'STOP_LIMIT' && sl.limitPrice == null) return false;
  if (tp.timeInForce !== sl.timeInForce || (tp.timeInForce !== 'DAY' && tp.timeInForce !== 'GTC')) return false;
  if (tp.side !== sl.side || tp.quantity !== sl.quantity || !Number.isInteger(tp.quantity)) return false;
  const cents = (x: number) => Math.round(x * 100);
  return tp.side === 'SELL' ? cents(sl.stopPrice) <= cents(tp.limitPrice) - 1 : cents(sl.stopPrice) >= cents(tp.limitPrice) + 1;
}

/** The POST /v2/orders body of an exit pair of class `oco`: the take-profit is the order, the stop its leg. */
export function alpacaOcoBody(legs: OcoLegs): Record<string, unknown> {
  const { takeProfit: tp, stopLoss: sl } = legs;
  if (!alpacaOcoSupported(legs)) throw new Error('alpaca: not an OCO pair Alpaca takes');
  return {
    symbol: toVenue(tp.symbol), qty: String(tp.quantity), side: tp.side === 'BUY' ? 'buy' : 'sell', type: 'limit',
    time_in_force: tp.timeInForce.toLowerCase(), order_class: 'oco', client_order_id: tp.clientOrderId,
    limit_price: String(tp.limitPrice), take_profit: { limit_price: String(tp.limitPrice) },
    stop_loss: { stop_price: String(sl.stopPrice), ...(sl.orderType === 'STOP_LIMIT' ? { limit_price: String(sl.limitPrice) } : {}) },
  };
}
