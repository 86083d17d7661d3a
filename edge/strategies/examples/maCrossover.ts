// Moving-average crossover: long `size` while the fast average of the mid is above the slow one,
// short `size` while it is below. Says a target, never a delta, so a repeated or late signal cannot
// flip the position. Run live with STRATEGIES_DIR=edge/strategies/examples, or backtest it with
// `order-router backtest --strategy edge/strategies/examples/maCrossover.ts --from ... --to ...`.
import { defineStrategy } from '../api.ts';

const SYMBOL = 'AAPL';
const FAST = 5;
const SLOW = 20;
const SIZE = 10;

interface State { mids: number[]; side: -1 | 0 | 1 }

const mean = (xs: readonly number[], n: number): number => {
  let s = 0;
  for (let i = xs.length - n; i < xs.length; i++) s += xs[i];
  return s / n;
};

export default defineStrategy<State>({
  id: 'trend-1',
  symbols: [SYMBOL],
  init: () => ({ mids: [], side: 0 }),
  onQuote(q, ctx) {
    const s = ctx.state;
    s.mids.push((q.bid + q.ask) / 2);
    if (s.mids.length > SLOW) s.mids.shift();
    if (s.mids.length < SLOW) return;
    const fast = mean(s.mids, FAST);
    const slow = mean(s.mids, SLOW);
    const side = fast > slow ? 1 : fast < slow ? -1 : s.side;
    if (side === s.side) return;
    s.side = side;
    ctx.submit({ symbol: q.symbol, intent: 'target', target: side * SIZE, price: side > 0 ? q.ask : q.bid });
  },
});
