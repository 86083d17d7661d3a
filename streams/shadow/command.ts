// `order-router shadow-report [--json]`: the shadow-against-live table from Postgres.
import { parseArgs } from 'node:util';
import { createPool, migrate } from '../runtime/db.ts';
import { loadRuntimeEnv } from '../runtime/env.ts';
import { shadowReport, type ReportLine } from './report.ts';
import { loadOutcomes } from './store.ts';

export const SHADOW_USAGE = '  order-router shadow-report [--json]            shadow venues against live: fill rate, slippage, cost vs estimate';

const fmt = (x: number | null, digits = 2) => (x === null ? '-' : x.toFixed(digits));

export function formatReport(lines: readonly ReportLine[]): string {
  const head = ['symbol', 'book', 'venue', 'orders', 'fillRate', 'slipBps', 'costBps', 'estBps', 'vsEstBps'];
  const rows = lines.map((l) => [l.symbol, l.book, l.venue, String(l.orders), fmt(l.fillRate, 3), fmt(l.slippageBps), fmt(l.realisedCostBps), fmt(l.estimatedBps), fmt(l.vsEstimateBps)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

export async function runShadowReport(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const env = loadRuntimeEnv(process.env);
  await migrate(env);
  const pool = createPool(env);
  try {
    const lines = shadowReport(await loadOutcomes(pool));
    console.log(values.json ? JSON.stringify({ lines }, null, 2) : formatReport(lines));
    return 0;
  } finally {
    await pool.end();
  }
}
