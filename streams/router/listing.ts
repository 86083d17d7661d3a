// What a venue lists, as the router sees it: the venue's own rules (published by its connector on the
// compacted `instruments` topic, key venue|symbol) merged with the cost model's hand-typed entry for the
// same venue and symbol. Pure: the published rules come in as data, so a replay merges the same way.
//
// The merge, field by field, when both exist:
// - `venueSymbol`: the hand-typed one (the desk's mapping), else the venue's.
// - `trading`: both must say so.
// - `minQty`, `minNotional`: the larger; `maxQty`: the smaller of those set (0 = none).
// - `lotSize`, `tickSize`: the hand-typed step when it is a whole multiple of the venue's (or the venue
//   sets none), else the venue's: a finer step than the venue's would only make orders it refuses.
// So a hand-typed entry overrides the mapping and can tighten the venue's rules, never loosen them. With
// only one of the two, that one is the listing; with neither, the venue does not list the symbol.
import type { InstrumentRules } from '../../schemas/instrumentRules.ts';

/** One venue's rules for one instrument; a step or bound of 0 means the venue sets none. */
export interface Listing extends InstrumentRules {
  readonly venueSymbol: string;
}

/** venue → canonical symbol → the rules the venue published last. */
export type PublishedRules = ReadonlyMap<string, ReadonlyMap<string, Listing>>;

/** Whether `step` is a whole multiple of `base` (within float noise). */
function multipleOf(step: number, base: number): boolean {
  const n = step / base;
  return n >= 1 - 1e-9 && Math.abs(n - Math.round(n)) <= 1e-6;
}

const stricterStep = (typed: number, venue: number): number => (venue > 0 && !(typed > 0 && multipleOf(typed, venue)) ? venue : typed);
const smallerBound = (a: number, b: number): number => (a > 0 && b > 0 ? Math.min(a, b) : a > 0 ? a : b);

/** The listing the router uses for one venue and symbol (see the header); undefined when neither side lists it. */
export function mergeListing(typed: Listing | undefined, venue: Listing | undefined): Listing | undefined {
  if (typed === undefined || venue === undefined) return typed ?? venue;
  return {
    venueSymbol: typed.venueSymbol,
    trading: typed.trading && venue.trading,
    lotSize: stricterStep(typed.lotSize, venue.lotSize),
    tickSize: stricterStep(typed.tickSize, venue.tickSize),
    minQty: Math.max(typed.minQty, venue.minQty),
    maxQty: smallerBound(typed.maxQty, venue.maxQty),
    minNotional: Math.max(typed.minNotional, venue.minNotional),
  };
}

/** Every symbol either side lists, merged. */
export function mergeListings(typed: ReadonlyMap<string, Listing>, venue: ReadonlyMap<string, Listing> | undefined): Map<string, Listing> {
  const out = new Map<string, Listing>();
  for (const symbol of new Set([...typed.keys(), ...(venue?.keys() ?? [])])) {
    const merged = mergeListing(typed.get(symbol), venue?.get(symbol));
    if (merged !== undefined) out.set(symbol, merged);
  }
  return out;
}
