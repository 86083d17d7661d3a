// IBKR market data and contract rules → domain values. Pure: no I/O, no clock (the caller passes `now`).
// - GET /iserver/marketdata/snapshot rows: fields by id (Web API v1.0 reference, "Market Data Fields":
//   31 last, 84 bid, 85 ask size, 86 ask, 88 bid size, 6509 market-data availability); values are
//   strings, prices may carry a one-letter prefix (C = prior close, H = halted), sizes thousands
//   separators or K/M suffixes. A row without bid and ask is the answer to a pre-flight request.
// - POST /iserver/contract/rules: `incrementRules` [{lowerEdge, increment}] give the price increment
//   at or above each edge; `error` says the rules could not be read; `canTradeAcctIds` who may trade.
import { z } from 'zod';
import type { VenueQuote } from '../venue.ts';
import type { VenueInstrument } from '../venueCapabilities.ts';
import type { IbkrContract } from './symbols.ts';
import { fromVenue } from './symbols.ts';

export const SNAPSHOT_FIELDS = ['31', '84', '85', '86', '88', '6509'] as const;

const snapshotRowSchema = z.object({ conid: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]), _updated: z.number().optional() }).passthrough();

/** A price field: "190.12", "C190.12" (prior close), "H190.12" (halted) → number; anything else null. */
export function priceField(raw: unknown): { value: number; prefix: string | null } | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? { value: raw, prefix: null } : null;
  if (typeof raw !== 'string') return null;
  const m = /^([A-Za-z])?\s*(-?\d[\d,]*(?:\.\d+)?)$/.exec(raw.trim());
  return m ? { value: Number(m[2].replace(/,/g, '')), prefix: m[1]?.toUpperCase() ?? null } : null;
}

/** A size field: "300", "1,200", "12.3K", "1.2M" → number; anything else 0. */
export function sizeField(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : 0;
  if (typeof raw !== 'string') return 0;
  const m = /^(\d[\d,]*(?:\.\d+)?)\s*([KkMm])?$/.exec(raw.trim());
  if (!m) return 0;
  const n = Number(m[1].replace(/,/g, ''));
  return m[2] ? n * (m[2].toUpperCase() === 'K' ? 1_000 : 1_000_000) : n;
}

/**
 * The best bid/ask of one snapshot row, or null: no data yet (pre-flight), an unknown conid, a halted
 * or prior-close price, a crossed book, data that is not real time (6509 not starting with R: delayed
 * or frozen prices are no arrival mid), or a row not updated within `staleMs` of `now`.
 */
export function quoteFromSnapshot(row: unknown, now: number, staleMs: number): VenueQuote | null {
  const r = snapshotRowSchema.safeParse(row);
  if (!r.success) return null;
  const symbol = fromVenue(r.data.conid);
  const fields = r.data as Record<string, unknown>;
  const bid = priceField(fields['84']);
  const ask = priceField(fields['86']);
  if (!symbol || !bid || !ask || bid.prefix || ask.prefix) return null;
  const availability = typeof fields['6509'] === 'string' ? fields['6509'] : null;
  if (availability !== null && !availability.startsWith('R')) return null;
  const venueTime = r.data._updated ?? now;
  if (now - venueTime > staleMs) return null;
  if (!(bid.value > 0 && ask.value >= bid.value)) return null;
  return { symbol, bid: bid.value, ask: ask.value, bidSize: sizeField(fields['88']), askSize: sizeField(fields['85']), venueTime };
}

const rulesSchema = z.object({
  error: z.string().nullish(),
  increment: z.union([z.number(), z.string()]).optional(),
  incrementRules: z.array(z.object({ lowerEdge: z.union([z.number(), z.string()]), increment: z.union([z.number(), z.string()]) })).optional(),
  canTradeAcctIds: z.array(z.string()).optional(),
  orderTypes: z.array(z.string()).optional(),
}).passthrough();

/**
 * An instrument as the venue lists it, in the shape other venues publish (symbol, venueSymbol,
 * trading, lotSize, tickSize, minNotional, minQty, maxQty; 0 = no limit from the venue) plus the
 * price-dependent increments IBKR gives.
 */
export interface IbkrInstrument extends VenueInstrument {
  /** The increment to use at or above each price edge, lowest edge first. */
  priceIncrements: { lowerEdge: number; increment: number }[];
  orderTypes: string[];
}

/**
 * The instrument from a contract-rules answer; null when unreadable or when the gateway says it could
 * not read the rules. Quantities: the connector trades whole shares (STK) and whole units of the base
 * currency (CASH), so lot and minimum are 1; IBKR documents no minimum notional for them.
 */
export function instrumentFromRules(symbol: string, contract: IbkrContract, json: unknown, accountId: string): IbkrInstrument | null {
  const parsed = rulesSchema.safeParse(json && typeof json === 'object' && 'rules' in json ? (json as { rules: unknown }).rules : json);
  if (!parsed.success || parsed.data.error) return null;
  const r = parsed.data;
  const increments = (r.incrementRules ?? []).map((x) => ({ lowerEdge: Number(x.lowerEdge), increment: Number(x.increment) }))
    .filter((x) => Number.isFinite(x.lowerEdge) && x.increment > 0).sort((a, b) => a.lowerEdge - b.lowerEdge);
  const tick = increments[0]?.increment ?? Number(r.increment);
  if (!(tick > 0)) return null;
  return {
    symbol, venueSymbol: String(contract.conid), trading: r.canTradeAcctIds === undefined || r.canTradeAcctIds.includes(accountId),
    lotSize: 1, tickSize: tick, minNotional: 0, minQty: 1, maxQty: 0,
    priceIncrements: increments.length > 0 ? increments : [{ lowerEdge: 0, increment: tick }], orderTypes: r.orderTypes ?? [],
  };
}
