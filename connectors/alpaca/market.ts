// Alpaca's instrument rules and quotes. Rules from the Trading API's assets ("Assets": status,
// tradable, fractionable; crypto's min_order_size, min_trade_increment, price_increment); quotes from
// the Market Data API's latest quotes ("Latest quotes": stocks /v2/stocks/quotes/latest with a feed,
// crypto /v1beta3/crypto/us/latest/quotes; bp/bs/ap/as/t), read at most every quoteRefreshMs.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { VenueQuote } from '../venue.ts';
import type { VenueInstrument } from '../venueCapabilities.ts';
import type { AlpacaConfig } from './config.ts';
import { fromVenue, isCrypto, toVenue } from './symbols.ts';

const num = z.union([z.string(), z.number()]).transform((v) => Number(v)).pipe(z.number().finite());
export const assetSchema = z.object({
  symbol: z.string(), class: z.string(), status: z.string(), tradable: z.boolean(), fractionable: z.boolean().default(false),
  min_order_size: num.nullish(), min_trade_increment: num.nullish(), price_increment: num.nullish(),
}).passthrough();
const quoteSchema = z.object({ bp: z.number(), bs: z.number(), ap: z.number(), as: z.number(), t: z.string() }).passthrough();
export const latestQuotesSchema = z.object({ quotes: z.record(z.string(), quoteSchema) }).passthrough();

/** Alpaca takes fractional share quantities to 9 decimals, and a fractional order for $1 or more ("Fractional Trading"). */
const FRACTION_STEP = 1e-9;
const FRACTION_MIN_NOTIONAL = 1;

/** An asset as the router's instrument rules (0 = no limit from the venue). */
export function instrumentOf(canonical: string, a: z.output<typeof assetSchema>): VenueInstrument {
  const trading = a.status === 'active' && a.tradable;
  if (a.class === 'crypto') {
    const lot = a.min_trade_increment ?? FRACTION_STEP;
    return { symbol: canonical, venueSymbol: a.symbol, trading, lotSize: lot, tickSize: a.price_increment ?? 0, minNotional: 0, minQty: a.min_order_size ?? lot, maxQty: 0 };
  }
  // Equities: sub-penny prices are refused at $1 and above ("Orders": sub-penny increments).
  const lot = a.fractionable ? FRACTION_STEP : 1;
  return { symbol: canonical, venueSymbol: a.symbol, trading, lotSize: lot, tickSize: a.price_increment ?? 0.01, minNotional: a.fractionable ? FRACTION_MIN_NOTIONAL : 0, minQty: lot, maxQty: 0 };
}

/** Latest quotes as quotes; a one-sided, crossed or stale quote is none. */
export function quotesOf(json: z.output<typeof latestQuotesSchema>, now: number, staleMs: number): VenueQuote[] {
  return Object.entries(json.quotes).flatMap(([venueSymbol, q]) => {
    const t = Date.parse(q.t);
    if (!(q.bp > 0 && q.ap > 0) || q.bp > q.ap || !Number.isFinite(t) || now - t > staleMs) return [];
    return [{ symbol: fromVenue(venueSymbol), bid: q.bp, ask: q.ap, bidSize: q.bs, askSize: q.as, venueTime: t }];
  });
}

type Get = <S extends z.ZodType>(operation: string, path: string, schema: S, api: 'trading' | 'data') => Promise<z.output<S> | null>;

export function createAlpacaMarket(config: AlpacaConfig, deps: { get: Get; clock: () => number; log?: Logger }) {
  let cache: { at: number; key: string; quotes: VenueQuote[] } | null = null;
  return {
    async instruments(symbols: readonly string[] = config.symbols): Promise<VenueInstrument[]> {
      const out: VenueInstrument[] = [];
      for (const canonical of symbols) {
        const a = await deps.get('asset', `/v2/assets/${encodeURIComponent(toVenue(canonical))}`, assetSchema, 'trading');
        if (a) out.push(instrumentOf(canonical, a));
      }
      return out;
    },
    async quotes(symbols: string[]): Promise<VenueQuote[]> {
      const key = [...symbols].sort().join(',');
      const now = deps.clock();
      if (cache && cache.key === key && now - cache.at < config.quoteRefreshMs) return cache.quotes;
      const stocks = symbols.filter((s) => !isCrypto(s));
      const crypto = symbols.filter(isCrypto).map(toVenue);
      const out: VenueQuote[] = [];
      if (stocks.length > 0) {
        const q = new URLSearchParams({ symbols: stocks.join(','), feed: config.quoteFeed });
        const json = await deps.get('latestQuotes', `/v2/stocks/quotes/latest?${q}`, latestQuotesSchema, 'data');
        if (json) out.push(...quotesOf(json, now, config.quoteStaleMs));
      }
      if (crypto.length > 0) {
        const json = await deps.get('latestQuotes', `/v1beta3/crypto/us/latest/quotes?${new URLSearchParams({ symbols: crypto.join(',') })}`, latestQuotesSchema, 'data');
        if (json) out.push(...quotesOf(json, now, config.quoteStaleMs));
      }
      cache = { at: now, key, quotes: out };
      return out;
    },
  };
}
