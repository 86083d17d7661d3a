// The edge's analytics, out of intake's way: the read-only DuckDB (db.ts) runs in a child process of its
// own (queryWorker.ts), with a memory limit, few threads and a lower scheduling priority, behind a
// concurrency cap and a queue. The time limit is enforced twice: the child interrupts its own query at
// the limit (and the caller is answered then in any case), and a child that has not answered a few
// seconds later is killed (and started again on the next query), so a stuck query cannot hold a slot, a
// core or memory for long past its limit.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';
import { QueryError, timeLimitError, type AnalyticsDb, type QueryOptions } from './query.ts';
import { checkReadOnlySql, SqlRefused } from './guard.ts';
import type { PnlOptions, QueryResult } from './report.ts';

export interface QueryProcessOptions {
  dir: string;
  timeoutMs: number;
  maxRows: number;
  memoryLimitMb: number;
  threads: number;
  /** Queries running at once, and waiting for a slot; beyond both: QUERY_BUSY. */
  concurrency: number;
  queue: number;
  /** Niceness of the child (0-19). */
  nice: number;
  log?: Logger;
}

/** What the child is started with (its argv[2], as JSON). */
export type WorkerOptions = Pick<QueryProcessOptions, 'dir' | 'timeoutMs' | 'maxRows' | 'memoryLimitMb' | 'threads' | 'nice'>;

type Job =
  | { type: 'query'; sql: string; maxRows?: number; timeoutMs: number }
  | { type: 'pnl'; options: Pick<PnlOptions, 'by' | 'from' | 'to'>; timeoutMs: number };

export type ToWorker = (Job & { id: number }) | { type: 'cancel'; id: number };

export interface WireError { name: string; code?: string; message: string }

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: QueryResult }
  | { type: 'error'; id: number; error: WireError };

/** After the time limit, how long the child gets to answer before it is killed (its slot held until then). */
export const KILL_GRACE_MS = 5000;
/** After the time limit, how long the caller waits for the child's own answer before it is given one. */
const ANSWER_SLACK_MS = 250;
// Generous: the child starts at a low priority, and on a machine short of cores that takes a while.
const START_TIMEOUT_MS = 120_000;

const workerPath = fileURLToPath(new URL('./queryWorker.ts', import.meta.url));

/**
 * Lowers a process's scheduling priority. Linux niceness is per thread (a new thread inherits its
 * creator's), so every thread there is now; and with autogroups (a session's processes share one CPU
 * share) niceness only counts inside the group, so the group's too: the query process has a session of
 * its own, or the CPU it takes would be charged to the edge's group.
 */
export function lowerPriority(pid: number, nice: number): void {
  try { writeFileSync(`/proc/${pid}/autogroup`, String(nice)); } catch { /* no autogroups here */ }
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), nice);
  } catch {
    try { os.setPriority(pid, nice); } catch { /* not permitted: the default priority */ }
  }
}

export function fromWire(e: WireError): Error {
  if (e.name === 'SqlRefused') return new SqlRefused(e.message);
  if (e.name === 'QueryError') return new QueryError(e.code as QueryError['code'], e.message);
  return new Error(e.message);
}

const unavailable = (why: string) => new QueryError('ANALYTICS_UNAVAILABLE', `the analytics query process ${why}; try again`);

interface Pending { child: ChildProcess; resolve(r: QueryResult): void; reject(e: Error): void }
interface Waiter { low: boolean; start(): void; fail(e: Error): void }

export interface QueryProcess extends AnalyticsDb {
  /** Queries running and waiting now, and the query process's pid (null before the first query or after a kill). */
  stats(): { running: number; waiting: number; pid: number | null };
}

/** Same face as openAnalyticsDb, so the routes and the dashboard use either. The child starts on first use. */
export function startQueryProcess(o: QueryProcessOptions): QueryProcess {
  const workerOptions: WorkerOptions = { dir: o.dir, timeoutMs: o.timeoutMs, maxRows: o.maxRows, memoryLimitMb: o.memoryLimitMb, threads: o.threads, nice: o.nice };
  let current: { child: ChildProcess; ready: Promise<ChildProcess> } | null = null;
  const pending = new Map<number, Pending>();
  let seq = 0;
  let closed = false;
  const limit = (q: QueryOptions): number => Math.min(q.timeoutMs ?? o.timeoutMs, o.timeoutMs);

  function kill(child: ChildProcess, why: string): void {
    o.log?.warn({ pid: child.pid, why }, 'analytics query process killed');
    if (current?.child === child) current = null; // the next query starts a new one at once
    // Nothing in it is worth flushing: an in-memory, read-only database.
    child.kill('SIGKILL');
  }

  function ensureChild(): Promise<ChildProcess> {
    if (current) return current.ready;
    // detached: a session (and so an autogroup) of its own; it still ends with the edge (queryWorker.ts).
    const child = fork(workerPath, [JSON.stringify(workerOptions)], {
      execArgv: [...TS_NODE_ARGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true,
    });
    // Lowered at once, so its start (loading modules, opening DuckDB) already yields to intake;
    // the child lowers every thread again once open.
    if (child.pid !== undefined) lowerPriority(child.pid, o.nice);
    const ready = new Promise<ChildProcess>((resolve, reject) => {
      const startTimer = setTimeout(() => kill(child, `not ready after ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') { clearTimeout(startTimer); resolve(child); return; }
        const p = pending.get(m.id);
        if (!p) return; // answered already (its time limit passed) or cancelled
        pending.delete(m.id);
        if (m.type === 'result') p.resolve(m.result);
        else p.reject(fromWire(m.error));
      });
      const gone = (why: string) => {
        clearTimeout(startTimer);
        if (current?.child === child) current = null;
        reject(unavailable(why));
        for (const [id, p] of pending) if (p.child === child) { pending.delete(id); p.reject(unavailable(why)); }
      };
      child.once('exit', (code, signal) => gone(`stopped (${signal ?? `exit ${code}`})`));
      child.on('error', (e) => gone(`failed: ${e.message}`));
    });
    ready.catch(() => {}); // its callers see the rejection
    current = { child, ready };
    return ready;
  }

  // The slots: `running` holds them, `waiting` queues for them: the desk's queries in arrival order,
  // then the low-priority ones (viewers') in arrival order.
  let running = 0;
  const waiting: Waiter[] = [];
  function acquire(low: boolean, signal?: AbortSignal): Promise<void> {
    if (closed) return Promise.reject(unavailable('is shut down'));
    if (running < o.concurrency) { running++; return Promise.resolve(); }
    if (waiting.length >= o.queue) {
      // A full queue makes room for the desk: the last low-priority query gives up its place.
      const last = low ? -1 : waiting.map((w) => w.low).lastIndexOf(true);
      if (last === -1) {
        return Promise.reject(new QueryError('QUERY_BUSY', `analytics is busy: ${running} ${running === 1 ? 'query' : 'queries'} running and `
          + `${waiting.length} waiting, the most it takes (ANALYTICS_QUERY_CONCURRENCY ${o.concurrency}, ANALYTICS_QUERY_QUEUE ${o.queue}); try again shortly`));
      }
      waiting.splice(last, 1)[0].fail(new QueryError('QUERY_BUSY', 'analytics is busy: an operator\'s or admin\'s query took this query\'s place in the queue; try again shortly'));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        low,
        start: () => { signal?.removeEventListener('abort', leave); resolve(); },
        fail: (e) => { signal?.removeEventListener('abort', leave); reject(e); },
      };
      const leave = () => { waiting.splice(waiting.indexOf(w), 1); reject(new QueryError('CANCELLED', 'query cancelled')); };
      signal?.addEventListener('abort', leave, { once: true });
      const firstLow = low ? -1 : waiting.findIndex((x) => x.low);
      waiting.splice(firstLow === -1 ? waiting.length : firstLow, 0, w);
    });
  }
  function release(): void {
    const next = waiting.shift();
    if (next) next.start(); // the slot passes on
    else running--;
  }

  async function call(msg: Job, q: QueryOptions): Promise<QueryResult> {
    const { timeoutMs } = msg;
    const { signal } = q;
    await acquire(q.priority === 'low', signal);
    let child: ChildProcess;
    try {
      child = await ensureChild();
      if (signal?.aborted) throw new QueryError('CANCELLED', 'query cancelled');
    } catch (e) {
      release();
      throw e;
    }
    const id = ++seq;
    const outcome = new Promise<QueryResult>((resolve, reject) => {
      pending.set(id, { child, resolve, reject });
      child.send({ ...msg, id } satisfies ToWorker, (e) => {
        const p = e ? pending.get(id) : undefined;
        if (p) { pending.delete(id); p.reject(unavailable(`could not be reached (${e!.message})`)); }
      });
    });
    const cancel = () => child.send({ type: 'cancel', id } satisfies ToWorker, () => {});
    signal?.addEventListener('abort', cancel, { once: true });
    const killTimer = setTimeout(() => { if (pending.has(id)) kill(child, `a query did not stop within ${KILL_GRACE_MS} ms of its ${timeoutMs} ms time limit`); }, timeoutMs + KILL_GRACE_MS);
    // The slot is held until the query process has answered or is gone, so the cap counts real work.
    outcome.catch(() => {}).finally(() => { clearTimeout(killTimer); signal?.removeEventListener('abort', cancel); release(); });
    // The caller has its answer at the limit even when a starved query process is slow to interrupt.
    let answerTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => { answerTimer = setTimeout(() => reject(timeLimitError(timeoutMs)), timeoutMs + ANSWER_SLACK_MS); });
    try {
      return await Promise.race([outcome, deadline]);
    } finally {
      clearTimeout(answerTimer);
    }
  }

  return {
    async query(sql, q = {}) {
      // Refused here first, so a write never takes a slot; the child checks again on its own.
      checkReadOnlySql(sql);
      return call({ type: 'query', sql, maxRows: q.maxRows, timeoutMs: limit(q) }, q);
    },
    pnl: (options, q = {}) => call({ type: 'pnl', options: { by: options.by, from: options.from, to: options.to }, timeoutMs: limit(q) }, q),
    stats: () => ({ running, waiting: waiting.length, pid: current?.child.pid ?? null }),
    close() {
      closed = true;
      for (const w of waiting.splice(0)) w.fail(unavailable('is shut down'));
      current?.child.kill('SIGKILL');
      current = null;
    },
  };
}
