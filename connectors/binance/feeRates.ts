// Rates for commissions paid in a third asset (BNB): the asset's price in the symbol's quote asset at
// the trade's time. Taken from the 1-minute kline that contains the trade (its open price, fixed once
// the minute has begun), so every reader of the same trade — push, look-up, a restarted process —
// converts it to the same fee and reconciliation never sees a fee "change" that was only a new rate.
export interface KlineOpen {
  /** Open price of the 1m kline of `pair` that contains epoch ms `at`, or null when the pair is not listed. */
  (pair: string, at: number): Promise<number | null>;
}

export interface FeeRates {
  /** Fetches what `needs` lists and is not cached; failures leave those rates unknown. */
  prepare(needs: { asset: string; quote: string; at: number }[]): Promise<void>;
  rate(asset: string, quote: string, at: number): number | null;
}

const MINUTE = 60_000;
const MAX_CACHED = 5_000;

export function createFeeRates(klineOpen: KlineOpen, onError: (e: unknown, pair: string) => void = () => {}): FeeRates {
  const cache = new Map<string, number>();
  const unlisted = new Set<string>();
  const key = (asset: string, quote: string, at: number) => `${asset}/${quote}@${Math.floor(at / MINUTE)}`;

  async function fetchRate(asset: string, quote: string, at: number): Promise<number | null> {
    // BNBUSDT is quoted as asset/quote; some pairs only exist the other way round.
    for (const [pair, invert] of [[`${asset}${quote}`, false], [`${quote}${asset}`, true]] as const) {
      if (unlisted.has(pair)) continue;
      const open = await klineOpen(pair, at);
      if (open === null) { unlisted.add(pair); continue; }
      if (open > 0) return invert ? 1 / open : open;
    }
    return null;
  }

  return {
    async prepare(needs) {
      const missing = [...new Map(needs.map((n) => [key(n.asset, n.quote, n.at), n])).entries()].filter(([k]) => !cache.has(k));
      for (const [k, n] of missing) {
        try {
          const r = await fetchRate(n.asset, n.quote, n.at);
          if (r === null) continue;
          if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
          cache.set(k, r);
        } catch (e) {
          onError(e, `${n.asset}${n.quote}`);
        }
      }
    },
    rate: (asset, quote, at) => cache.get(key(asset, quote, at)) ?? null,
  };
}
