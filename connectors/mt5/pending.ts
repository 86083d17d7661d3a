// Which of our orders MT5 takes natively, and the pending-order fields of a limit, stop or stop-limit
// (MetaApi's trade request). Pure. From MetaTrader 5's order types, as MetaApi exposes them:
// ORDER_TYPE_BUY_STOP / SELL_STOP rest until the price reaches openPrice, then trade at market;
// ORDER_TYPE_BUY_STOP_LIMIT / SELL_STOP_LIMIT, on reaching openPrice, place a limit order at
// stopLimitPrice. A pending order rests or expires (ORDER_TIME_DAY / ORDER_TIME_GTC): IOC and FOK have
// no pending form. A market order fills with ORDER_FILLING_IOC or ORDER_FILLING_FOK. MetaTrader has no
// trailing-stop order (MetaApi's trailing stop loss modifies a position's stop loss, not an order).
import type { OrderType, Side } from '../../schemas/types.ts';
import type { NativeOrders } from '../orderTypes.ts';
import type { VenueOrderRequest } from '../venue.ts';

const PENDING_TIF = ['GTC', 'DAY'] as const;
export const MT5_ORDERS: NativeOrders = {
  types: { MARKET: ['IOC', 'FOK', 'GTC', 'DAY'], LIMIT: PENDING_TIF, STOP: PENDING_TIF, STOP_LIMIT: PENDING_TIF },
};

const ACTION: Partial<Record<OrderType, Record<Side, string>>> = {
  LIMIT: { BUY: 'ORDER_TYPE_BUY_LIMIT', SELL: 'ORDER_TYPE_SELL_LIMIT' },
  STOP: { BUY: 'ORDER_TYPE_BUY_STOP', SELL: 'ORDER_TYPE_SELL_STOP' },
  STOP_LIMIT: { BUY: 'ORDER_TYPE_BUY_STOP_LIMIT', SELL: 'ORDER_TYPE_SELL_STOP_LIMIT' },
};

/** actionType, openPrice and (stop-limit) stopLimitPrice of a pending order; null when a price is missing. */
export function pendingFields(order: VenueOrderRequest): { actionType: string; openPrice: number; stopLimitPrice?: number } | null {
  const action = ACTION[order.orderType]?.[order.side];
  if (action === undefined) return null;
  switch (order.orderType) {
    case 'LIMIT':
      return order.limitPrice == null ? null : { actionType: action, openPrice: order.limitPrice };
    case 'STOP':
      return order.stopPrice == null ? null : { actionType: action, openPrice: order.stopPrice };
    case 'STOP_LIMIT':
      return order.stopPrice == null || order.limitPrice == null ? null : { actionType: action, openPrice: order.stopPrice, stopLimitPrice: order.limitPrice };
    default:
      return null;
  }
}

/** A market order's filling mode: IOC and FOK are named; the others take the bridge's default. */
export function marketFilling(order: VenueOrderRequest): { fillingModes?: string[] } {
  if (order.timeInForce === 'IOC') return { fillingModes: ['ORDER_FILLING_IOC'] };
  if (order.timeInForce === 'FOK') return { fillingModes: ['ORDER_FILLING_FOK'] };
  return {};
}
