// `audit verify`, the pure part: column-by-column differences between a live row and its rebuilt twin,
// and the report an auditor reads.
import type { BrokenLink } from '../../schemas/hashChain.ts';

export type AuditedTable = 'positions' | 'executions' | 'position_history' | 'daily_realized_pnl' | 'rebuild';

export interface Difference {
  table: AuditedTable;
  /** The row's key: execution id, or account|symbol|venue. */
  key: string;
  /** '*' when the whole row is on one side only. */
  column: string;
  live: unknown;
  rebuilt: unknown;
}

export const ABSENT = '(absent)';

type Row = Record<string, unknown>;

/** Every column whose value differs; one '*' difference when a side has no row. */
export function diffRow(table: AuditedTable, key: string, live: Row | null, rebuilt: Row | null): Difference[] {
  if (live === null || rebuilt === null) {
    return [{ table, key, column: '*', live: live === null ? ABSENT : 'row', rebuilt: rebuilt === null ? ABSENT : 'row' }];
  }
  const columns = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])].sort();
  return columns
    .filter((c) => !sameValue(live[c], rebuilt[c]))
    .map((c) => ({ table, key, column: c, live: live[c] ?? null, rebuilt: rebuilt[c] ?? null }));
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export interface VerifyReport {
  ok: boolean;
  /** The scratch schema the rebuild was written to (gone when the command ends). */
  scratchSchema: string;
  topic: string;
  /** Records of the topic below the projection's committed offsets: what both sides saw. */
  events: number;
  /** Distinct execution ids among them: the rows `executions` must hold. */
  stored: number;
  /** Records carrying an execution id already seen (a venue's repeat). */
  repeats: number;
  positions: number;
  partitions: number;
  /** Records past the projection's committed offsets at the time of the check: not compared. */
  notYetProjected: number;
  differences: Difference[];
  chainRows: number;
  brokenLinks: BrokenLink[];
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function formatReport(r: VerifyReport): string[] {
  const lines: string[] = [];
  const pending = r.notYetProjected > 0 ? `; ${r.notYetProjected} newer events not yet projected, not compared` : '';
  if (r.ok) {
    lines.push(`OK: ${r.events} events (${r.stored} stored, ${r.repeats} repeats), ${r.positions} positions, `
      + `hash chain intact over ${r.chainRows} rows in ${r.partitions} partitions${pending}`);
    return lines;
  }
  for (const d of r.differences) {
    lines.push(`DIFF ${d.table} ${d.key} ${d.column}: live=${show(d.live)} rebuilt=${show(d.rebuilt)}`);
  }
  for (const b of r.brokenLinks) {
    lines.push(`BROKEN LINK partition=${b.partition} offset=${b.offset} execution_id=${b.executionId}: `
      + `stored hash ${b.stored ?? '(none)'}, recomputed ${b.expected}`);
  }
  lines.push(`FAILED: ${r.differences.length} differences, ${r.brokenLinks.length} broken links `
    + `(${r.events} events, ${r.stored} stored, ${r.positions} positions compared${pending})`);
  return lines;
}
