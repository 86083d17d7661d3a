// Canonical symbols ↔ Alpaca's. Equities are the same ticker; crypto pairs carry a slash on Alpaca.
const CRYPTO: Record<string, string> = { BTCUSD: 'BTC/USD', ETHUSD: 'ETH/USD', SOLUSD: 'SOL/USD' };
const FROM = new Map(Object.entries(CRYPTO).map(([canonical, venue]) => [venue, canonical]));

export const toVenue = (symbol: string): string => CRYPTO[symbol] ?? symbol;
export const fromVenue = (symbol: string): string => FROM.get(symbol) ?? symbol.replace('/', '');
export const isCrypto = (symbol: string): boolean => symbol in CRYPTO;
