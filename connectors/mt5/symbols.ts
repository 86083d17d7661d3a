// Canonical symbol ↔ MT5 symbol, and canonical quantity ↔ MT5 volume in lots, in one place. MT5 trades
// lots of a contract size (1 lot EURUSD = 100 000 EUR; 1 lot of a share CFD = 1 share) on a volume
// step; a quantity off that grid is refused here rather than rounded.

export interface Mt5Instrument {
  /** The broker's symbol before any suffix. */
  symbol: string;
  contractSize: number;
  volumeStep: number;
  minVolume: number;
}

const INSTRUMENTS: Readonly<Record<string, Mt5Instrument>> = Object.freeze({
  EURUSD: { symbol: 'EURUSD', contractSize: 100_000, volumeStep: 0.01, minVolume: 0.01 },
  AAPL: { symbol: 'AAPL', contractSize: 1, volumeStep: 1, minVolume: 1 },
  MSFT: { symbol: 'MSFT', contractSize: 1, volumeStep: 1, minVolume: 1 },
  BTCUSD: { symbol: 'BTCUSD', contractSize: 1, volumeStep: 0.01, minVolume: 0.01 },
});

const BY_VENUE: ReadonlyMap<string, string> = new Map(Object.entries(INSTRUMENTS).map(([canonical, i]) => [i.symbol, canonical]));

/** The MT5 instrument for a canonical symbol (suffix applied), or null when not traded here. */
export function toVenue(symbol: string, suffix = ''): Mt5Instrument | null {
  if (!Object.hasOwn(INSTRUMENTS, symbol)) return null;
  const i = INSTRUMENTS[symbol];
  return { ...i, symbol: `${i.symbol}${suffix}` };
}

/** The canonical symbol for an MT5 symbol (with or without the suffix), or null. */
export function fromVenue(venueSymbol: string, suffix = ''): string | null {
  const bare = suffix && venueSymbol.endsWith(suffix) ? venueSymbol.slice(0, -suffix.length) : venueSymbol;
  return BY_VENUE.get(bare) ?? null;
}

const decimals = (step: number): number => Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));

/** Lots for a canonical quantity, or null when it is below the minimum or off the volume step. */
export function toLots(quantity: number, i: Mt5Instrument): number | null {
  const steps = quantity / i.contractSize / i.volumeStep;
  const whole = Math.round(steps);
  if (Math.abs(steps - whole) > 1e-6 * Math.max(1, steps)) return null;
  const lots = Number((whole * i.volumeStep).toFixed(decimals(i.volumeStep)));
  return lots + 1e-12 >= i.minVolume ? lots : null;
}

export function fromLots(lots: number, i: Pick<Mt5Instrument, 'contractSize'>): number {
  return Math.round(lots * i.contractSize * 1e8) / 1e8;
}

export const contractSizeOf = (venueSymbol: string, suffix = ''): number | null => {
  const canonical = fromVenue(venueSymbol, suffix);
  return canonical === null ? null : INSTRUMENTS[canonical].contractSize;
};

export const listedSymbols = (): string[] => Object.keys(INSTRUMENTS);
