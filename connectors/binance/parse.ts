// Binance payloads → domain. Pure: schemas for what we read and converters from Binance's decimal
// strings to VenueOrderState / VenueFill / VenueEvent.
import { z } from 'zod';
import type { VenueEvent, VenueFill, VenueOrderState, VenueOrderStatus } from '../venue.ts';
import { assetsOf, fromVenue, tradeIdOf } from './symbols.ts';

const num = z.union([z.string(), z.number()]).transform((v) => Number(v)).pipe(z.number().finite());

export const orderSchema = z.object({
  symbol: z.string(),
  orderId: z.number(),
  clientOrderId: z.string(),
  origQty: num,
  executedQty: num,
  status: z.string(),
  side: z.enum(['BUY', 'SELL']),
  time: z.number().optional(),
  transactTime: z.number().optional(),
  updateTime: z.number().optional(),
  fills: z.array(z.object({ price: num, qty: num, commission: num, commissionAsset: z.string(), tradeId: z.number() })).optional(),
});
export type BinanceOrder = z.output<typeof orderSchema>;

export const tradeSchema = z.object({
  symbol: z.string(), id: z.number(), orderId: z.number(), price: num, qty: num, commission: num, commissionAsset: z.string(), time: z.number(),
});
export type BinanceTrade = z.output<typeof tradeSchema>;

export const executionReportSchema = z.object({
  e: z.literal('executionReport'), E: z.number(), s: z.string(), c: z.string(), C: z.string().nullish(), S: z.enum(['BUY', 'SELL']),
  q: num, x: z.string(), X: z.string(), r: z.string().nullish(), i: z.number(), l: num, z: num, L: num, n: num.nullish(), N: z.string().nullish(),
  T: z.number(), t: z.number(),
});

export function statusOf(status: string, executed: number): VenueOrderStatus {
  switch (status) {
    case 'FILLED': return 'FILLED';
    case 'CANCELED': return 'CANCELED';
    case 'REJECTED': return 'REJECTED';
    case 'EXPIRED': case 'EXPIRED_IN_MATCH': return 'EXPIRED';
    case 'PARTIALLY_FILLED': return 'PARTIALLY_FILLED';
    // NEW, PENDING_NEW, PENDING_CANCEL: still working.
    default: return executed > 0 ? 'PARTIALLY_FILLED' : 'NEW';
  }
}

/**
 * Commission in quote currency. Paid in the quote asset it is as is; in the base asset it is worth
 * qty × price; in a third asset (BNB) it needs a price we do not have here, so it counts as 0.
 */
export function feeInQuote(venueSymbol: string, commission: number, asset: string | null | undefined, price: number): number {
  const assets = assetsOf(venueSymbol);
  if (!assets || !asset) return 0;
  if (asset === assets.quote) return commission;
  if (asset === assets.base) return commission * price;
  return 0;
}

export const fillFromTrade = (t: BinanceTrade): VenueFill => ({
  tradeId: tradeIdOf(t.symbol, t.id), quantity: t.qty, price: t.price, fee: feeInQuote(t.symbol, t.commission, t.commissionAsset, t.price), venueTime: t.time,
});

export function orderState(o: BinanceOrder, fills: VenueFill[], fillsComplete: boolean): VenueOrderState {
  return {
    clientOrderId: o.clientOrderId, venueOrderId: String(o.orderId), symbol: fromVenue(o.symbol), side: o.side, quantity: o.origQty,
    status: statusOf(o.status, o.executedQty), filledQty: o.executedQty, fills, rejectReason: o.status === 'REJECTED' ? 'BINANCE_REJECTED' : null,
    venueTime: o.updateTime ?? o.transactTime ?? o.time ?? 0, ...(fillsComplete ? { fillsComplete: true } : {}),
  };
}

/** The POST answer (newOrderRespType=FULL) carries the fills made at placement. */
export function stateFromPlacement(o: BinanceOrder): VenueOrderState {
  const t = o.transactTime ?? o.time ?? 0;
  return orderState(o, (o.fills ?? []).map((f) => ({
    tradeId: tradeIdOf(o.symbol, f.tradeId), quantity: f.qty, price: f.price, fee: feeInQuote(o.symbol, f.commission, f.commissionAsset, f.price), venueTime: t,
  })), false);
}

/** myTrades is the fill statement: complete only when it adds up to the order's executed quantity. */
export function stateWithTrades(o: BinanceOrder, trades: BinanceTrade[]): VenueOrderState {
  const fills = trades.filter((t) => t.orderId === o.orderId).map(fillFromTrade);
  const sum = fills.reduce((s, f) => s + f.quantity, 0);
  return orderState(o, fills, Math.abs(sum - o.executedQty) < 1e-9);
}

/** A user-data executionReport → the order's state with the one trade it reports, if any. */
export function eventFromExecutionReport(r: z.output<typeof executionReportSchema>): VenueEvent {
  // On a cancel, `c` is the cancel request's own id and `C` the order's.
  const clientOrderId = r.C ? r.C : r.c;
  const fills: VenueFill[] = r.x === 'TRADE' && r.t >= 0
    ? [{ tradeId: tradeIdOf(r.s, r.t), quantity: r.l, price: r.L, fee: feeInQuote(r.s, r.n ?? 0, r.N, r.L), venueTime: r.T }]
    : [];
  return { kind: 'order', order: {
    clientOrderId, venueOrderId: String(r.i), symbol: fromVenue(r.s), side: r.S, quantity: r.q, status: statusOf(r.X, r.z),
    filledQty: r.z, fills, rejectReason: r.X === 'REJECTED' ? (r.r && r.r !== 'NONE' ? r.r : 'BINANCE_REJECTED') : null, venueTime: r.E,
  } };
}
