// The P&L report: options → one SQL statement over the views, and results → table, CSV or JSON. Pure.
import { z } from 'zod';
import { DAY_RE } from '../files.ts';
import { PNL_SUMS } from './views.ts';

export const DIMENSIONS = ['account', 'strategy', 'symbol', 'venue', 'day'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

// Unrealized P&L belongs to a position (account, symbol, venue): it has no strategy and no day.
const POSITION_DIMENSIONS: readonly Dimension[] = ['account', 'symbol', 'venue'];

const day = z.string().regex(DAY_RE, 'expected YYYY-MM-DD').refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');

export const pnlOptionsSchema = z.object({
  by: z.string().default('account,symbol')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(DIMENSIONS, { message: `expected any of ${DIMENSIONS.join(',')}` })).refine((a) => new Set(a).size === a.length, 'repeated dimension')),
  from: day.optional(),
  to: day.optional(),
  format: z.enum(FORMATS).default('table'),
}).refine((o) => !o.from || !o.to || o.from <= o.to, { message: 'from is after to', path: ['from'] });

export type PnlOptions = z.infer<typeof pnlOptionsSchema>;

export class OptionsError extends Error {
  readonly code = 'INVALID_FIELD';
  readonly field: string;
  constructor(field: string, message: string) { super(`${field}: ${message}`); this.field = field; this.name = 'OptionsError'; }
}

export function parsePnlOptions(raw: Record<string, unknown>): PnlOptions {
  const r = pnlOptionsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new OptionsError(String(i.path[0] ?? 'options'), i.message);
  }
  return r.data;
}

/** Whether the report can carry unrealized P&L: only for groupings of positions, up to today. */
export const withUnrealized = (o: Pick<PnlOptions, 'by' | 'to'>): boolean =>
  o.by.every((d) => POSITION_DIMENSIONS.includes(d)) && !o.to;

export function pnlSql(o: Pick<PnlOptions, 'by' | 'from' | 'to'>): string {
  const dims = o.by.join(', ');
  const where = [o.from && `day >= DATE '${o.from}'`, o.to && `day <= DATE '${o.to}'`].filter(Boolean);
  // Straight from the row view: one grouping by exactly the asked dimensions (going through pnl_daily
  // would group by all five first, which costs more than the join).
  const p = `SELECT ${dims ? `${dims}, ` : ''}${PNL_SUMS}
    FROM pnl_rows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${dims ? `GROUP BY ${dims}` : ''}`;
  const report = `SELECT ${dims ? `${dims}, ` : ''}fills, qty, notional, realized_pnl, fees, net_pnl,
      signal_cost / nullif(signal_notional, 0) * 1e4 AS slippage_signal_bps,
      arrival_cost / nullif(arrival_notional, 0) * 1e4 AS slippage_arrival_bps
    FROM (${p}) s`;
  if (!withUnrealized(o)) return `${report} ${dims ? `ORDER BY ${dims}` : ''}`;
  const u = `SELECT ${dims ? `${dims}, ` : ''}sum(unrealized_pnl) AS unrealized_pnl FROM positions ${dims ? `GROUP BY ${dims}` : ''}`;
  const cols = ['fills', 'qty', 'notional', 'realized_pnl', 'fees', 'net_pnl'];
  if (!dims) return `SELECT p.*, u.unrealized_pnl, p.net_pnl + coalesce(u.unrealized_pnl, 0) AS total_pnl FROM (${report}) p CROSS JOIN (${u}) u`;
  return `SELECT ${o.by.map((d) => `coalesce(p.${d}, u.${d}) AS ${d}`).join(', ')},
      ${cols.map((c) => `coalesce(p.${c}, 0) AS ${c}`).join(', ')}, p.slippage_signal_bps, p.slippage_arrival_bps,
      coalesce(u.unrealized_pnl, 0) AS unrealized_pnl, coalesce(p.net_pnl, 0) + coalesce(u.unrealized_pnl, 0) AS total_pnl
    FROM (${report}) p FULL OUTER JOIN (${u}) u ON ${o.by.map((d) => `p.${d} IS NOT DISTINCT FROM u.${d}`).join(' AND ')}
    ORDER BY ${o.by.map((d) => `coalesce(p.${d}, u.${d})`).join(', ')}`;
}

export interface QueryColumn { name: string; type: string }
export interface QueryResult { columns: QueryColumn[]; rows: unknown[][]; truncated: boolean }

const MONEY = /(pnl|fees|fee|notional|cost)$/;
const BPS = /_bps$/;

/** A cell as text: money and bps to 2 decimals, other numbers as short as exact, null as empty. */
export function formatCell(column: string, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    // -0.004 is "0.00" to a reader, not "-0.00".
    if (MONEY.test(column) || BPS.test(column)) return (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(10)));
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function formatTable(r: QueryResult): string {
  const head = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => row.map((v, i) => formatCell(head[i], v)));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const numeric = r.columns.map((_, i) => r.rows.some((row) => typeof row[i] === 'number'));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (r.truncated) out.push(`(truncated at ${r.rows.length} rows)`);
  return `${out.join('\n')}\n`;
}

const csvCell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function formatCsv(r: QueryResult): string {
  const head = r.columns.map((c) => c.name);
  const lines = [head.map(csvCell).join(','), ...r.rows.map((row) => row.map((v, i) => csvCell(
    typeof v === 'number' ? String(v) : formatCell(head[i], v))).join(','))];
  return `${lines.join('\n')}\n`;
}

export function formatResult(r: QueryResult, format: Format): string {
  switch (format) {
    case 'table': return formatTable(r);
    case 'csv': return formatCsv(r);
    case 'json': return `${JSON.stringify(r, null, 1)}\n`;
    default: {
      const unhandled: never = format;
      throw new Error(`unknown format ${String(unhandled)}`);
    }
  }
}
