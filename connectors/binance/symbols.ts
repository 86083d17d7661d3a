// Canonical symbols ↔ Binance spot. Our USD pairs trade against USDT there; the quote asset decides
// how a commission paid in the base asset is turned into quote currency.
const PAIRS: Record<string, { venue: string; base: string; quote: string }> = {
  BTCUSD: { venue: 'BTCUSDT', base: 'BTC', quote: 'USDT' },
  ETHUSD: { venue: 'ETHUSDT', base: 'ETH', quote: 'USDT' },
  SOLUSD: { venue: 'SOLUSDT', base: 'SOL', quote: 'USDT' },
};
const FROM = new Map(Object.entries(PAIRS).map(([canonical, p]) => [p.venue, canonical]));

export const VENUE_SYMBOLS: readonly string[] = Object.values(PAIRS).map((p) => p.venue);
export const toVenue = (symbol: string): string => PAIRS[symbol]?.venue ?? symbol;
export const fromVenue = (symbol: string): string => FROM.get(symbol) ?? symbol;
export const assetsOf = (venueSymbol: string): { base: string; quote: string } | null => {
  const canonical = FROM.get(venueSymbol);
  return canonical ? { base: PAIRS[canonical].base, quote: PAIRS[canonical].quote } : null;
};
/** Binance trade ids count per symbol: the symbol makes them unique across the venue. */
export const tradeIdOf = (venueSymbol: string, id: number | string): string => `${venueSymbol}:${id}`;
