// The analytics query process, started by queryProcess.ts: the read-only DuckDB of db.ts (its lexical
// guard, SELECT-only prepared statements, locked configuration, time limit, memory limit and row cap)
// behind the IPC channel. It lowers its own scheduling priority again once open (DuckDB's threads
// included), so when the cores are short the kernel runs the edge's intake before a heavy query.
import { openAnalyticsDb } from './db.ts';
import { lowerPriority, type FromWorker, type ToWorker, type WireError, type WorkerOptions } from './queryProcess.ts';

const toWire = (e: unknown): WireError => {
  const err = e as { name?: string; code?: unknown; message?: string };
  return { name: err.name ?? 'Error', code: typeof err.code === 'string' ? err.code : undefined, message: err.message ?? String(e) };
};

const o = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
const send = (m: FromWorker): void => { process.send?.(m); };
const db = await openAnalyticsDb({ dir: o.dir, timeoutMs: o.timeoutMs, maxRows: o.maxRows, threads: o.threads, memoryLimitMb: o.memoryLimitMb });
lowerPriority(process.pid, o.nice);

const running = new Map<number, AbortController>();
process.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') { running.get(m.id)?.abort(); return; }
  const ac = new AbortController();
  running.set(m.id, ac);
  const work = m.type === 'query'
    ? db.query(m.sql, { maxRows: m.maxRows, timeoutMs: m.timeoutMs, signal: ac.signal })
    : db.pnl(m.options, { timeoutMs: m.timeoutMs, signal: ac.signal });
  work.then(
    (result) => send({ type: 'result', id: m.id, result }),
    (e: unknown) => send({ type: 'error', id: m.id, error: toWire(e) }),
  ).finally(() => running.delete(m.id));
});
// The edge went away (even killed): nothing here outlives it.
process.on('disconnect', () => { db.close(); process.exit(0); });
send({ type: 'ready' });
