// A venue's instrument rules (the `instruments` topic: lot, tick, minimum and maximum quantity, minimum
// notional, trading or not) and the one check of an order against them, shared by the router (which
// rounds to the lot and tick first and passes the venue over) and the connector (which rejects what
// would leave unrounded). Pure.

export interface InstrumentRules {
  readonly trading: boolean;
  readonly lotSize: number;
  readonly tickSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly minNotional: number;
}

/** Stable codes, in the order a venue checks them. */
export type RuleBreach = 'NOT_TRADING' | 'LOT_SIZE' | 'MIN_QTY' | 'MAX_QTY' | 'TICK_SIZE' | 'MIN_NOTIONAL';

// Relative slack for the bounds: a quantity rounded to the lot lands on a bound up to float noise.
const BOUND_EPSILON = 1e-9;

/** Whether x is a whole number of steps (within float noise, which grows with the count of steps). */
export function onStep(x: number, step: number): boolean {
  if (!(step > 0)) return true;
  const n = x / step;
  return Math.abs(n - Math.round(n)) <= Math.max(1e-6, 1e-9 * Math.abs(n));
}

/**
 * The first rule the order breaks, or null. `limitPrice` null for an order without one; `price` values
 * the notional (the limit, else a mark), null when there is none (the notional is then not checked).
 */
export function ruleBreach(r: InstrumentRules, quantity: number, limitPrice: number | null, price: number | null): RuleBreach | null {
  if (!r.trading) return 'NOT_TRADING';
  if (!(quantity > 0)) return 'LOT_SIZE'; // less than one lot, rounded down to nothing
  if (r.minQty > 0 && quantity < r.minQty * (1 - BOUND_EPSILON)) return 'MIN_QTY';
  if (r.maxQty > 0 && quantity > r.maxQty * (1 + BOUND_EPSILON)) return 'MAX_QTY';
  if (!onStep(quantity, r.lotSize)) return 'LOT_SIZE';
  if (limitPrice !== null && (!(limitPrice > 0) || !onStep(limitPrice, r.tickSize))) return 'TICK_SIZE';
  if (r.minNotional > 0 && price !== null && price > 0 && quantity * price < r.minNotional * (1 - BOUND_EPSILON)) return 'MIN_NOTIONAL';
  return null;
}
