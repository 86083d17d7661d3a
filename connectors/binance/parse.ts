// Binance payloads → domain. Pure: schemas for what we read and converters from Binance's decimal
// strings to VenueOrderState / VenueFill / VenueEvent. Fees need the symbol's assets and, for a fee
// paid in a third asset (BNB), a rate: both come in through a FeeContext from the client.
import { z } from 'zod';
import type { Side } from '../../schemas/types.ts';
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
  fills: z.array(z.object({ price: num, qty: num, commission: num, commissionAsset: z.string().nullish(), tradeId: z.number() })).optional(),
});
export type BinanceOrder = z.output<typeof orderSchema>;

export const tradeSchema = z.object({
  symbol: z.string(), id: z.number(), orderId: z.number(), price: num, qty: num, commission: num, commissionAsset: z.string().nullish(), time: z.number(),
  isBuyer: z.boolean().optional(),
});
export type BinanceTrade = z.output<typeof tradeSchema>;

export const executionReportSchema = z.object({
  e: z.literal('executionReport'), E: z.number(), s: z.string(), c: z.string(), C: z.string().nullish(), S: z.enum(['BUY', 'SELL']),
  q: num, x: z.string(), X: z.string(), r: z.string().nullish(), i: z.number(), l: num, z: num, L: num, n: num.nullish(), N: z.string().nullish(),
  T: z.number(), t: z.number(),
});
export type ExecutionReportPayload = z.output<typeof executionReportSchema>;

/** web-socket-api.md "Event format": user data arrives wrapped, with the subscription it belongs to. */
export const wrappedEventSchema = z.object({ subscriptionId: z.number().optional(), event: z.object({ e: z.string() }).passthrough() });

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

// ---- fees ----

export interface FeeContext {
  assets(venueSymbol: string): { base: string; quote: string } | null;
  /** Price of one `asset` in `quote` at epoch ms `at`, or null when not known (yet). */
  rate(asset: string, quote: string, at: number): number | null;
}
export const NO_RATES: FeeContext = { assets: assetsOf, rate: () => null };

/** What the venue charged, as it said it, beside VenueFill's fee in quote currency. */
export interface FeeDetail {
  commission: number;
  commissionAsset: string | null;
  /** Base asset the balance actually moved by: a BUY paying in base receives qty − commission. */
  netQuantity: number;
}
export type BinanceFill = VenueFill & { feeDetail: FeeDetail };

/**
 * Commission in quote currency, or null when it cannot be known yet. faqs/commission_faq.md: the fee
 * is taken from what the trade gives you (base on a BUY, quote on a SELL) unless it is paid in BNB.
 * In quote it is as is; in base it is worth commission × trade price; in a third asset it takes that
 * asset's rate in the quote asset at the trade's time.
 */
export function feeInQuote(venueSymbol: string, commission: number, asset: string | null | undefined, price: number, fx: FeeContext = NO_RATES, at = 0): number | null {
  if (!(commission > 0)) return 0;
  const assets = fx.assets(venueSymbol);
  if (!assets || !asset) return null;
  if (asset === assets.quote) return commission;
  if (asset === assets.base) return commission * price;
  const rate = fx.rate(asset, assets.quote, at);
  return rate === null ? null : commission * rate;
}

interface RawFill { venueSymbol: string; side: Side; tradeId: number; qty: number; price: number; commission: number; commissionAsset: string | null | undefined; time: number }

/** One trade → a fill, or null while its fee cannot be converted (the fill is then left for a later look-up). */
export function fillOf(f: RawFill, fx: FeeContext): BinanceFill | null {
  const fee = feeInQuote(f.venueSymbol, f.commission, f.commissionAsset, f.price, fx, f.time);
  if (fee === null) return null;
  const inBase = f.commission > 0 && f.commissionAsset != null && f.commissionAsset === fx.assets(f.venueSymbol)?.base;
  const netQuantity = !inBase ? f.qty : f.side === 'BUY' ? f.qty - f.commission : f.qty + f.commission;
  return {
    tradeId: tradeIdOf(f.venueSymbol, f.tradeId), quantity: f.qty, price: f.price, fee, venueTime: f.time,
    feeDetail: { commission: f.commission, commissionAsset: f.commissionAsset ?? null, netQuantity },
  };
}

/** Fee assets outside base and quote, with the times they need a rate for. */
export function ratesNeeded(venueSymbol: string, fills: { commission: number; commissionAsset?: string | null; time: number }[], assets = assetsOf): { asset: string; quote: string; at: number }[] {
  const a = assets(venueSymbol);
  if (!a) return [];
  return fills.filter((f) => f.commission > 0 && f.commissionAsset && f.commissionAsset !== a.base && f.commissionAsset !== a.quote)
    .map((f) => ({ asset: f.commissionAsset!, quote: a.quote, at: f.time }));
}

// ---- orders ----

export function orderState(o: BinanceOrder, fills: VenueFill[], fillsComplete: boolean): VenueOrderState {
  return {
    clientOrderId: o.clientOrderId, venueOrderId: String(o.orderId), symbol: fromVenue(o.symbol), side: o.side, quantity: o.origQty,
    status: statusOf(o.status, o.executedQty), filledQty: o.executedQty, fills, rejectReason: o.status === 'REJECTED' ? 'BINANCE_REJECTED' : null,
    venueTime: o.updateTime ?? o.transactTime ?? o.time ?? 0, ...(fillsComplete ? { fillsComplete: true } : {}),
  };
}

const kept = <T>(xs: (T | null)[]): T[] => xs.filter((x): x is T => x !== null);

/** The POST answer (newOrderRespType=FULL) carries the fills made at placement. */
export function stateFromPlacement(o: BinanceOrder, fx: FeeContext = NO_RATES): VenueOrderState {
  const t = o.transactTime ?? o.time ?? 0;
  return orderState(o, kept((o.fills ?? []).map((f) => fillOf({
    venueSymbol: o.symbol, side: o.side, tradeId: f.tradeId, qty: f.qty, price: f.price, commission: f.commission, commissionAsset: f.commissionAsset, time: t,
  }, fx))), false);
}

/** myTrades is the fill statement: complete only when it adds up to the order's executed quantity. */
export function stateWithTrades(o: BinanceOrder, trades: BinanceTrade[], fx: FeeContext = NO_RATES): VenueOrderState {
  const fills = kept(trades.filter((t) => t.orderId === o.orderId).map((t) => fillOf({
    venueSymbol: t.symbol, side: o.side, tradeId: t.id, qty: t.qty, price: t.price, commission: t.commission, commissionAsset: t.commissionAsset, time: t.time,
  }, fx)));
  const sum = fills.reduce((s, f) => s + f.quantity, 0);
  return orderState(o, fills, Math.abs(sum - o.executedQty) < 1e-9);
}

/** A user-data executionReport → the order's state with the one trade it reports, if any. */
export function eventFromExecutionReport(r: ExecutionReportPayload, fx: FeeContext = NO_RATES): VenueEvent {
  // user-data-stream.md "Order Update": on a cancel, `c` is the cancel request's own id and `C` the order's.
  const clientOrderId = r.C ? r.C : r.c;
  const fill = r.x === 'TRADE' && r.t >= 0
    ? fillOf({ venueSymbol: r.s, side: r.S, tradeId: r.t, qty: r.l, price: r.L, commission: r.n ?? 0, commissionAsset: r.N, time: r.T }, fx)
    : null;
  return { kind: 'order', order: {
    clientOrderId, venueOrderId: String(r.i), symbol: fromVenue(r.s), side: r.S, quantity: r.q, status: statusOf(r.X, r.z),
    filledQty: r.z, fills: fill ? [fill] : [], rejectReason: r.X === 'REJECTED' ? (r.r && r.r !== 'NONE' ? r.r : 'BINANCE_REJECTED') : null, venueTime: r.E,
  } };
}

// ---- market data ----

export const bookTickerSchema = z.object({ symbol: z.string(), bidPrice: num, bidQty: num, askPrice: num, askQty: num });
/** web-socket-streams.md "Individual Symbol Book Ticker Streams". */
export const bookTickerEventSchema = z.object({ u: z.number(), s: z.string(), b: num, B: num, a: num, A: num });
/** rest-api.md "Kline/Candlestick data": [openTime, open, high, low, close, ...]. */
export const klinesSchema = z.array(z.tuple([z.number(), num]).rest(z.unknown()));
