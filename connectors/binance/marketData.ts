// Best bid/ask from the `<symbol>@bookTicker` market stream (web-socket-streams.md "Individual Symbol
// Book Ticker Streams", read as one combined stream), with GET /api/v3/ticker/bookTicker for a symbol
// the stream has said nothing about for quoteStaleMs: a quote is either fresh from the venue or not
// published at all. The stream pushes only changes and carries no event time, so venueTime is when we
// received it.
import type { Logger } from 'pino';
import type { VenueQuote } from '../venue.ts';
import { openWsStream, type WsStream } from '../wsStream.ts';
import type { BinanceConfig } from './config.ts';
import { bookTickerEventSchema, bookTickerSchema } from './parse.ts';
import { fromVenue, toVenue } from './symbols.ts';

export interface BookTickers {
  quotes(symbols: string[]): Promise<VenueQuote[]>;
  stop(): void;
}

interface Top { bid: number; ask: number; bidSize: number; askSize: number; at: number }

export function createBookTickers(o: {
  config: BinanceConfig; log?: Logger; clock: () => number;
  /** GET /api/v3/ticker/bookTicker?symbols=[...] through the client's paced, unsigned call. */
  fetchTickers(venueSymbols: string[]): Promise<unknown>;
}): BookTickers {
  const tops = new Map<string, Top>(); // by venue symbol
  let stream: WsStream | null = null;
  let streaming = '';

  // web-socket-streams.md "General WSS information": combined streams live at /stream?streams=a/b and
  // arrive as {stream, data}; stream names are lowercase.
  const combinedUrl = (venueSymbols: string[]) =>
    `${o.config.streamUrl.replace(/\/ws$/, '')}/stream?streams=${venueSymbols.map((s) => `${s.toLowerCase()}@bookTicker`).join('/')}`;

  function follow(venueSymbols: string[]): void {
    const key = [...venueSymbols].sort().join(',');
    if (key === streaming) return;
    stream?.stop();
    streaming = key;
    stream = openWsStream({
      venue: o.config.venue, url: async () => combinedUrl(venueSymbols),
      pingMs: o.config.pingMs, reconnectMs: o.config.reconnectMs, maxReconnectMs: o.config.maxReconnectMs, log: o.log,
      onMessage(text) {
        const msg = JSON.parse(text) as { data?: unknown };
        const e = bookTickerEventSchema.safeParse(msg.data ?? msg);
        if (e.success) tops.set(e.data.s, { bid: e.data.b, ask: e.data.a, bidSize: e.data.B, askSize: e.data.A, at: o.clock() });
      },
    });
  }

  return {
    async quotes(symbols) {
      const venueSymbols = [...new Set(symbols.map(toVenue))];
      if (venueSymbols.length === 0) return [];
      follow(venueSymbols);
      const now = o.clock();
      const stale = venueSymbols.filter((s) => { const t = tops.get(s); return !t || now - t.at > o.config.quoteStaleMs; });
      if (stale.length > 0) {
        try {
          const answer = await o.fetchTickers(stale);
          for (const t of (Array.isArray(answer) ? answer : [answer])) {
            const p = bookTickerSchema.safeParse(t);
            if (p.success) tops.set(p.data.symbol, { bid: p.data.bidPrice, ask: p.data.askPrice, bidSize: p.data.bidQty, askSize: p.data.askQty, at: o.clock() });
          }
        } catch (e) {
          o.log?.warn({ venue: o.config.venue, err: e instanceof Error ? e.message : String(e) }, 'book tickers not read; stale quotes withheld');
        }
      }
      const fresh = o.clock();
      return venueSymbols.flatMap((s) => {
        const t = tops.get(s);
        // An empty side (0) or a top older than the limit is no quote.
        if (!t || fresh - t.at > o.config.quoteStaleMs || !(t.bid > 0) || !(t.ask > 0)) return [];
        return [{ symbol: fromVenue(s), bid: t.bid, ask: t.ask, bidSize: t.bidSize, askSize: t.askSize, venueTime: t.at }];
      });
    },
    stop() { stream?.stop(); stream = null; streaming = ''; },
  };
}
