// Supervises the strategies: one worker thread per module, each fed its events one at a time. A
// strategy that throws, exits, or keeps a handler running past STRATEGY_HANDLER_TIMEOUT_MS (a loop
// that never returns blocks only its own thread, and Worker.terminate() stops it) is terminated and
// started again after a delay that doubles per failure in a row; the others never notice. A strategy
// whose id is not in ORDER_ROUTER_STRATEGIES is refused and not restarted: it has no secret to sign with;
// so is a second module with an id another already runs, and a module that exports no valid strategy.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { StrategyFill, StrategyQuote } from './api.ts';
import { restartDelay, type StrategiesConfig } from './config.ts';
import type { SignalBody } from './host.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

export type SlotState = 'starting' | 'running' | 'backoff' | 'refused' | 'stopped';

export interface StrategyStatus {
  file: string; id: string | null; state: SlotState; restarts: number; failuresInRow: number;
  lastError: string | null; events: number; signals: number; dropped: number;
}

export interface PoolOptions {
  files: readonly string[];
  config: Pick<StrategiesConfig, 'STRATEGY_HANDLER_TIMEOUT_MS' | 'STRATEGY_RESTART_MIN_MS' | 'STRATEGY_RESTART_MAX_MS' | 'STRATEGY_STABLE_MS' | 'STRATEGY_QUEUE_MAX'>;
  log: Logger;
  /** Positions folded from `executions` so far, handed to a (re)started worker. */
  positions(): WorkerInit['positions'];
  /** Whether the strategy id has an entry (and secrets) in ORDER_ROUTER_STRATEGIES. */
  known(id: string): boolean;
  submit(strategy: string, body: SignalBody): void;
  clock?: () => number;
}

export interface StrategyPool {
  quote(q: StrategyQuote): void;
  fill(strategy: string, f: StrategyFill): void;
  status(): StrategyStatus[];
  stop(): Promise<void>;
}

// Loading a module (and type-stripping it) takes longer than a handler: it gets this much more.
const START_GRACE_MS = 15_000;
const WORKER_URL = new URL('./worker.ts', import.meta.url);

interface Slot {
  status: StrategyStatus;
  worker: Worker | null;
  symbols: readonly string[] | null;
  queue: ToWorker[];
  inFlight: ToWorker | null;
  watchdog: NodeJS.Timeout | null;
  ticker: NodeJS.Timeout | null;
  restart: NodeJS.Timeout | null;
  startedAt: number;
}

export function createStrategyPool(o: PoolOptions): StrategyPool {
  const clock = o.clock ?? Date.now;
  const c = o.config;
  let stopping = false;
  const slots: Slot[] = o.files.map((file) => ({
    status: { file, id: null, state: 'starting', restarts: 0, failuresInRow: 0, lastError: null, events: 0, signals: 0, dropped: 0 },
    worker: null, symbols: null, queue: [], inFlight: null, watchdog: null, ticker: null, restart: null, startedAt: 0,
  }));

  function quiet(s: Slot): void {
    for (const t of [s.watchdog, s.ticker, s.restart]) if (t !== null) { clearTimeout(t); clearInterval(t); }
    s.watchdog = s.ticker = s.restart = null;
    s.queue = [];
    s.inFlight = null;
    const w = s.worker;
    s.worker = null;
    if (w !== null) void w.terminate().catch(() => {});
  }

  function fail(s: Slot, reason: string): void {
    if (stopping || s.status.state === 'backoff' || s.status.state === 'refused') return;
    quiet(s);
    const st = s.status;
    st.failuresInRow = st.state === 'running' && clock() - s.startedAt >= c.STRATEGY_STABLE_MS ? 1 : st.failuresInRow + 1;
    st.restarts += 1;
    st.lastError = reason;
    st.state = 'backoff';
    const delayMs = restartDelay(st.failuresInRow, c.STRATEGY_RESTART_MIN_MS, c.STRATEGY_RESTART_MAX_MS);
    o.log.warn({ strategy: st.id ?? st.file, reason, delayMs, failuresInRow: st.failuresInRow }, 'strategy failed; restarting after a delay');
    s.restart = setTimeout(() => { s.restart = null; start(s); }, delayMs);
  }

  function arm(s: Slot, ms: number, what: string): void {
    if (s.watchdog !== null) clearTimeout(s.watchdog);
    s.watchdog = setTimeout(() => fail(s, `${what} did not return within ${ms} ms`), ms);
  }

  function pump(s: Slot): void {
    if (s.status.state !== 'running' || s.inFlight !== null || s.worker === null) return;
    const next = s.queue.shift();
    if (next === undefined) return;
    s.inFlight = next;
    s.status.events += 1;
    arm(s, c.STRATEGY_HANDLER_TIMEOUT_MS, next.t === 'tick' ? 'onTimer' : next.t === 'quote' ? 'onQuote' : 'onFill');
    s.worker.postMessage(next);
  }

  function enqueue(s: Slot, m: ToWorker): void {
    if (s.status.state !== 'running' && s.status.state !== 'starting') return;
    s.queue.push(m);
    if (s.queue.length > c.STRATEGY_QUEUE_MAX) {
      // A strategy that cannot keep up loses its oldest quotes, never a fill: memory stays bounded.
      const i = s.queue.findIndex((x) => x.t !== 'fill');
      if (i >= 0) { s.queue.splice(i, 1); s.status.dropped += 1; }
    }
    pump(s);
  }

  function refuse(s: Slot, id: string | null, reason: string): void {
    quiet(s);
    s.status.id = id;
    s.status.state = 'refused';
    s.status.lastError = reason;
    o.log.error({ file: s.status.file, strategy: id, reason }, 'strategy refused');
  }

  function onMessage(s: Slot, w: Worker, m: FromWorker): void {
    if (s.worker !== w) return; // a message from a worker already replaced
    switch (m.t) {
      case 'ready': {
        if (!o.known(m.id)) return refuse(s, m.id, `strategy ${m.id} is not in ORDER_ROUTER_STRATEGIES (no secret to sign its signals)`);
        // Two modules with one id would both trade for it: the first file in name order keeps it, whichever loaded first.
        const holder = slots.find((x) => x !== s && x.status.id === m.id && x.status.state !== 'refused');
        if (holder !== undefined) {
          if (slots.indexOf(holder) < slots.indexOf(s)) return refuse(s, m.id, `strategy id ${m.id} is already run by ${holder.status.file}`);
          refuse(holder, m.id, `strategy id ${m.id} is already run by ${s.status.file}`);
        }
        s.status.id = m.id;
        s.symbols = m.symbols;
        s.status.state = 'running';
        s.startedAt = clock();
        if (s.watchdog !== null) { clearTimeout(s.watchdog); s.watchdog = null; }
        if (m.timerMs !== null) {
          s.ticker = setInterval(() => { if (!s.queue.some((x) => x.t === 'tick')) enqueue(s, { t: 'tick', now: clock() }); }, m.timerMs);
        }
        o.log.info({ strategy: m.id, file: s.status.file, restarts: s.status.restarts }, 'strategy started');
        pump(s);
        return;
      }
      case 'done':
        if (s.watchdog !== null) { clearTimeout(s.watchdog); s.watchdog = null; }
        s.inFlight = null;
        for (const body of m.signals) { s.status.signals += 1; o.submit(s.status.id!, body); }
        pump(s);
        return;
      case 'error':
        fail(s, m.message);
        return;
      case 'invalid':
        refuse(s, s.status.id, m.message);
        return;
      case 'log':
        o.log.info({ strategy: s.status.id, ...m.detail }, m.message);
        return;
      default: {
        const never: never = m;
        o.log.warn({ message: never }, 'unknown message from a strategy worker');
      }
    }
  }

  function start(s: Slot): void {
    if (stopping) return;
    s.status.state = 'starting';
    const w = new Worker(WORKER_URL, { workerData: { path: s.status.file, positions: o.positions() } satisfies WorkerInit });
    s.worker = w;
    w.on('message', (m: FromWorker) => onMessage(s, w, m));
    w.on('error', (e) => { if (s.worker === w) fail(s, `${e.name}: ${e.message}`); });
    w.on('exit', (code) => { if (s.worker === w) fail(s, `worker exited with code ${code}`); });
    arm(s, c.STRATEGY_HANDLER_TIMEOUT_MS + START_GRACE_MS, 'loading the module');
  }

  for (const s of slots) start(s);

  return {
    quote(q) {
      for (const s of slots) if (s.symbols === null || s.symbols.includes(q.symbol)) enqueue(s, { t: 'quote', quote: q });
    },
    fill(strategy, f) {
      for (const s of slots) if (s.status.id === strategy) enqueue(s, { t: 'fill', fill: f });
    },
    status: () => slots.map((s) => ({ ...s.status })),
    async stop() {
      stopping = true;
      const workers = slots.map((s) => s.worker).filter((w): w is Worker => w !== null);
      for (const s of slots) { quiet(s); s.status.state = 'stopped'; }
      await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
    },
  };
}
