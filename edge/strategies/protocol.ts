// Messages between the supervisor (pool.ts) and a strategy's worker thread (worker.ts).
import type { StrategyFill, StrategyQuote } from './api.ts';
import type { SignalBody } from './host.ts';

export interface WorkerInit {
  path: string;
  /** strategy id → [symbol, position] pairs, from the fills folded so far. */
  positions: Record<string, [string, number][]>;
}

export type ToWorker =
  | { t: 'quote'; quote: StrategyQuote }
  | { t: 'fill'; fill: StrategyFill }
  | { t: 'tick'; now: number };

export type FromWorker =
  | { t: 'ready'; id: string; symbols: readonly string[] | null; timerMs: number | null }
  | { t: 'done'; signals: SignalBody[] }
  | { t: 'error'; message: string }
  /** The module exports no valid strategy: it will not improve by restarting. */
  | { t: 'invalid'; message: string }
  | { t: 'log'; message: string; detail?: Record<string, unknown> };
