// The venue's own instrument rules, from GET /api/v3/exchangeInfo (filters.md), and the pure check of
// an order against them: what the venue would refuse for size, tick or notional is named before it
// leaves. Listing mirrors the cost model's instrument shape (venueSymbol, lotSize, tickSize, minNotional).
import { z } from 'zod';
import type { OrderType, Side } from '../../schemas/types.ts';
import { fromVenue } from './symbols.ts';

const num = z.union([z.string(), z.number()]).transform((v) => Number(v)).pipe(z.number().finite());
const filterSchema = z.object({ filterType: z.string() }).passthrough();
export const exchangeInfoSchema = z.object({
  serverTime: z.number().optional(),
  symbols: z.array(z.object({
    symbol: z.string(), status: z.string(), baseAsset: z.string(), quoteAsset: z.string(),
    orderTypes: z.array(z.string()).default([]), filters: z.array(filterSchema).default([]),
  })),
});

export interface InstrumentRules {
  /** Canonical symbol. */
  symbol: string;
  venueSymbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** status TRADING: anything else (HALT, BREAK) takes no orders. */
  trading: boolean;
  orderTypes: string[];
  /** PRICE_FILTER; 0 disables a part. */
  tickSize: number; minPrice: number; maxPrice: number;
  /** LOT_SIZE. */
  lotSize: number; minQty: number; maxQty: number;
  /** MARKET_LOT_SIZE, when the symbol has one (0 steps disable it). */
  market: { lotSize: number; minQty: number; maxQty: number } | null;
  /** NOTIONAL (or the older MIN_NOTIONAL); maxNotional 0 when absent. */
  minNotional: number; maxNotional: number; minNotionalAppliesToMarket: boolean;
}

type Filter = z.output<typeof filterSchema>;
const field = (f: Filter | undefined, k: string): number => {
  const v = f?.[k];
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
};

export function rulesFromExchangeInfo(info: z.output<typeof exchangeInfoSchema>): InstrumentRules[] {
  return info.symbols.map((s) => {
    const by = (t: string) => s.filters.find((f) => f.filterType === t);
    const price = by('PRICE_FILTER');
    const lot = by('LOT_SIZE');
    const market = by('MARKET_LOT_SIZE');
    const notional = by('NOTIONAL');
    const minNotional = by('MIN_NOTIONAL');
    return {
      symbol: fromVenue(s.symbol), venueSymbol: s.symbol, baseAsset: s.baseAsset, quoteAsset: s.quoteAsset, trading: s.status === 'TRADING', orderTypes: s.orderTypes,
      tickSize: field(price, 'tickSize'), minPrice: field(price, 'minPrice'), maxPrice: field(price, 'maxPrice'),
      lotSize: field(lot, 'stepSize'), minQty: field(lot, 'minQty'), maxQty: field(lot, 'maxQty'),
      market: market ? { lotSize: field(market, 'stepSize'), minQty: field(market, 'minQty'), maxQty: field(market, 'maxQty') } : null,
      minNotional: notional ? field(notional, 'minNotional') : field(minNotional, 'minNotional'),
      maxNotional: notional ? field(notional, 'maxNotional') : 0,
      minNotionalAppliesToMarket: notional ? notional.applyMinToMarket === true : minNotional?.applyToMarket === true,
    };
  });
}

export type RuleBreach =
  | 'SYMBOL_NOT_TRADING' | 'ORDER_TYPE_NOT_ALLOWED'
  | 'QTY_BELOW_MIN' | 'QTY_ABOVE_MAX' | 'QTY_NOT_ON_STEP'
  | 'PRICE_BELOW_MIN' | 'PRICE_ABOVE_MAX' | 'PRICE_NOT_ON_TICK'
  | 'NOTIONAL_BELOW_MIN' | 'NOTIONAL_ABOVE_MAX';

/** x is a whole number of steps (filters.md: `quantity % stepSize == 0`), tolerant of binary fractions. */
export const onStep = (x: number, step: number): boolean => {
  if (!(step > 0)) return true;
  const n = x / step;
  return Math.abs(n - Math.round(n)) <= 1e-9 * Math.max(1, Math.abs(n));
};

// Binance's own names (a trailing stop is a STOP_LOSS with a trailingDelta).
const VENUE_TYPE: Record<OrderType, string> = { MARKET: 'MARKET', LIMIT: 'LIMIT', STOP: 'STOP_LOSS', STOP_LIMIT: 'STOP_LOSS_LIMIT', TRAILING_STOP: 'STOP_LOSS' };

/**
 * First rule the venue would refuse this order for, or null. `refPrice` prices a MARKET order's
 * notional (filters.md NOTIONAL: the venue uses an average price; a mid is the nearest we have).
 */
export function checkOrder(r: InstrumentRules, o: { side: Side; quantity: number; orderType: OrderType; limitPrice: number | null }, refPrice: number | null = null): RuleBreach | null {
  if (!r.trading) return 'SYMBOL_NOT_TRADING';
  const venueType = VENUE_TYPE[o.orderType];
  if (r.orderTypes.length > 0 && !r.orderTypes.includes(venueType)) return 'ORDER_TYPE_NOT_ALLOWED';
  const isMarket = o.orderType === 'MARKET';
  // LOT_SIZE holds for every order; MARKET_LOT_SIZE adds its own bounds for MARKET orders (a 0 disables a part).
  for (const lot of isMarket && r.market ? [{ lotSize: r.lotSize, minQty: r.minQty, maxQty: r.maxQty }, r.market] : [{ lotSize: r.lotSize, minQty: r.minQty, maxQty: r.maxQty }]) {
    if (lot.minQty > 0 && o.quantity < lot.minQty) return 'QTY_BELOW_MIN';
    if (lot.maxQty > 0 && o.quantity > lot.maxQty) return 'QTY_ABOVE_MAX';
    if (!onStep(o.quantity, lot.lotSize)) return 'QTY_NOT_ON_STEP';
  }
  const price = isMarket ? null : o.limitPrice;
  if (price !== null) {
    if (r.minPrice > 0 && price < r.minPrice) return 'PRICE_BELOW_MIN';
    if (r.maxPrice > 0 && price > r.maxPrice) return 'PRICE_ABOVE_MAX';
    if (!onStep(price, r.tickSize)) return 'PRICE_NOT_ON_TICK';
  }
  const notionalPrice = price ?? (isMarket && r.minNotionalAppliesToMarket ? refPrice : null);
  if (notionalPrice !== null) {
    const notional = notionalPrice * o.quantity;
    if (r.minNotional > 0 && notional < r.minNotional) return 'NOTIONAL_BELOW_MIN';
    if (r.maxNotional > 0 && !isMarket && notional > r.maxNotional) return 'NOTIONAL_ABOVE_MAX';
  }
  return null;
}
