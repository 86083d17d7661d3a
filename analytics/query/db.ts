// The read-only query database: an in-memory DuckDB whose views read the Parquet files. Defence in
// depth, each enough on its own for its part: the lexical guard (guard.ts), a prepared statement that
// must be a SELECT, file access limited to the data folder with the configuration locked, a time limit
// that interrupts the connection, an optional memory limit, and a row cap. The edge runs it in a process
// of its own (queryProcess.ts); the CLI opens it in its own process directly.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { createMutex } from '../../streams/runtime/consume.ts';
import { DATASETS, type Dataset } from '../columns.ts';
import { checkReadOnlySql, SqlRefused } from './guard.ts';
import { QueryError, timeLimitError, type AnalyticsDb } from './query.ts';
import { sqlString } from '../sql.ts';
import { pnlSql, type QueryResult } from './report.ts';
import { viewStatements } from './views.ts';

export { formatMs, QueryError, timeLimitError, type AnalyticsDb, type QueryErrorCode, type QueryOptions } from './query.ts';

export interface AnalyticsDbOptions {
  dir: string; timeoutMs: number; maxRows: number; threads?: number;
  /** DuckDB memory_limit in MB (10^6 bytes, as DuckDB counts), without spilling to disk: over it, a query fails. */
  memoryLimitMb?: number;
}

export const hasParquet = (root: string, d: Dataset): boolean => {
  const folder = join(root, d.name);
  if (!existsSync(folder)) return false;
  return readdirSync(folder).some((day) => day.startsWith('date=') && readdirSync(join(folder, day)).some((f) => f.endsWith('.parquet')));
};

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL,
]);

/** JSON-safe cells: 64-bit integers and decimals as numbers when exact, else as text. */
export function toJsonRows(reader: DuckDBResultReader, limit: number): unknown[][] {
  const numeric = reader.columnTypes().map((t) => INTEGER_TYPES.has(t.typeId));
  return reader.getRowsJson().slice(0, limit).map((row) => row.map((v, i) => {
    if (!numeric[i] || typeof v !== 'string') return v;
    const n = Number(v);
    return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(v)) ? n : v;
  }));
}

export async function openAnalyticsDb(o: AnalyticsDbOptions): Promise<AnalyticsDb> {
  const root = o.dir.replace(/\/+$/, '');
  const settings: Record<string, string> = {};
  if (o.threads) settings.threads = String(o.threads);
  // No spilling: a query over the limit fails with a clear answer instead of filling the edge's disk.
  if (o.memoryLimitMb) Object.assign(settings, { memory_limit: `${o.memoryLimitMb}MB`, temp_directory: '' });
  const instance = await DuckDBInstance.create(':memory:', settings);
  const admin = await instance.connect();
  const memoryLimit = o.memoryLimitMb
    ? `${o.memoryLimitMb} MB`
    : String((await admin.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0][0]);
  let present = DATASETS.map((d) => hasParquet(root, d));

  for (const s of viewStatements(root, (d) => present[DATASETS.indexOf(d)])) await admin.run(s);
  // From here on: files only under the data folder, no extensions, no settings changes.
  await admin.run(`SET allowed_directories = [${sqlString(`${root}/`)}]`);
  await admin.run('SET enable_external_access = false');
  await admin.run('SET autoinstall_known_extensions = false');
  await admin.run('SET autoload_known_extensions = false');
  await admin.run('SET lock_configuration = true');

  // A dataset's first file turns its empty view into one over the files (views may still be created
  // after the lock: it covers settings, and the files are inside the allowed folder).
  // Serialized: two queries arriving together must not both redefine views on the one admin connection.
  const refreshViews = (() => {
    const serial = createMutex();
    return () => serial(async () => {
      if (present.every(Boolean)) return;
      const now = DATASETS.map((d) => hasParquet(root, d));
      if (now.every((v, i) => v === present[i])) return;
      for (const s of viewStatements(root, (d) => now[DATASETS.indexOf(d)])) await admin.run(s);
      present = now;
    });
  })();

  async function run(sql: string, maxRows: number, timeoutMs: number, checked: boolean, signal?: AbortSignal): Promise<QueryResult> {
    const text = checked ? sql : checkReadOnlySql(sql);
    await refreshViews();
    const con: DuckDBConnection = await instance.connect();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; con.interrupt(); }, timeoutMs);
    const cancel = () => con.interrupt();
    signal?.addEventListener('abort', cancel);
    try {
      if (signal?.aborted) throw new QueryError('CANCELLED', 'query cancelled');
      const extracted = await con.extractStatements(text).catch((e: Error) => { throw new QueryError('BAD_SQL', e.message); });
      if (extracted.count !== 1) throw new QueryError('SQL_REFUSED', `one statement only: found ${extracted.count}`);
      const prepared = await extracted.prepare(0).catch((e: Error) => { throw new QueryError('BAD_SQL', e.message); });
      if (prepared.statementType !== StatementType.SELECT) {
        throw new QueryError('SQL_REFUSED', `read-only endpoint: ${StatementType[prepared.statementType]} statements are not allowed`);
      }
      const reader = await prepared.streamAndReadUntil(maxRows + 1);
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: reader.columnType(i).toString() })),
        rows: toJsonRows(reader, maxRows),
        truncated: reader.currentRowCount > maxRows,
      };
    } catch (e) {
      if (timedOut) throw timeLimitError(timeoutMs);
      if (signal?.aborted) throw new QueryError('CANCELLED', 'query cancelled');
      if (e instanceof QueryError || e instanceof SqlRefused) throw e;
      const message = (e as Error).message;
      // DuckDB's advice that follows (a temp directory, a persistent database) is not the caller's to take.
      const oom = /^Out of Memory Error: ([^\n]*)/.exec(message);
      if (oom) throw new QueryError('QUERY_LIMIT', `query exceeded its ${memoryLimit} memory limit: ${oom[1]}`);
      throw new QueryError('BAD_SQL', message);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      con.closeSync();
    }
  }

  return {
    query: (sql, q = {}) => run(sql, Math.min(q.maxRows ?? o.maxRows, o.maxRows), q.timeoutMs ?? o.timeoutMs, false, q.signal),
    pnl: (p, q = {}) => run(pnlSql(p), o.maxRows, q.timeoutMs ?? o.timeoutMs, true, q.signal),
    close() {
      admin.closeSync();
      instance.closeSync();
    },
  };
}
