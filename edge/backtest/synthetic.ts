// Seeded quotes for the backtest's tests and benchmark: a random walk of the mid per symbol with a
// fixed spread, one quote per symbol every `stepMs`. Deterministic: same seed, same quotes.
import { mulberry32 } from '../../connectors/paper/marketData.ts';
import type { Quote } from '../../schemas/types.ts';

export interface SyntheticOptions {
  symbols: readonly { symbol: string; mid: number; tick: number }[];
  start: number;
  count: number;
  stepMs?: number;
  seed?: number;
  venue?: string;
}

export function syntheticQuotes(o: SyntheticOptions): Quote[] {
  const rng = mulberry32(o.seed ?? 7);
  const step = o.stepMs ?? 1000;
  const mids = o.symbols.map((s) => s.mid);
  const out: Quote[] = [];
  for (let i = 0; i < o.count; i++) {
    const k = i % o.symbols.length;
    const s = o.symbols[k];
    mids[k] *= 1 + (rng() - 0.5) * 0.004;
    const bid = Math.floor(mids[k] / s.tick) * s.tick;
    const ask = bid + 2 * s.tick;
    const t = o.start + Math.floor(i / o.symbols.length) * step;
    out.push({
      venue: o.venue ?? 'paper', symbol: s.symbol, bid: Number(bid.toFixed(8)), ask: Number(ask.toFixed(8)),
      bidSize: 100, askSize: 100, venueTime: t, hlc: t * 1000 + k,
    });
  }
  return out;
}
