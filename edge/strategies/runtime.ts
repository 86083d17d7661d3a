// The strategies component (`order-router start --only strategies`): the modules of STRATEGIES_DIR,
// each in its own worker thread (pool.ts), fed the live `quotes` and their own fills from `executions`;
// their signals go to the edge as signed POST /signals (signer.ts). Positions are folded from the
// strategy's fills since the beginning of `executions` before any strategy starts, so a restarted
// runtime knows what it holds; quotes recorded before the start are not replayed to strategies. A fill
// recorded twice on `executions` (same executionId) counts once and reaches onFill once.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { loadEdgeConfig } from '../config.ts';
import type { Codec } from '../../schemas/codec.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { quoteTime } from '../../streams/router/costModel.ts';
import { ConfigError } from '../../streams/runtime/env.ts';
import { faultOn } from '../../streams/runtime/faults.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import type { Topics } from '../../schemas/topics.ts';
import { loadStrategiesConfig } from './config.ts';
import { createStrategyPool, type StrategyPool, type StrategyStatus } from './pool.ts';
import { createSigner, type Signer } from './signer.ts';

export interface StrategiesRuntimeOptions {
  kafka: Kafka; codec: Codec; topics: Topics; log: Logger; env: NodeJS.ProcessEnv;
  /** The edge of the same process, when there is one; else STRATEGIES_EDGE_URL or 127.0.0.1:EDGE_PORT. */
  edgeUrl?: string | null;
}

/** Module files of a folder, sorted: `.ts`, `.js`, `.mjs` (not `.d.ts`, not tests). */
export function strategyFiles(dir: string): string[] {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new ConfigError(`STRATEGIES_DIR: ${abs} does not exist`);
  const files = readdirSync(abs).filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(d|test)\.ts$/.test(f)).sort().map((f) => join(abs, f));
  if (files.length === 0) throw new ConfigError(`STRATEGIES_DIR: no strategy modules (*.ts, *.js, *.mjs) in ${abs}`);
  return files;
}

const round = (x: number): number => Math.round(x * 1e9) / 1e9;

/** Net filled quantity per strategy and symbol; a correction or bust moves it by what it changes. */
export function createPositionBook() {
  const book = new Map<string, Map<string, number>>();
  const fills = new Map<string, number>(); // executionId → signed quantity, for amendments
  const add = (strategy: string, symbol: string, dq: number) => {
    let m = book.get(strategy);
    if (m === undefined) book.set(strategy, (m = new Map()));
    m.set(symbol, round((m.get(symbol) ?? 0) + dq));
  };
  return {
    /** False when the record changes nothing: a fill already counted (`executions` may hold one fact twice). */
    apply(e: ExecutionReport): boolean {
      const sign = e.side === 'BUY' ? 1 : -1;
      if (e.type === 'FILL' || e.type === 'PARTIAL_FILL') {
        // Test-only fault (runtime/faults.ts): the repeat is counted and handed over again.
        if (fills.has(e.executionId) && !faultOn('strategy-double-fill')) return false;
        fills.set(e.executionId, sign * e.lastQty);
        add(e.strategy, e.symbol, sign * e.lastQty);
        return true;
      } else if ((e.type === 'CORRECTION' || e.type === 'BUST') && e.refExecutionId !== null && fills.has(e.refExecutionId)) {
        const before = fills.get(e.refExecutionId)!;
        const after = e.type === 'BUST' ? 0 : sign * e.lastQty;
        fills.set(e.refExecutionId, after);
        add(e.strategy, e.symbol, after - before);
        return true;
      }
      return false;
    },
    snapshot(): Record<string, [string, number][]> {
      return Object.fromEntries([...book].map(([s, m]) => [s, [...m]]));
    },
  };
}

export function createStrategiesRuntime(o: StrategiesRuntimeOptions) {
  const config = loadStrategiesConfig(o.env);
  const files = strategyFiles(config.STRATEGIES_DIR);
  const secrets = new Map(loadEdgeConfig(o.env).strategies.map((s) => [s.id, s.secrets[0]]));
  const edgeUrl = config.STRATEGIES_EDGE_URL ?? o.edgeUrl ?? `http://127.0.0.1:${config.EDGE_PORT}`;
  const positions = createPositionBook();
  let pool: StrategyPool | null = null;
  let tail: Tail | null = null;
  let signer: Signer | null = null;

  async function onMessage(topic: string, m: KafkaMessage): Promise<void> {
    if (m.value === null) return;
    try {
      if (topic === o.topics.quotes) {
        if (pool === null) return; // recorded before the start: not replayed to strategies
        const q = await o.codec.decode('Quote', m.value);
        pool.quote({ venue: q.venue, symbol: q.symbol, bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize, time: quoteTime(q) });
      } else if (topic === o.topics.executions) {
        const e = await o.codec.decode('ExecutionReport', m.value);
        const fresh = positions.apply(e);
        if (fresh && pool !== null && (e.type === 'FILL' || e.type === 'PARTIAL_FILL')) {
          pool.fill(e.strategy, {
            executionId: e.executionId, orderId: e.orderId, symbol: e.symbol, venue: e.venue, side: e.side,
            quantity: e.lastQty, price: e.lastPrice, fee: e.fee, time: Math.floor(e.hlc / 1000),
          });
        }
      }
    } catch (err) {
      o.log.error({ err, topic, offset: m.offset }, 'record skipped by the strategy runtime');
    }
  }

  return {
    async start(): Promise<void> {
      signer = createSigner({ edgeUrl, secretOf: (id) => secrets.get(id), log: o.log });
      tail = await startTail(o.kafka, [o.topics.quotes, o.topics.executions], onMessage);
      await tail.caughtUp;
      const s = signer;
      pool = createStrategyPool({
        files, config, log: o.log, positions: () => positions.snapshot(), known: (id) => secrets.has(id),
        submit: (strategy, body) => s.submit(strategy, body),
      });
      o.log.info({ strategies: files.length, edgeUrl }, 'strategy runtime started');
    },
    async stop(): Promise<void> {
      await tail?.stop();
      await pool?.stop();
      await signer?.drain();
    },
    status: (): StrategyStatus[] => pool?.status() ?? [],
    signals: () => signer?.stats() ?? null,
  };
}
