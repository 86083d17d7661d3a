// The analytics query face shared by the in-process database (db.ts) and the edge's query process
// (queryProcess.ts), and the errors they answer with. No DuckDB here: the edge loads this, not DuckDB.
import type { PnlOptions, QueryResult } from './report.ts';

/**
 * SQL_REFUSED, BAD_SQL and QUERY_LIMIT (time or memory) are about the caller's query; QUERY_BUSY (every
 * slot and queue place taken) and ANALYTICS_UNAVAILABLE (the query process is gone) about our capacity;
 * CANCELLED: the caller went away.
 */
export type QueryErrorCode = 'SQL_REFUSED' | 'BAD_SQL' | 'QUERY_LIMIT' | 'QUERY_BUSY' | 'ANALYTICS_UNAVAILABLE' | 'CANCELLED';

export class QueryError extends Error {
  readonly code: QueryErrorCode;
  constructor(code: QueryErrorCode, message: string) { super(message); this.code = code; this.name = 'QueryError'; }
}

export interface QueryOptions {
  maxRows?: number;
  timeoutMs?: number;
  /** Aborting interrupts the query (the HTTP caller went away). */
  signal?: AbortSignal;
  /** Low: waits behind the desk's queries and gives up its queue place to one (queryProcess.ts; in process, no queue). */
  priority?: 'normal' | 'low';
}

export interface AnalyticsDb {
  query(sql: string, opts?: QueryOptions): Promise<QueryResult>;
  pnl(o: Pick<PnlOptions, 'by' | 'from' | 'to'>, opts?: Omit<QueryOptions, 'maxRows'>): Promise<QueryResult>;
  close(): void;
}

/** 10000 → "10 s", 1500 → "1.5 s", 300 → "300 ms". */
export const formatMs = (ms: number): string => (ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`);

export const timeLimitError = (ms: number): QueryError => new QueryError('QUERY_LIMIT', `query exceeded its ${formatMs(ms)} time limit`);
