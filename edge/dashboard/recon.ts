// The P&L check, pure: realized P&L and fees per position as the Postgres projection holds them beside
// the same figures from the DuckDB views over the sink's Parquet files. Both are the one position
// fold's output, so they must agree once the sink has written what the projection has; the page shows
// where they do not. Unrealized P&L is left out on purpose: DuckDB marks at the last fill, the
// dashboard at the venue's mid.
import type { PositionRow } from './book.ts';

export interface DuckResult { columns: readonly { name: string }[]; rows: readonly (readonly unknown[])[] }

export interface ReconRow {
  account: string; symbol: string; venue: string;
  pg: { realized: number; fees: number } | null;
  duck: { realized: number; fees: number } | null;
  match: boolean;
}

export interface ReconView { at: number; rows: ReconRow[]; matched: number; total: number; error: string | null }

/** Sums in another order may differ in the last bits of a double; a cent's millionth is not a difference. */
const TOLERANCE = 1e-6;
const same = (a: number, b: number) => Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));

export function reconcile(at: number, positions: readonly PositionRow[], duck: DuckResult): ReconView {
  const col = (name: string) => duck.columns.findIndex((c) => c.name === name);
  const [ia, is, iv, ir, ife] = ['account', 'symbol', 'venue', 'realized_pnl', 'fees'].map(col);
  const rows = new Map<string, ReconRow>();
  const row = (account: string, symbol: string, venue: string): ReconRow => {
    const key = `${account}|${symbol}|${venue}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { account, symbol, venue, pg: null, duck: null, match: false }));
    return r;
  };
  for (const p of positions) row(p.account, p.symbol, p.venue).pg = { realized: p.realizedPnl, fees: p.fees };
  if (Math.min(ia, is, iv, ir, ife) >= 0) {
    for (const r of duck.rows) {
      row(String(r[ia]), String(r[is]), String(r[iv])).duck = { realized: Number(r[ir] ?? 0), fees: Number(r[ife] ?? 0) };
    }
  }
  const out = [...rows.values()].map((r) => ({
    ...r,
    match: r.pg !== null && r.duck !== null && same(r.pg.realized, r.duck.realized) && same(r.pg.fees, r.duck.fees),
  })).sort((a, b) => `${a.account}|${a.symbol}|${a.venue}`.localeCompare(`${b.account}|${b.symbol}|${b.venue}`));
  return { at, rows: out, matched: out.filter((r) => r.match).length, total: out.length, error: null };
}
