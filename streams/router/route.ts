// Venue choice: the cheapest expected cost among venues that list the instrument, are enabled and
// not halted. Pure: quotes and learned fill quality come in as a MarketView, the clock as `now`.
import { ruleBreach, type RuleBreach } from '../../schemas/instrumentRules.ts';
import type { OrderType, Side, TradingState, VenueCost } from '../../schemas/types.ts';
import { buildCostModel, feeBps, halfSpreadBps, usableMid, type AssetClass, type CostModel, type QuoteView } from './costModel.ts';
import type { Listing } from './listing.ts';

/** Read-only market data the router consults; the gate state satisfies it structurally. */
export interface MarketView {
  /** venue → canonical symbol → latest quote */
  readonly quotes: ReadonlyMap<string, ReadonlyMap<string, QuoteView>>;
  /** venue → canonical symbol → EWMA of fill slippage in bps against arrival mid (positive = worse) */
  readonly fillQuality: ReadonlyMap<string, ReadonlyMap<string, { readonly ewmaBps: number }>>;
}

export interface RouteRequest {
  readonly symbol: string;
  readonly assetClass: AssetClass;
  readonly side: Side;
  readonly quantity: number;
  readonly orderType: OrderType;
  readonly limitPrice: number | null;
  /** Price used where a venue has no usable quote and the order has no limit (mark or signal price). */
  readonly refPrice: number;
  /** A REDUCING venue accepts only orders that shrink the position. */
  readonly reducing: boolean;
  readonly now: number;
}

/**
 * Why no venue takes the order. Besides NO_VENUE, each is a venue rule (its listing: streams/router/listing.ts)
 * the order breaks after rounding, reported for the cheapest venue that refused when none could take it.
 */
export type RouteRefusal =
  | 'NO_VENUE'
  /** The venue does not trade the symbol now (its published `trading`, or the cost model's). */
  | 'NOT_TRADING'
  /** The quantity rounds down to zero lots. */
  | 'BELOW_LOT_SIZE'
  | 'BELOW_MIN_QTY'
  | 'ABOVE_MAX_QTY'
  /** The limit price rounds to zero ticks. */
  | 'BELOW_TICK_SIZE'
  | 'BELOW_MIN_NOTIONAL';

export interface RouteApproved {
  readonly ok: true;
  readonly venue: string;
  readonly venueSymbol: string;
  /** Rounded down to the venue's lot. */
  readonly quantity: number;
  /** Rounded to the venue's tick (buy down, sell up); null for market orders. */
  readonly limitPrice: number | null;
  /** The routed venue's mid if its quote is usable. */
  readonly arrivalMid: number | null;
  readonly candidates: VenueCost[];
  /** Venues whose quote was missing or stale, so their spread is the configured default. */
  readonly missingQuotes: string[] | null;
}

export interface RouteRefused {
  readonly ok: false;
  readonly reason: RouteRefusal;
  readonly detail: Record<string, string | number | null>;
  readonly candidates: VenueCost[];
  readonly missingQuotes: string[] | null;
}

export type RouteResult = RouteApproved | RouteRefused;

// Costs closer than this are a tie; float noise must not decide between venues.
const COST_EPSILON = 1e-9;

/**
 * Snap x to a multiple of step. Dividing by an integral 1/step (when there is one) gives the
 * correctly rounded decimal, where multiplying by a fractional step would leave 0.30000000000000004.
 */
export function roundToStep(x: number, step: number, mode: 'down' | 'up'): number {
  // A venue may set no step (0 in its published rules): nothing to round to.
  if (!(step > 0)) return x;
  const units = x / step;
  const n = mode === 'down' ? Math.floor(units + 1e-9) : Math.ceil(units - 1e-9);
  const inverse = 1 / step;
  const integral = Math.round(inverse);
  return Math.abs(inverse - integral) < 1e-6 && integral > 0 ? n / integral : n * step;
}

export function route(
  req: RouteRequest,
  market: MarketView,
  model: CostModel,
  venueStates: ReadonlyMap<string, TradingState>,
): RouteResult {
  const candidates: VenueCost[] = [];
  let missingQuotes: string[] | null = null;

  let best = -1;
  let bestCost = Infinity;
  let bestQty = 0;
  let bestLimit: number | null = null;
  let bestMid: number | null = null;
  let bestSymbol = '';

  let refusedCost = Infinity;
  let refusal: RouteRefusal = 'NO_VENUE';
  let refusalDetail: Record<string, string | number | null> | null = null;

  const ranked = model.ranked;
  for (let i = 0; i < ranked.length; i++) {
    const { name, model: venue } = ranked[i];
    // Shadow venues are priced in shadowRoutes, never here: they must not take live flow.
    if (!venue.enabled || venue.shadow) continue;
    const instrument = venue.instruments.get(req.symbol);
    if (instrument === undefined) continue;
    const fee = venue.fees[req.assetClass];
    // A listing without a fee schedule is a configuration gap; guessing zero fees would make it win.
    if (fee === undefined) continue;
    const venueState = venueStates.get(name);
    if (venueState === 'HALTED' || (venueState === 'REDUCING' && !req.reducing)) continue;

    const quantity = roundToStep(req.quantity, instrument.lotSize, 'down');
    const limitPrice =
      req.limitPrice === null ? null : roundToStep(req.limitPrice, instrument.tickSize, req.side === 'BUY' ? 'down' : 'up');
    const quote = market.quotes.get(name)?.get(req.symbol);
    const mid = usableMid(quote, req.now, model.maxQuoteAgeMs);
    let half: number;
    if (mid === null || quote === undefined) {
      half = model.defaultSpreadBps / 2;
      (missingQuotes ??= []).push(name);
    } else {
      half = halfSpreadBps(quote);
    }
    const price = limitPrice ?? mid ?? req.refPrice;
    const fees = feeBps(fee, price, quantity > 0 ? quantity : req.quantity);
    const slippage = model.slippageWeight * (market.fillQuality.get(name)?.get(req.symbol)?.ewmaBps ?? 0);
    const penalty = venue.degradedPenaltyBps;
    const cost = fees + half + slippage + penalty;
    candidates.push({ venue: name, costBps: cost, feeBps: fees, halfSpreadBps: half, slippageBps: slippage, penaltyBps: penalty });

    // A venue whose rules refuse the order is passed over, not fatal: the next cheapest may list a
    // finer lot or a lower minimum. Only when none can take it is the cheapest venue's refusal reported.
    const broken = ruleBroken(name, instrument, req, quantity, limitPrice, price);
    if (broken !== null) {
      if (cost < refusedCost - COST_EPSILON) {
        refusedCost = cost;
        refusal = broken.reason;
        refusalDetail = broken.detail;
      }
      continue;
    }
    if (cost < bestCost - COST_EPSILON) {
      best = i;
      bestCost = cost;
      bestQty = quantity;
      bestLimit = limitPrice;
      bestMid = mid;
      bestSymbol = instrument.venueSymbol;
    }
  }

  if (best < 0) {
    return { ok: false, reason: refusal, detail: refusalDetail ?? { symbol: req.symbol }, candidates, missingQuotes };
  }
  return {
    ok: true,
    venue: ranked[best].name,
    venueSymbol: bestSymbol,
    quantity: bestQty,
    limitPrice: bestLimit,
    arrivalMid: bestMid,
    candidates,
    missingQuotes,
  };
}

const REFUSAL_OF: Record<RuleBreach, RouteRefusal> = {
  NOT_TRADING: 'NOT_TRADING', LOT_SIZE: 'BELOW_LOT_SIZE', MIN_QTY: 'BELOW_MIN_QTY', MAX_QTY: 'ABOVE_MAX_QTY',
  TICK_SIZE: 'BELOW_TICK_SIZE', MIN_NOTIONAL: 'BELOW_MIN_NOTIONAL',
};

/** The first rule of the venue's listing the order breaks once rounded to its lot and tick (schemas/instrumentRules.ts). */
function ruleBroken(
  venue: string, l: Listing, req: RouteRequest, quantity: number, limitPrice: number | null, price: number,
): { reason: RouteRefusal; detail: Record<string, string | number | null> } | null {
  const breach = ruleBreach(l, quantity, limitPrice, price);
  if (breach === null) return null;
  const detail: Record<RuleBreach, Record<string, string | number | null>> = {
    NOT_TRADING: { venueSymbol: l.venueSymbol },
    LOT_SIZE: { quantity: req.quantity, lotSize: l.lotSize },
    MIN_QTY: { quantity, minQty: l.minQty },
    MAX_QTY: { quantity, maxQty: l.maxQty },
    TICK_SIZE: { limitPrice: req.limitPrice, tickSize: l.tickSize },
    MIN_NOTIONAL: { notional: quantity * price, minNotional: l.minNotional },
  };
  return { reason: REFUSAL_OF[breach], detail: { venue, ...detail[breach] } };
}

export interface ShadowRoute {
  readonly venue: string;
  readonly route: RouteApproved;
  /** The shadow venue's expected cost by the same model, to compare with what its fills cost. */
  readonly costBps: number;
}

/**
 * Where each shadow venue would have sent the order: the same pricing, rounding and refusals as a
 * live route, one venue at a time (a shadow venue needs no `enabled`: it is measured before it is
 * switched on). A halted shadow venue gets no twin, exactly as it would get no live order.
 */
export function shadowRoutes(
  req: RouteRequest,
  market: MarketView,
  model: CostModel,
  venueStates: ReadonlyMap<string, TradingState>,
): ShadowRoute[] {
  const out: ShadowRoute[] = [];
  for (const { name, model: venue } of model.ranked) {
    if (!venue.shadow) continue;
    const alone = buildCostModel(model, new Map([[name, { ...venue, enabled: true, shadow: false }]]));
    const r = route(req, market, alone, venueStates);
    if (r.ok) out.push({ venue: name, route: r, costBps: r.candidates[0].costBps });
  }
  return out;
}
