// Kafka requests (by API) and Postgres queries per alert, by process: each component process started
// with ORDER_ROUTER_STATS_DIR writes its totals when sent SIGUSR2 (streams/runtime/stats.ts); a snapshot
// before and after a load gives what the load cost.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessStats } from '../../streams/runtime/stats.ts';

export type Snapshot = Map<string, ProcessStats[]>;

export interface RequestsPerAlert {
  /** Kafka requests per accepted alert, all processes. */
  kafkaTotal: number;
  /** By process kind, then by Kafka API (Fetch, Produce, AddPartitionsToTxn, ...). */
  kafka: Record<string, Record<string, number>>;
  /** Postgres queries (round trips) per accepted alert, by process kind. */
  pg: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks every process for its totals and reads them (a process that does not answer within 2 s is left out). */
export async function snapshot(dir: string, pids: Record<string, number[]>): Promise<Snapshot> {
  const file = (pid: number) => join(dir, `${pid}.json`);
  const mtime = (pid: number) => { try { return statSync(file(pid)).mtimeMs; } catch { return 0; } };
  const asked = Object.entries(pids).flatMap(([kind, list]) => list.map((pid) => ({ kind, pid, before: mtime(pid) })));
  for (const a of asked) { try { process.kill(a.pid, 'SIGUSR2'); } catch { /* gone */ } }
  const out: Snapshot = new Map();
  const until = Date.now() + 2_000;
  for (const a of asked) {
    while (mtime(a.pid) <= a.before && Date.now() < until) await sleep(20);
    if (mtime(a.pid) <= a.before) continue;
    const list = out.get(a.kind) ?? [];
    list.push(JSON.parse(readFileSync(file(a.pid), 'utf8')) as ProcessStats);
    out.set(a.kind, list);
  }
  return out;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function perAlert(before: Snapshot, after: Snapshot, alerts: number): RequestsPerAlert {
  const r: RequestsPerAlert = { kafkaTotal: 0, kafka: {}, pg: {} };
  if (alerts <= 0) return r;
  for (const [kind, now] of after) {
    const was = new Map((before.get(kind) ?? []).map((s) => [s.pid, s]));
    const apis: Record<string, number> = {};
    let pg = 0;
    for (const s of now) {
      const b = was.get(s.pid); // a process restarted in between counts from zero
      for (const [api, n] of Object.entries(s.kafkaRequests)) apis[api] = (apis[api] ?? 0) + n - (b?.kafkaRequests[api] ?? 0);
      pg += s.pgQueries - (b?.pgQueries ?? 0);
    }
    r.kafka[kind] = Object.fromEntries(Object.entries(apis).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([api, n]) => [api, round(n / alerts)]));
    r.kafkaTotal += Object.values(apis).reduce((a, n) => a + n, 0) / alerts;
    if (pg > 0) r.pg[kind] = round(pg / alerts);
  }
  r.kafkaTotal = round(r.kafkaTotal);
  return r;
}
