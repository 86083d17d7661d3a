// `order-router backtest` arguments: argv → options, or a BacktestUsageError naming the argument. Pure.
import { parseArgs } from 'node:util';
import { RUN_ID } from './store.ts';

export const BACKTEST_USAGE = `  order-router backtest --strategy <module.ts> --from <ISO time> --to <ISO time> [--account A] [--run-id ID] [--controls live|default]
                                                    [--source kafka|parquet]
                                                    run a strategy over the recorded quotes through decide and the paper book;
                                                    fills to ANALYTICS_DIR/_backtests/<run id> (order-router pnl --run <id>)`;

export class BacktestUsageError extends Error {
  readonly code = 'INVALID_FIELD';
  constructor(message: string) { super(message); this.name = 'BacktestUsageError'; }
}

export interface BacktestArgs {
  strategy: string; from: number; to: number; account: string | null; runId: string | null;
  /** live (default): the limits and cost model `control` holds now; default: the built-in desk setup. */
  controls: 'live' | 'default';
  /** kafka (default): the `quotes` topic; parquet: the analytics sink's copy, which compaction does not thin. */
  source: 'kafka' | 'parquet';
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

function time(name: string, v: string | undefined): number {
  if (v === undefined) throw new BacktestUsageError(`--${name}: required (an ISO 8601 time, e.g. 2026-11-02T14:30:00Z)`);
  const ms = Date.parse(v);
  if (!ISO_TIME.test(v) || Number.isNaN(ms)) throw new BacktestUsageError(`--${name}: "${v}" is not an ISO 8601 time with a zone (e.g. 2026-11-02T14:30:00Z)`);
  return ms;
}

export function parseBacktestArgs(argv: string[]): BacktestArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: { strategy: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, account: { type: 'string' }, 'run-id': { type: 'string' }, controls: { type: 'string' }, source: { type: 'string' } },
    }));
  } catch (e) {
    throw new BacktestUsageError((e as Error).message.split('. To specify')[0]);
  }
  const strategy = values.strategy as string | undefined;
  if (strategy === undefined || strategy === '') throw new BacktestUsageError('--strategy: required (the path of a strategy module)');
  const from = time('from', values.from as string | undefined);
  const to = time('to', values.to as string | undefined);
  if (from > to) throw new BacktestUsageError('--from: after --to');
  const runId = (values['run-id'] as string | undefined) ?? null;
  if (runId !== null && !RUN_ID.test(runId)) throw new BacktestUsageError('--run-id: must be 1-64 of A-Z a-z 0-9 . _ -');
  const account = (values.account as string | undefined) ?? null;
  if (account !== null && !/^.{1,64}$/.test(account)) throw new BacktestUsageError('--account: must be 1-64 characters');
  const controls = (values.controls as string | undefined) ?? 'live';
  if (controls !== 'live' && controls !== 'default') throw new BacktestUsageError(`--controls: "${controls}" is neither live nor default`);
  const source = (values.source as string | undefined) ?? 'kafka';
  if (source !== 'kafka' && source !== 'parquet') throw new BacktestUsageError(`--source: "${source}" is neither kafka nor parquet`);
  return { strategy, from, to, account, runId, controls, source };
}
