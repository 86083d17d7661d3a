// The router's cost model: plain data (validated once when a COST_MODEL control arrives) and the
// arithmetic that turns it into expected cost in basis points. Nothing here reads a clock or a map
// it was not given, so the same numbers come back on replay.
import { z } from 'zod';
import { mergeListings, type Listing } from './listing.ts';

export const ASSET_CLASSES = ['equity', 'crypto', 'fx'] as const;
export type AssetClass = (typeof ASSET_CLASSES)[number];

const feeSchema = z.strictObject({
  // Negative bps are allowed: maker rebates exist.
  bps: z.number().default(0),
  perUnit: z.number().min(0).default(0),
  minimum: z.number().min(0).default(0),
});
export type FeeSchedule = z.output<typeof feeSchema>;

const instrumentSchema = z.strictObject({
  venueSymbol: z.string().min(1),
  lotSize: z.number().positive(),
  tickSize: z.number().positive(),
  minNotional: z.number().min(0).default(0),
  // 0 = no bound of the desk's own; the venue's published bounds apply either way (listing.ts).
  minQty: z.number().min(0).default(0),
  maxQty: z.number().min(0).default(0),
  // false takes the symbol off this venue whatever the venue says.
  trading: z.boolean().default(true),
});
export type Instrument = Listing;

/** COST_MODEL at VENUE scope: everything the router knows about one venue. */
export const venueModelSchema = z.strictObject({
  // Off unless configured: a venue with real credentials must be switched on deliberately.
  enabled: z.boolean().default(false),
  // A venue is "degraded" exactly when it carries a non-zero penalty; ops or a health monitor set it.
  degradedPenaltyBps: z.number().min(0).default(0),
  // A shadow venue never takes live flow: each live order it could have taken gets a twin on
  // `orders-shadow`, filled against the same market data, so its quality is measured before go-live.
  shadow: z.boolean().default(false),
  fees: z.partialRecord(z.enum(ASSET_CLASSES), feeSchema).default({}),
  instruments: z.record(z.string().min(1), instrumentSchema).default({}),
});

/** COST_MODEL at DESK scope: the parameters shared by every venue. */
export const costModelDeskSchema = z.strictObject({
  slippageWeight: z.number().min(0).default(1),
  ewmaAlpha: z.number().gt(0).max(1).default(0.2),
  maxQuoteAgeMs: z.number().int().positive().default(5_000),
  // Spread assumed when a venue has no usable quote, so a silent venue never looks free.
  defaultSpreadBps: z.number().min(0).default(20),
  venuePreference: z.array(z.string().min(1)).default([]),
});

/** COST_MODEL at SYMBOL scope: the canonical symbol's asset class (which fee schedule applies). */
export const symbolModelSchema = z.strictObject({ assetClass: z.enum(ASSET_CLASSES) });

export interface VenueModel {
  readonly enabled: boolean;
  readonly degradedPenaltyBps: number;
  readonly shadow: boolean;
  readonly fees: Readonly<Partial<Record<AssetClass, FeeSchedule>>>;
  /**
   * Canonical symbol → the listing the router uses: the hand-typed entries merged with the venue's
   * published rules (listing.ts); a venue routes only what it lists.
   */
  readonly instruments: ReadonlyMap<string, Listing>;
  /** The cost model's own entries, kept so that new published rules can be merged again. */
  readonly typed: ReadonlyMap<string, Listing>;
}

export interface RankedVenue {
  readonly name: string;
  readonly model: VenueModel;
}

export interface CostModel {
  readonly slippageWeight: number;
  readonly ewmaAlpha: number;
  readonly maxQuoteAgeMs: number;
  readonly defaultSpreadBps: number;
  readonly venuePreference: readonly string[];
  readonly venues: ReadonlyMap<string, VenueModel>;
  /** The venues in tie-break order (preference, then name), so the router keeps the first minimum. */
  readonly ranked: readonly RankedVenue[];
}

export type CostModelDesk = z.output<typeof costModelDeskSchema>;
export const DEFAULT_COST_MODEL_DESK: Readonly<CostModelDesk> = Object.freeze(costModelDeskSchema.parse({}));

export function toVenueModel(doc: z.output<typeof venueModelSchema>, published?: ReadonlyMap<string, Listing>): VenueModel {
  const typed = new Map(Object.entries(doc.instruments));
  return {
    enabled: doc.enabled,
    degradedPenaltyBps: doc.degradedPenaltyBps,
    shadow: doc.shadow,
    fees: doc.fees,
    instruments: mergeListings(typed, published),
    typed,
  };
}

/** The same venue with its listings merged again against the rules it published (or none). */
export function withPublished(model: VenueModel, published: ReadonlyMap<string, Listing> | undefined): VenueModel {
  return { ...model, instruments: mergeListings(model.typed, published) };
}

export function rankVenues(venues: ReadonlyMap<string, VenueModel>, preference: readonly string[]): RankedVenue[] {
  const rank = (name: string): number => {
    const i = preference.indexOf(name);
    return i < 0 ? preference.length : i;
  };
  return [...venues.entries()]
    .map(([name, model]) => ({ name, model }))
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export type CostModelParams = Omit<CostModel, 'venues' | 'ranked'>;

export function buildCostModel(params: CostModelParams, venues: ReadonlyMap<string, VenueModel>): CostModel {
  return {
    slippageWeight: params.slippageWeight,
    ewmaAlpha: params.ewmaAlpha,
    maxQuoteAgeMs: params.maxQuoteAgeMs,
    defaultSpreadBps: params.defaultSpreadBps,
    venuePreference: params.venuePreference,
    venues,
    ranked: rankVenues(venues, params.venuePreference),
  };
}

/**
 * Fee in bps of notional: proportional part plus per-unit part, floored by the ticket minimum.
 * The minimum is what makes small orders expensive at per-share venues, so it must see the quantity.
 */
export function feeBps(fee: FeeSchedule, price: number, quantity: number): number {
  const variable = fee.bps + (fee.perUnit / price) * 1e4;
  const notional = price * quantity;
  const floor = notional > 0 ? (fee.minimum / notional) * 1e4 : 0;
  return variable > floor ? variable : floor;
}

/** What the router needs of a quote; the Avro Quote satisfies it. */
export interface QuoteView {
  readonly bid: number;
  readonly ask: number;
  /** Our hybrid logical clock when the quote was recorded: ms × 1000 + counter. */
  readonly hlc: number;
}

/**
 * Our clock, not the venue's, dates a quote: venue clocks skew, and staleness is about what we
 * have seen, not about what the venue claims.
 */
export function quoteTime(q: QuoteView): number {
  return Math.floor(q.hlc / 1000);
}

/** The mid of a two-sided, uncrossed quote no older than maxAgeMs; null otherwise. */
export function usableMid(q: QuoteView | undefined, now: number, maxAgeMs: number): number | null {
  if (q === undefined || !(q.bid > 0) || !(q.ask >= q.bid)) return null;
  if (now - quoteTime(q) > maxAgeMs) return null;
  return (q.bid + q.ask) / 2;
}

export function halfSpreadBps(q: QuoteView): number {
  const mid = (q.bid + q.ask) / 2;
  return ((q.ask - q.bid) / 2 / mid) * 1e4;
}
