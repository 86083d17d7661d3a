// `order-router pnl`, `order-router query` and `order-router analytics-verify`: the quant's commands.
// Parsing and printing only; the work is in db.ts and report.ts, and for analytics-verify and analytics-sql in
// the sink's manifests (../sink/store.ts): the manifests are the one record of which files exist, shared by
// both halves, so the query side reads them rather than keeping a second listing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadAnalyticsConfig } from '../config.ts';
import { openAnalyticsDb, QueryError } from './db.ts';
import { SqlRefused } from './guard.ts';
import { sqlString } from '../sql.ts';
import { FORMATS, formatResult, OptionsError, parsePnlOptions, type Format } from './report.ts';
import { loadAllManifests, verifyFiles } from '../sink/store.ts';
import { viewStatements } from './views.ts';

export const ANALYTICS_USAGE = `  order-router pnl [--by account,strategy,symbol,venue,day] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format table|csv|json] [--run ID]
                                                    P&L, fees and slippage from the Parquet files (ANALYTICS_DIR; --run: a backtest's)
  order-router query "<SQL>" [--format table|csv|json] [--max-rows N]
                                                    read-only SQL over the views (fills, pnl_daily, positions, ...)
  order-router analytics-verify                     recompute every file's sha256 and row count against the manifests
  order-router analytics-sql                        print the views' SQL for a DuckDB shell (duckdb -init views.sql)`;

export const ANALYTICS_COMMANDS = ['pnl', 'query', 'analytics-verify', 'analytics-sql'] as const;

/** Runs one analytics command; returns the exit code. */
export async function runAnalyticsCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadAnalyticsConfig(env);
  // `| head` closing the pipe is the reader being done, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
  try {
    switch (command) {
      case 'pnl': {
        const { values } = parseArgs({ args, options: { by: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, run: { type: 'string' } } });
        const { run, ...rest } = values;
        const o = parsePnlOptions(rest);
        const dir = run === undefined ? config.ANALYTICS_DIR : backtestDir(config.ANALYTICS_DIR, run);
        const db = await openAnalyticsDb({ dir, timeoutMs: config.ANALYTICS_QUERY_TIMEOUT_MS, maxRows: config.ANALYTICS_QUERY_MAX_ROWS });
        try { process.stdout.write(formatResult(await db.pnl(o), o.format)); } finally { db.close(); }
        return 0;
      }
      case 'query': {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { format: { type: 'string', default: 'table' }, 'max-rows': { type: 'string' } } });
        if (positionals.length !== 1) { console.error('query: give the SQL as one quoted argument'); return 2; }
        const format = values.format as Format;
        if (!FORMATS.includes(format)) { console.error(`--format: expected ${FORMATS.join(', ')}`); return 2; }
        const maxRows = values['max-rows'] === undefined ? undefined : Number(values['max-rows']);
        if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows > 0)) { console.error('--max-rows: expected a positive integer'); return 2; }
        const db = await openAnalyticsDb({ dir: config.ANALYTICS_DIR, timeoutMs: config.ANALYTICS_QUERY_TIMEOUT_MS, maxRows: maxRows ?? config.ANALYTICS_QUERY_MAX_ROWS });
        try { process.stdout.write(formatResult(await db.query(positionals[0]), format)); } finally { db.close(); }
        return 0;
      }
      case 'analytics-verify': {
        const r = await verifyAnalyticsFiles(config.ANALYTICS_DIR);
        for (const p of r.problems) console.error(`${p.path}: ${p.problem}`);
        console.log(`${r.files} files checked, ${r.problems.length} problems`);
        return r.problems.length === 0 ? 0 : 1;
      }
      case 'analytics-sql': {
        const present = new Set((await loadAllManifests(config.ANALYTICS_DIR)).filter((m) => m.files.length > 0).map((m) => m.dataset));
        for (const s of viewStatements(config.ANALYTICS_DIR, (d) => present.has(d.name))) process.stdout.write(`${s.replace(/\n\s*/g, ' ')};\n`);
        return 0;
      }
      default:
        console.error(`unknown analytics command ${command}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof OptionsError || e instanceof SqlRefused || e instanceof QueryError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

/** A backtest run's folder (edge/backtest/store.ts); the same views read it as they read the live files. */
function backtestDir(root: string, run: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(run)) throw new OptionsError('run', 'must be 1-64 of A-Z a-z 0-9 . _ -');
  const dir = join(root, '_backtests', run);
  if (!existsSync(join(dir, 'run.json'))) throw new OptionsError('run', `no backtest run ${run} in ${root}`);
  return dir;
}

/** Checks the manifests against the files, counting rows with DuckDB. */
export async function verifyAnalyticsFiles(dir: string) {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    return await verifyFiles(dir, async (path) => {
      const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(path)})`);
      return Number(r.getRows()[0][0]);
    });
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
