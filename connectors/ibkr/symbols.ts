// Canonical symbol ↔ IBKR contract id (conid), both directions in one place. The Client Portal API
// trades by conid only; a symbol it does not list here is refused before any request is sent.

export interface IbkrContract {
  conid: number;
  /** STK trades whole shares; CASH (IDEALPRO) quantities are units of the base currency. */
  secType: 'STK' | 'CASH';
}

const CONTRACTS: Readonly<Record<string, IbkrContract>> = Object.freeze({
  AAPL: { conid: 265598, secType: 'STK' },
  MSFT: { conid: 272093, secType: 'STK' },
  EURUSD: { conid: 12087792, secType: 'CASH' },
});

const BY_CONID: ReadonlyMap<number, string> = new Map(Object.entries(CONTRACTS).map(([symbol, c]) => [c.conid, symbol]));

/** The contract for a canonical symbol, or null when IBKR is not set up to trade it here. */
export function toVenue(symbol: string): IbkrContract | null {
  return Object.hasOwn(CONTRACTS, symbol) ? CONTRACTS[symbol] : null;
}

/** The canonical symbol for a conid, or null for a contract we never trade. */
export function fromVenue(conid: number): string | null {
  return BY_CONID.get(conid) ?? null;
}

export const listedSymbols = (): string[] => Object.keys(CONTRACTS);
