// Infrastructure faults under a steady stream of alerts: the Kafka broker stopped and started again
// (our own broker: the shared one is never touched), and Postgres going away (our own connections
// terminated, or, in `npm run chaos` only and when asked, the server restarted). The edge must answer
// 503, never 202, while Kafka cannot acknowledge, and recover by itself; nothing may be lost or doubled.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { startOwnBroker, type OwnBroker } from '../broker.ts';
import { createHttpClient, sendAlerts, summarise, type SendSummary } from '../client.ts';
import { crashes, reviveCrashed, startFleet, tails, type Fleet } from '../fleet.ts';
import { runEnv, sleep } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface KafkaOutageOptions {
  ratePerSec: number;
  /** Alerts before, during and after the outage all come from one stream of this length. */
  alerts: number;
  /** When the broker stops, from the first alert. */
  stopAfterMs: number;
  downForMs: number;
  signal?: NodeJS.Signals;
  onProgress?: (p: Progress) => void;
  /** Looks at the fleet before it is stopped (diagnostics). */
  inspect?: (fleet: Fleet, verdict: Verdict) => Promise<void>;
  /** A private broker already started (left running); else one is started and removed. */
  broker?: OwnBroker;
}

export interface KafkaOutageResult {
  send: SendSummary;
  /** Answers the edge gave while the broker was down (from a grace period after the stop until it listened again). */
  duringOutage: Record<string, number>;
  /** 202s given while the broker was down (must be 0). */
  acceptedWhileDown: number;
  /** From the broker listening again to the edge's next 202, with no restart of the edge. */
  edgeRecoveredAfterMs: number | null;
  /** `GET /readyz` on the first edge, sampled every 250 ms: answers while down and after it came back. */
  readyz: { duringOutage: Record<string, number>; afterRecovery: Record<string, number> };
  outage: { stoppedAfterMs: number; downForMs: number; signal: string };
  crashes: string[];
  verdict: Verdict;
  /** Each process's last output, when something was lost or doubled. */
  tails?: Record<string, string>;
}

export async function runKafkaOutage(o: KafkaOutageOptions): Promise<KafkaOutageResult> {
  const broker = o.broker ?? await startOwnBroker();
  const client = createHttpClient(64);
  // /readyz on connections of its own: behind the alerts' 64 (each waiting up to 2.5 s for Kafka during
  // the outage) a sample could leave only after the broker was back, yet count as taken while it was down.
  const probes = createHttpClient(2);
  try {
    const run = runEnv('kafkadown', broker.env());
    const fleet = await startFleet(run);
    try {
      const attempts: { status: number; at: number }[] = [];
      let done = 0;
      let window = { down: Infinity, up: Infinity };
      const t0 = Date.now();
      const faults = (async () => {
        await sleep(o.stopAfterMs);
        o.onProgress?.({ phase: 'kafka down', done, total: o.alerts });
        await broker.stopKafka(o.signal ?? 'SIGTERM');
        // Requests in flight when it stopped may still have been acknowledged: judge from a moment after.
        window = { down: Date.now() + 3000, up: Infinity };
        await sleep(o.downForMs);
        o.onProgress?.({ phase: 'kafka starting', done, total: o.alerts });
        await broker.startKafka();
        window.up = Date.now();
        o.onProgress?.({ phase: 'kafka up', done, total: o.alerts });
      })();
      const watchdog = setInterval(() => { if (window.up !== Infinity) reviveCrashed(fleet); }, 1000);
      const readiness: { status: number; at: number }[] = [];
      const sampler = setInterval(() => {
        const at = Date.now();
        probes.request(`${fleet.edgeUrls[0]}/readyz`).then((r) => readiness.push({ status: r.status, at }), () => readiness.push({ status: 0, at }));
      }, 250);
      const outcomes = await sendAlerts({
        edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: run.tag,
        count: o.alerts, ratePerSec: o.ratePerSec, retryForMs: o.downForMs + 120_000, client,
        onAttempt: (status, at) => attempts.push({ status, at }),
        onOutcome: () => { if (++done % 50 === 0) o.onProgress?.({ phase: 'sending', done, total: o.alerts }); },
      });
      await faults;
      const verdict = await settle(fleet, outcomes, 180_000, (detail) => o.onProgress?.({ phase: 'settling', done, total: o.alerts, detail }));
      clearInterval(sampler);
      clearInterval(watchdog);
      const during = attempts.filter((a) => a.at >= window.down && a.at < window.up);
      const duringOutage: Record<string, number> = {};
      for (const a of during) duringOutage[a.status] = (duringOutage[a.status] ?? 0) + 1;
      await o.inspect?.(fleet, verdict);
      const recovered = attempts.filter((a) => a.at >= window.up && (a.status === 202 || a.status === 200)).sort((a, b) => a.at - b.at)[0];
      const count = (xs: { status: number }[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x.status]: (m[x.status] ?? 0) + 1 }), {});
      const lastOk = recovered?.at ?? Infinity;
      return {
        readyz: { duringOutage: count(readiness.filter((x) => x.at >= window.down && x.at < window.up)), afterRecovery: count(readiness.filter((x) => x.at >= lastOk + 2000)) },
        send: summarise(outcomes), duringOutage, acceptedWhileDown: during.filter((a) => a.status === 202 || a.status === 200).length,
        edgeRecoveredAfterMs: recovered ? recovered.at - window.up : null,
        outage: { stoppedAfterMs: window.down - 3000 - t0, downForMs: o.downForMs, signal: o.signal ?? 'SIGTERM' },
        crashes: crashes(fleet), verdict,
        tails: verdict.lost.total + verdict.duplicates.total > 0 ? tails(fleet, 6000) : undefined,
      };
    } finally {
      await fleet.stop();
    }
  } finally {
    probes.close();
    client.close();
    if (!o.broker) await broker.down();
  }
}

export interface PostgresFaultOptions {
  ratePerSec: number;
  alerts: number;
  /** 'terminate': end this run's own connections (pg_terminate_backend, by application_name); 'restart': restart the server. */
  mode: 'terminate' | 'restart';
  /** How many times, spread over the run. */
  times: number;
  onProgress?: (p: Progress) => void;
}

export interface PostgresFaultResult {
  mode: string;
  faults: number;
  /** Connections terminated in total ('terminate' mode). */
  terminated: number;
  send: SendSummary;
  crashes: string[];
  verdict: Verdict;
}

const exec = promisify(execFile);

/** Restarts the local Postgres cluster (Debian's pg_ctlcluster). Affects everyone on this server. */
export async function restartPostgres(): Promise<void> {
  const { stdout } = await exec('bash', ['-c', 'ls /etc/postgresql | head -1']);
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', stdout.trim(), 'main', 'restart']);
}

export async function runPostgresFault(o: PostgresFaultOptions): Promise<PostgresFaultResult> {
  const run = runEnv('pgfault');
  const fleet = await startFleet(run);
  const client = createHttpClient(64);
  let terminated = 0;
  let faults = 0;
  try {
    let done = 0;
    const spanMs = (o.alerts / o.ratePerSec) * 1000;
    let sending = true;
    const faulting = (async () => {
      for (let i = 1; i <= o.times && sending; i++) {
        await sleep(spanMs / (o.times + 1));
        o.onProgress?.({ phase: `postgres ${o.mode} ${i}/${o.times}`, done, total: o.alerts });
        if (o.mode === 'restart') {
          await restartPostgres();
        } else {
          // Only this run's processes: they carry PGAPPNAME, which node-postgres sends as application_name.
          const admin = new pg.Client({ connectionString: run.runtime.DATABASE_URL });
          await admin.connect();
          try {
            const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [run.env.PGAPPNAME]);
            terminated += r.rowCount ?? 0;
          } finally {
            await admin.end();
          }
        }
        faults++;
      }
    })();
    const watchdog = setInterval(() => { reviveCrashed(fleet); }, 1000);
    const outcomes = await sendAlerts({
      edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: run.tag,
      count: o.alerts, ratePerSec: o.ratePerSec, retryForMs: 120_000, client,
      onOutcome: () => { if (++done % 50 === 0) o.onProgress?.({ phase: 'sending', done, total: o.alerts }); },
    });
    sending = false;
    await faulting;
    const verdict = await settle(fleet, outcomes, 180_000, (detail) => o.onProgress?.({ phase: 'settling', done, total: o.alerts, detail }));
    clearInterval(watchdog);
    return { mode: o.mode, faults, terminated, send: summarise(outcomes), crashes: crashes(fleet), verdict };
  } finally {
    client.close();
    await fleet.stop();
  }
}
