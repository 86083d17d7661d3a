// The bridge's market data and symbol rules: MetaApi's "Read symbol specification"
// (MetatraderSymbolSpecification: volumeStep, minVolume, maxVolume, contractSize, tickSize, tradeMode)
// and "Read current symbol price" (MetatraderSymbolPrice: bid, ask, time). Quantities leave here in
// canonical units (lots × contract size). MT5 prices carry no sizes, so a quote's sizes are 0.
import { z } from 'zod';
import type { VenueInstrument } from '../venueCapabilities.ts';
import type { VenueQuote } from '../venue.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error } from './errors.ts';
import type { Mt5Http } from './http.ts';
import { fromVenue, listedSymbols, toVenue } from './symbols.ts';

const specSchema = z.object({
  symbol: z.string(), tickSize: z.number().positive(), minVolume: z.number().positive(), maxVolume: z.number().positive(),
  volumeStep: z.number().positive(), contractSize: z.number().positive(), tradeMode: z.string().optional(),
}).passthrough();
const priceSchema = z.object({ symbol: z.string(), bid: z.number().positive(), ask: z.number().positive(), time: z.string() }).passthrough();

export type Mt5Spec = z.output<typeof specSchema>;

const r8 = (v: number) => Math.round(v * 1e8) / 1e8;

/** A symbol specification as the router's instrument rules; trading only in SYMBOL_TRADE_MODE_FULL. */
export function instrumentOf(canonical: string, spec: Mt5Spec): VenueInstrument {
  return {
    symbol: canonical, venueSymbol: spec.symbol,
    // LONGONLY / SHORTONLY / CLOSEONLY accept some orders only; the router cannot tell which, so it sends none.
    trading: (spec.tradeMode ?? 'SYMBOL_TRADE_MODE_FULL') === 'SYMBOL_TRADE_MODE_FULL',
    lotSize: r8(spec.volumeStep * spec.contractSize), tickSize: spec.tickSize, minNotional: 0,
    minQty: r8(spec.minVolume * spec.contractSize), maxQty: r8(spec.maxVolume * spec.contractSize),
  };
}

/** A current price as a quote, or null when it is older than `staleMs` (a closed market keeps its last price). */
export function quoteOf(canonical: string, json: unknown, now: number, staleMs: number): VenueQuote | null {
  const p = priceSchema.safeParse(json);
  if (!p.success) return null;
  const at = Date.parse(p.data.time);
  if (!Number.isFinite(at) || now - at > staleMs || p.data.bid > p.data.ask) return null;
  return { symbol: canonical, bid: p.data.bid, ask: p.data.ask, bidSize: 0, askSize: 0, venueTime: at };
}

export function createMt5Market(config: Mt5Config, http: Mt5Http, clock: () => number) {
  const specs = new Map<string, Mt5Spec>(); // by canonical symbol, as last read
  let cache: { at: number; key: string; quotes: VenueQuote[] } | null = null;
  const path = (venueSymbol: string, what: string) => `/symbols/${encodeURIComponent(venueSymbol)}/${what}`;

  async function spec(canonical: string): Promise<Mt5Spec | null> {
    const inst = toVenue(canonical, config.symbolSuffix);
    if (!inst) return null;
    const json = await http.request({ operation: 'symbolSpecification', method: 'GET', path: path(inst.symbol, 'specification'), notFoundIsNull: true });
    if (json === null) return null;
    const s = specSchema.safeParse(json);
    if (!s.success) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 symbol specification ${canonical}: unreadable answer`, { operation: 'symbolSpecification' });
    specs.set(canonical, s.data);
    return s.data;
  }

  return {
    /** The last specification read for a canonical symbol (instruments() reads them). */
    specOf: (canonical: string): Mt5Spec | null => specs.get(canonical) ?? null,
    async instruments(symbols: string[] = listedSymbols()): Promise<VenueInstrument[]> {
      const out: VenueInstrument[] = [];
      for (const canonical of symbols) {
        const s = await spec(canonical);
        if (s && fromVenue(s.symbol, config.symbolSuffix) === canonical) out.push(instrumentOf(canonical, s));
      }
      return out;
    },
    async quotes(symbols: string[]): Promise<VenueQuote[]> {
      const key = [...symbols].sort().join(',');
      // Every price is a request against the bridge's quota, shared with trading and the poll.
      if (cache && cache.key === key && clock() - cache.at < config.quoteRefreshMs) return cache.quotes;
      const out: VenueQuote[] = [];
      for (const canonical of symbols) {
        const inst = toVenue(canonical, config.symbolSuffix);
        if (!inst) continue;
        const json = await http.request({ operation: 'currentPrice', method: 'GET', path: path(inst.symbol, 'current-price'), notFoundIsNull: true });
        const q = quoteOf(canonical, json, clock(), config.quoteStaleMs);
        if (q) out.push(q);
      }
      cache = { at: clock(), key, quotes: out };
      return out;
    },
  };
}
