// Seeded market-data generator: a geometric random walk per symbol, and a synthetic market maker that
// re-quotes several levels each side on every step. Re-quoting goes through the book like any order,
// so when the market moves through a resting client limit order, the maker's new quote trades with it
// (at the client's price, as the resting side sets the price). Same seed and same `now` sequence →
// same mids, same quotes, same trades.
import type { OrderBook, Trade } from './book.ts';
import type { InstrumentConfig } from './config.ts';
import { instrumentUnits, type InstrumentUnits } from './symbols.ts';

/** mulberry32: tiny, fast, good enough for simulation; never for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TopOfBook {
  symbol: string;
  bid: number | null;
  ask: number | null;
  bidSize: number;
  askSize: number;
}

export interface MarketData {
  /** Moves every mid by the time elapsed since the last step and re-quotes the market maker. */
  step(now: number): Trade[];
  mid(symbol: string): number | null;
  /** Best bid/ask of the whole book (market maker and resting client orders), in prices and units. */
  top(symbol: string): TopOfBook | null;
}

export interface MarketDataOptions {
  instruments: readonly InstrumentConfig[];
  books: ReadonlyMap<string, OrderBook>;
  seed: number;
  levels: number;
  /** Time of the first quotes; the constructor quotes once so books are never empty. */
  start: number;
}

// A pause (debugger, suspended laptop) must not turn into one enormous jump.
const MAX_STEP_SECONDS = 60;

interface SymbolState {
  inst: InstrumentConfig;
  units: InstrumentUnits;
  book: OrderBook;
  mid: number;
  quoteSeq: number;
}

export function createMarketData(options: MarketDataOptions): MarketData {
  const rng = mulberry32(options.seed);
  const states = new Map<string, SymbolState>();
  let last = options.start;

  function normal(): number {
    // Box–Muller; 1 - u keeps the log argument in (0, 1].
    const u = 1 - rng();
    const v = rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  function requote(s: SymbolState, now: number): Trade[] {
    s.book.removeOwner('MM');
    const half = (s.mid * s.inst.spreadBps) / 20_000;
    const bestBid = s.units.floorTicks(s.mid - half);
    // At least one tick wide, or the maker would trade with itself.
    const bestAsk = Math.max(s.units.ceilTicks(s.mid + half), bestBid + 1);
    const spacing = Math.max(1, Math.round(s.units.ceilTicks(half) / 2));
    const baseLots = Math.max(1, Math.round(s.inst.quoteSize / s.inst.lotSize));
    const trades: Trade[] = [];
    for (let level = 0; level < options.levels; level += 1) {
      for (const side of ['BUY', 'SELL'] as const) {
        const price = side === 'BUY' ? bestBid - level * spacing : bestAsk + level * spacing;
        if (price <= 0) continue;
        const lots = Math.max(1, Math.round(baseLots * (1 + level) * (0.5 + rng())));
        s.quoteSeq += 1;
        const id = `MM-${s.inst.symbol}-${s.quoteSeq}`;
        const result = s.book.submit({ id, owner: 'MM', side, type: 'LIMIT', limit: price, quantity: lots, tif: 'GTC' }, now);
        trades.push(...result.trades);
      }
    }
    return trades;
  }

  for (const inst of options.instruments) {
    const book = options.books.get(inst.symbol);
    if (!book) throw new Error(`market data: no book for ${inst.symbol}`);
    const s: SymbolState = { inst, units: instrumentUnits(inst.tickSize, inst.lotSize), book, mid: inst.startPrice, quoteSeq: 0 };
    states.set(inst.symbol, s);
    requote(s, options.start);
  }

  return {
    step(now) {
      const dt = Math.min(Math.max(0, now - last) / 1000, MAX_STEP_SECONDS);
      last = Math.max(last, now);
      const trades: Trade[] = [];
      for (const s of states.values()) {
        const sigma = s.inst.volatility;
        // Always draw, even when dt is 0, so the random sequence depends only on the number of steps.
        const z = normal();
        s.mid *= Math.exp(sigma * Math.sqrt(dt) * z - 0.5 * sigma * sigma * dt);
        trades.push(...requote(s, now));
      }
      return trades;
    },
    mid: (symbol) => states.get(symbol)?.mid ?? null,
    top(symbol) {
      const s = states.get(symbol);
      if (!s) return null;
      const bid = s.book.best('BUY');
      const ask = s.book.best('SELL');
      return {
        symbol,
        bid: bid ? s.units.toPrice(bid.price) : null,
        ask: ask ? s.units.toPrice(ask.price) : null,
        bidSize: bid ? s.units.toQuantity(bid.size) : 0,
        askSize: ask ? s.units.toQuantity(ask.size) : 0,
      };
    },
  };
}
