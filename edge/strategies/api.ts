// The strategy module interface: what a strategy author writes against, the same in the live runtime
// (runtime.ts, one worker thread per strategy) and in the backtest (edge/backtest). A strategy is
// plain handlers over its own state; time, its position and the way out (`submit`) all come in
// through `ctx`. It never reads the wall clock or randomness itself: that is what makes a backtest of
// the same code reproducible byte for byte.
//
// A module's default export (or its export named `strategy`) is the value `defineStrategy` returns:
//
//   export default defineStrategy({
//     id: 'trend-1', symbols: ['AAPL'], timerMs: 60_000,
//     init: () => ({ prices: [] as number[] }),
//     onQuote(q, ctx) { ...; ctx.submit({ symbol: q.symbol, intent: 'target', target: 10 }); },
//   });

/** The quote a strategy sees: the venue's top of book and our time for it (epoch ms). */
export interface StrategyQuote {
  readonly venue: string;
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
  readonly time: number;
}

/** One of the strategy's own fills (FILL or PARTIAL_FILL on `executions`). */
export interface StrategyFill {
  readonly executionId: string;
  readonly orderId: string;
  readonly symbol: string;
  readonly venue: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
  readonly time: number;
}

/**
 * What `submit` takes: the body of a signed POST /signals without `strategy` (always the strategy's
 * own id) and `time` (the strategy's clock at the call). Validated by the edge's own parser, so the
 * same rules apply live and in a backtest.
 */
export interface StrategySignal {
  symbol: string;
  intent: 'delta' | 'target' | 'flat' | 'exit' | 'add' | 'cancel';
  side?: 'buy' | 'sell';
  quantity?: number;
  quantityType?: 'fixed' | 'dollar_amount' | 'percent_of_equity' | 'risk_amount';
  target?: number;
  orderType?: 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
  limitPrice?: number;
  stopPrice?: number;
  trailAmount?: number;
  trailPercent?: number;
  timeInForce?: 'day' | 'gtc' | 'ioc' | 'fok';
  takeProfit?: { price?: number; percent?: number; amount?: number };
  stopLoss?: { type?: 'stop' | 'stop_limit' | 'trailing_stop'; price?: number; percent?: number; amount?: number; limitPrice?: number };
  price?: number;
  /** Defaults to `<now>.<n>`: deterministic, and the same key on every retry of one submit. */
  idempotencyKey?: string;
}

export interface StrategyContext<S> {
  /** The strategy id: its entry in ORDER_ROUTER_STRATEGIES (account and secrets live there, not here). */
  readonly strategy: string;
  /** The strategy's state, as `init` returned it; handlers may mutate it. */
  readonly state: S;
  /** The strategy's clock (epoch ms): the live quote's or timer's time, or the simulated time in a backtest. */
  now(): number;
  /** Net filled quantity of the strategy in `symbol`, from its own fills. */
  position(symbol: string): number;
  /** Sends a signal through the same gate as any other: the edge's signed POST /signals, or the backtest's decide. */
  submit(signal: StrategySignal): void;
  /** A line in the runtime's log (the backtest keeps these out of its output). */
  log(message: string, detail?: Record<string, unknown>): void;
}

export interface Strategy<S = unknown> {
  readonly id: string;
  /** Quotes of these symbols only (upper case); all symbols when absent. */
  readonly symbols?: readonly string[];
  /** onTimer every timerMs of the strategy's clock; never when absent. */
  readonly timerMs?: number;
  init?(ctx: Omit<StrategyContext<undefined>, 'state'>): S;
  onQuote?(quote: StrategyQuote, ctx: StrategyContext<S>): void;
  onFill?(fill: StrategyFill, ctx: StrategyContext<S>): void;
  onTimer?(now: number, ctx: StrategyContext<S>): void;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;

export class StrategyDefinitionError extends Error {
  readonly code = 'INVALID_STRATEGY';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`invalid strategy: ${field}: ${message}`);
    this.field = field;
    this.name = 'StrategyDefinitionError';
  }
}

/** Checks a definition (naming the bad field) and freezes it. */
export function defineStrategy<S>(s: Strategy<S>): Strategy<S> {
  if (typeof s !== 'object' || s === null) throw new StrategyDefinitionError('strategy', 'must be an object');
  if (typeof s.id !== 'string' || !ID.test(s.id)) throw new StrategyDefinitionError('id', 'must be 1-64 of A-Z a-z 0-9 . _ -');
  if (s.symbols !== undefined && (!Array.isArray(s.symbols) || s.symbols.some((x) => typeof x !== 'string' || x === ''))) {
    throw new StrategyDefinitionError('symbols', 'must be a list of symbols');
  }
  if (s.timerMs !== undefined && !(Number.isInteger(s.timerMs) && s.timerMs >= 10)) throw new StrategyDefinitionError('timerMs', 'must be an integer >= 10');
  for (const k of ['init', 'onQuote', 'onFill', 'onTimer'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'function') throw new StrategyDefinitionError(k, 'must be a function');
  }
  return Object.freeze({ ...s, symbols: s.symbols?.map((x) => x.toUpperCase()) });
}

/** The strategy a loaded module exports (default or `strategy`), checked. */
export function strategyOf(mod: Record<string, unknown>, path: string): Strategy<unknown> {
  const s = (mod.default ?? mod.strategy) as Strategy<unknown> | undefined;
  if (s === undefined) throw new StrategyDefinitionError('default', `${path} exports no strategy (export default defineStrategy({...}))`);
  return defineStrategy(s);
}

export const wantsQuote = (s: Strategy<unknown>, symbol: string): boolean => s.symbols === undefined || s.symbols.includes(symbol);
