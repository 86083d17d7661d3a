// One strategy in its own worker thread: loads the module, runs its handlers through the host, and
// answers each event with the signals it submitted. A handler that throws is reported and the thread
// ends; one that never returns is terminated by the supervisor's watchdog (pool.ts). The strategy's
// secret never enters this thread: the supervisor signs.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { strategyOf, StrategyDefinitionError, type Strategy } from './api.ts';
import { createStrategyHost, type SignalBody } from './host.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  const mod = await import(pathToFileURL(init.path).href) as Record<string, unknown>;
  let strategy: Strategy<unknown>;
  try {
    strategy = strategyOf(mod, init.path);
  } catch (e) {
    if (!(e instanceof StrategyDefinitionError)) throw e;
    post({ t: 'invalid', message: e.message });
    return;
  }
  let out: SignalBody[] = [];
  const host = createStrategyHost(strategy, {
    positions: new Map(init.positions[strategy.id] ?? []),
    submit: (b) => out.push(b),
    log: (message, detail) => post({ t: 'log', message, detail }),
  });
  post({ t: 'ready', id: strategy.id, symbols: strategy.symbols ?? null, timerMs: strategy.timerMs ?? null });
  port.on('message', (m: ToWorker) => {
    out = [];
    try {
      switch (m.t) {
        case 'quote': host.quote(m.quote); break;
        case 'fill': host.fill(m.fill); break;
        case 'tick': host.advance(m.now); break;
        default: { const never: never = m; throw new Error(`unknown message ${String(never)}`); }
      }
    } catch (e) {
      post({ t: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      return;
    }
    post({ t: 'done', signals: out });
  });
}

main().catch((e: unknown) => post({ t: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
