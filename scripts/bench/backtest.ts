// The backtest core in process: seeded quotes (two symbols) through each example strategy, the edge's
// signal parser, decide and the paper book (edge/backtest/simulate.ts), timed end to end. Reports
// quotes per second of wall time and CPU ms per 1,000 quotes (process.cpuUsage, user + system), and
// the output's sha256 for two runs of the same input (equal, or the stage fails). Reading the quotes
// from Kafka and writing Parquet are not in these figures. Run alone: `node scripts/bench/backtest.ts`.
import type { Quote } from '../../schemas/types.ts';
import { outputHash, startBacktest } from '../../edge/backtest/simulate.ts';
import { syntheticQuotes } from '../../edge/backtest/synthetic.ts';
import { defaultControlConfig } from '../../streams/decide/controlFold.ts';
import type { Strategy } from '../../edge/strategies/api.ts';
import maCrossover from '../../edge/strategies/examples/maCrossover.ts';
import meanReversion from '../../edge/strategies/examples/meanReversion.ts';

export interface BacktestBenchRow {
  strategy: string; quotes: number; signals: number; approved: number; fills: number;
  wallMs: number; quotesPerSec: number; cpuMsPer1000Quotes: number; outputSha256: string;
}

function once(strategy: Strategy<unknown>, quotes: readonly Quote[]) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const bt = startBacktest({ strategy, account: 'BENCH', config: defaultControlConfig() });
  for (const q of quotes) bt.quote(q);
  bt.finish();
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { bt, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export function benchBacktest(opts: { quotes?: number } = {}): BacktestBenchRow[] {
  const n = opts.quotes ?? 200_000;
  const quotes = syntheticQuotes({
    symbols: [{ symbol: 'AAPL', mid: 190, tick: 0.01 }, { symbol: 'MSFT', mid: 410, tick: 0.01 }],
    start: Date.parse('2026-11-02T14:30:00Z'), count: n, stepMs: 250, seed: 42,
  });
  const rows: BacktestBenchRow[] = [];
  for (const strategy of [maCrossover, meanReversion] as Strategy<unknown>[]) {
    once(strategy, quotes.slice(0, 20_000)); // warm-up: compiled code, not first-call costs
    const a = once(strategy, quotes);
    const b = once(strategy, quotes);
    const hash = outputHash(a.bt.records());
    if (hash !== outputHash(b.bt.records())) throw new Error(`backtest of ${strategy.id}: two runs of the same input differ`);
    const s = a.bt.stats();
    rows.push({
      strategy: strategy.id, quotes: n, signals: s.signals, approved: s.approved, fills: s.fills,
      wallMs: Math.round(a.wallMs), quotesPerSec: Math.round(n / (a.wallMs / 1000)),
      cpuMsPer1000Quotes: Math.round((a.cpuMs / n) * 1000 * 100) / 100, outputSha256: hash,
    });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(benchBacktest(), null, 2));
