// Runs one strategy's handlers: keeps its clock, its positions and its timers, builds its context, and
// turns each `submit` into the body of a signed POST /signals. Pure apart from what the caller passes
// in: the live worker (worker.ts) and the backtest (edge/backtest/simulate.ts) both drive this same
// code, so a strategy behaves the same in both. Handlers run under guard.ts: no wall clock, no randomness.
import type { Strategy, StrategyContext, StrategyFill, StrategyQuote, StrategySignal } from './api.ts';
import { wantsQuote } from './api.ts';
import { deterministic } from './guard.ts';

/** The body the edge's signedSignal parser reads (edge/signal.ts). */
export interface SignalBody extends StrategySignal {
  strategy: string;
  time: number;
  idempotencyKey: string;
}

export interface HostOptions {
  /** Position per symbol when the host starts (the live runtime folds the strategy's past fills). */
  positions?: ReadonlyMap<string, number>;
  submit(body: SignalBody): void;
  log?(message: string, detail?: Record<string, unknown>): void;
}

export interface StrategyHost {
  quote(q: StrategyQuote): void;
  fill(f: StrategyFill): void;
  /** Moves the clock to `now`, firing the timers due up to it. */
  advance(now: number): void;
  positions(): ReadonlyMap<string, number>;
}

// A clock that jumps (a gap in recorded quotes, a suspended machine) fires at most this many timers at
// once; the rest are skipped, as a live timer would not have fired while nothing ran either.
const MAX_TIMERS_PER_STEP = 1000;

export function createStrategyHost<S>(strategy: Strategy<S>, o: HostOptions): StrategyHost {
  const positions = new Map(o.positions ?? []);
  let now = Number.NEGATIVE_INFINITY;
  let nextTimer: number | null = null;
  let seq = 0;
  const log = o.log ?? (() => {});
  const base = {
    strategy: strategy.id,
    now: () => now,
    position: (symbol: string) => positions.get(symbol.toUpperCase()) ?? 0,
    submit(signal: StrategySignal) {
      seq += 1;
      o.submit({ ...signal, strategy: strategy.id, time: now, idempotencyKey: signal.idempotencyKey ?? `${now}.${seq}` });
    },
    log,
  };
  let ctx: StrategyContext<S> | null = null;
  const context = (): StrategyContext<S> => {
    if (ctx === null) {
      const state = strategy.init ? deterministic(() => strategy.init!(base)) : (undefined as S);
      ctx = { ...base, state };
    }
    return ctx;
  };

  function advance(t: number): void {
    if (!(t >= now)) return; // the clock never runs back: a late record keeps the time already reached
    if (now === Number.NEGATIVE_INFINITY) {
      now = t;
      context();
      if (strategy.timerMs !== undefined) nextTimer = t + strategy.timerMs;
      return;
    }
    if (nextTimer !== null && strategy.timerMs !== undefined) {
      let fired = 0;
      while (nextTimer <= t) {
        if (fired++ < MAX_TIMERS_PER_STEP) {
          now = nextTimer;
          const at = nextTimer;
          deterministic(() => strategy.onTimer?.(at, context()));
        }
        nextTimer += strategy.timerMs;
      }
    }
    now = t;
  }

  return {
    quote(q) {
      advance(q.time);
      if (wantsQuote(strategy, q.symbol)) deterministic(() => strategy.onQuote?.(q, context()));
    },
    fill(f) {
      advance(f.time);
      const signed = f.side === 'BUY' ? f.quantity : -f.quantity;
      positions.set(f.symbol, round((positions.get(f.symbol) ?? 0) + signed));
      deterministic(() => strategy.onFill?.(f, context()));
    },
    advance,
    positions: () => positions,
  };
}

/** Quantities are decimal (0.001 BTC): sums of fills are rounded so that 0.1 + 0.2 reads 0.3. */
const round = (x: number): number => Math.round(x * 1e9) / 1e9;
