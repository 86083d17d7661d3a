// Keeps a strategy's handlers off the wall clock and randomness while they run: Date.now(), new Date()
// without an argument, performance.now() and Math.random() throw, naming ctx.now() instead. A strategy
// that read them would behave differently in a backtest than live, and two backtests of the same input
// would differ. Handlers are synchronous, so the globals are swapped only for the length of one call and
// restored in `finally`; `new Date(t)` (formatting a given time) still works.

export class NondeterminismError extends Error {
  readonly code = 'STRATEGY_NONDETERMINISM';
  constructor(what: string) {
    super(`strategies may not call ${what}: use ctx.now() for time; randomness would make backtests unrepeatable`);
    this.name = 'NondeterminismError';
  }
}

const RealDate = Date;
const realRandom = Math.random;
const realPerfNow = performance.now.bind(performance);

const GuardedDate: DateConstructor = new Proxy(RealDate, {
  construct(target, args: unknown[], newTarget): object {
    if (args.length === 0) throw new NondeterminismError('new Date()');
    return Reflect.construct(target, args, newTarget === GuardedDate ? target : newTarget) as object;
  },
  apply() { throw new NondeterminismError('Date()'); },
  get(target, key, receiver) {
    if (key === 'now') return () => { throw new NondeterminismError('Date.now()'); };
    return Reflect.get(target, key, receiver) as unknown;
  },
});

let depth = 0;

/** Runs `fn` with the clock and randomness forbidden; re-entrant (a fill handled inside a quote's call). */
export function deterministic<T>(fn: () => T): T {
  if (depth++ === 0) {
    globalThis.Date = GuardedDate;
    Math.random = () => { throw new NondeterminismError('Math.random()'); };
    performance.now = () => { throw new NondeterminismError('performance.now()'); };
  }
  try {
    return fn();
  } finally {
    if (--depth === 0) {
      globalThis.Date = RealDate;
      Math.random = realRandom;
      performance.now = realPerfNow;
    }
  }
}
