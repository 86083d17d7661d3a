// `order-router backtest`: reads the recorded quotes, runs the strategy through simulate.ts, stores the
// run in the analytics store and prints its summary (run id, counts, the output's sha256) as JSON.
// Progress goes to stderr.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kafka } from 'kafkajs';
import { loadAnalyticsConfig } from '../../analytics/config.ts';
import { loadEdgeConfig } from '../config.ts';
import { createCodec, type Codec } from '../../schemas/codec.ts';
import type { Quote } from '../../schemas/types.ts';
import type { ControlConfig } from '../../streams/decide/config.ts';
import { applyControl, defaultControlConfig } from '../../streams/decide/controlFold.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { topicNames } from '../../schemas/topics.ts';
import { strategyOf, StrategyDefinitionError, type Strategy } from '../strategies/api.ts';
import { BacktestUsageError, parseBacktestArgs } from './args.ts';
import { outputHash, startBacktest } from './simulate.ts';
import { NoParquetQuotes, readQuotes, readQuotesParquet } from './source.ts';
import { storeRun, type RunSummary } from './store.ts';

export async function loadStrategyModule(path: string): Promise<Strategy<unknown>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new BacktestUsageError(`--strategy: cannot load ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  return strategyOf(mod, path);
}

/** The strategy's account from ORDER_ROUTER_STRATEGIES, when the edge's configuration names it. */
function configuredAccount(env: NodeJS.ProcessEnv, id: string): string | null {
  try {
    return loadEdgeConfig(env).strategies.find((s) => s.id === id)?.account ?? null;
  } catch {
    return null;
  }
}

/**
 * The desk's limits and cost model as `control` holds them now (the fold the decide processor makes at
 * start), so a backtest prices and limits orders as live does. Trading states are left out: a halt of
 * the live account must not deny every backtest signal.
 */
async function liveConfig(kafka: Kafka, codec: Codec, topic: string): Promise<{ config: ControlConfig; applied: number }> {
  let config = defaultControlConfig();
  let applied = 0;
  await readToEnd(kafka, [topic], async (_t, m) => {
    if (m.value === null) return;
    const c = await codec.decode('Control', m.value);
    if (c.kind === 'TRADING_STATE') return;
    try { config = applyControl(config, c); applied++; } catch { /* refused by the processor too (dead-lettered there) */ }
  });
  return { config, applied };
}

async function missingTopics(kafka: Kafka, wanted: string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    return wanted.filter((t) => !present.has(t));
  } finally {
    await admin.disconnect();
  }
}

export async function runBacktestCommand(argv: string[], rawEnv: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const args = parseBacktestArgs(argv);
    const strategy = await loadStrategyModule(args.strategy);
    const env = loadRuntimeEnv(rawEnv);
    const log = createLogger('backtest', env.LOG_LEVEL);
    const account = args.account ?? configuredAccount(rawEnv, strategy.id) ?? `backtest-${strategy.id}`;
    const kafka = createKafka(env, 'backtest', log);
    const topics = topicNames(env.TOPIC_PREFIX);
    const topic = topics.quotes;
    const codec = createCodec(env.SCHEMA_REGISTRY_URL);
    const analyticsDir = loadAnalyticsConfig(rawEnv).ANALYTICS_DIR;
    const wanted = [...(args.source === 'kafka' ? [topic] : []), ...(args.controls === 'live' ? [topics.control] : [])];
    const missing = wanted.length === 0 ? [] : await missingTopics(kafka, wanted);
    if (missing.length > 0) {
      console.error(`no topic ${missing.join(', ')} on ${env.KAFKA_BROKERS.join(',')}: nothing recorded there (is TOPIC_PREFIX the pipeline's?)`);
      return 1;
    }
    const control = args.controls === 'live' ? await liveConfig(kafka, codec, topics.control) : { config: defaultControlConfig(), applied: 0 };
    let shown = 0;
    let quotes: Quote[];
    if (args.source === 'parquet') {
      try {
        quotes = await readQuotesParquet(analyticsDir, args.from, args.to);
      } catch (e) {
        if (!(e instanceof NoParquetQuotes)) throw e;
        console.error(e.message);
        return 1;
      }
    } else {
      quotes = await readQuotes(kafka, codec, topic, args.from, args.to, (p) => {
        const pct = p.total === 0n ? 100 : Number((p.read * 100n) / p.total);
        if (pct >= shown + 10 || (pct === 100 && shown < 100)) { shown = pct; process.stderr.write(`[backtest] read ${p.read}/${p.total} records of ${topic} (${pct}%)\n`); }
      });
    }
    process.stderr.write(`[backtest] ${quotes.length} quotes between ${new Date(args.from).toISOString()} and ${new Date(args.to).toISOString()}\n`);
    const bt = startBacktest({ strategy, account, config: control.config });
    for (const q of quotes) {
      try {
        bt.quote(q);
      } catch (e) {
        // A backtest has no restart: the strategy's error ends the run, with where it happened.
        console.error(`strategy ${strategy.id} failed at the quote of ${q.venue} ${q.symbol} ${new Date(Math.floor(q.hlc / 1000)).toISOString()}: ${(e as Error).message}`);
        return 1;
      }
    }
    bt.finish();
    const records = bt.records();
    const sha = outputHash(records);
    const from = new Date(args.from).toISOString();
    const to = new Date(args.to).toISOString();
    const runId = args.runId ?? `bt-${createHash('sha256').update(`${strategy.id}|${account}|${from}|${to}|${args.controls}|${sha}`).digest('hex').slice(0, 12)}`;
    const summary: RunSummary = {
      runId, strategy: strategy.id, account, from, to, source: args.source === 'kafka' ? `kafka:${topic}` : `parquet:${analyticsDir}/quotes`, controls: args.controls, controlsApplied: control.applied, outputSha256: sha, stats: bt.stats(),
    };
    const dir = await storeRun(analyticsDir, summary, records, log);
    process.stdout.write(`${JSON.stringify({ ...summary, dir })}\n`);
    process.stderr.write(`[backtest] stored; report with: order-router pnl --run ${runId}\n`);
    return 0;
  } catch (e) {
    if (e instanceof BacktestUsageError || e instanceof StrategyDefinitionError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
}
