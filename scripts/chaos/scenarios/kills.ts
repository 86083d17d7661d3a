// Kills: while alerts flow through the edge, SIGKILL each process kind at random moments and start it
// again at once; afterwards every accepted signal has exactly one decision, every approval one order
// at the venue, every venue fill one record on `executions`, and Postgres equals the fold.
import { createHttpClient, sendAlerts, summarise, type SendSummary } from '../client.ts';
import { crashes, reviveCrashed, startFleet } from '../fleet.ts';
import { runEnv, sleep } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface KillsOptions {
  alerts: number;
  kills: number;
  ratePerSec: number;
  /** Seed of the kill schedule, so a failing run can be replayed. */
  seed?: number;
  settleTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
}

export interface KillsResult {
  kinds: string[];
  send: SendSummary;
  /**
   * Measured, not planned: `delivered` counts processes that were running and died of the SIGKILL;
   * `restarted` counts the lives started after one that came up (the edge answered /readyz, any other
   * kind was still running 2 s later).
   */
  kills: { planned: number; delivered: number; byKind: Record<string, number>; restarted: number; restartedByKind: Record<string, number>; schedule: { atMs: number; kind: string }[] };
  /** Processes that died without being killed (each a finding); the harness restarted them. */
  crashes: string[];
  verdict: Verdict;
  seed: number;
  elapsedMs: number;
}

/** Deterministic PRNG for the kill schedule. */
function mulberry32(a: number) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` kill moments in [0, spanMs], kinds taking turns, each kind's kills at least `gapMs` apart. */
export function killSchedule(kinds: string[], n: number, spanMs: number, seed: number, gapMs = 2500): { atMs: number; kind: string }[] {
  const rnd = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => kinds[i % kinds.length]).sort(() => rnd() - 0.5);
  const out: { atMs: number; kind: string }[] = [];
  const last = new Map<string, number>();
  for (const kind of order) {
    let at = 0;
    for (let tries = 0; tries < 200; tries++) {
      at = Math.round(spanMs * (0.05 + 0.9 * rnd()));
      if (out.filter((k) => k.kind === kind).every((k) => Math.abs(k.atMs - at) >= gapMs)) break;
    }
    out.push({ atMs: at, kind });
    last.set(kind, at);
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

export async function runKills(o: KillsOptions): Promise<KillsResult> {
  const started = Date.now();
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const run = runEnv('kill');
  const fleet = await startFleet(run);
  const client = createHttpClient(64);
  const kinds = [...fleet.procs.keys()];
  const spanMs = (o.alerts / o.ratePerSec) * 1000;
  const schedule = killSchedule(kinds, o.kills, spanMs, seed);
  const byKind: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const restartedByKind: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const comingUp: Promise<void>[] = [];
  const progress = { sent: 0, accepted: 0, kills: 0 };
  const report = (phase: string) => o.onProgress?.({ phase, done: progress.sent, total: o.alerts, detail: `accepted ${progress.accepted} · kills ${progress.kills}/${o.kills}` });
  try {
    const killer = (async () => {
      const t0 = Date.now();
      for (const k of schedule) {
        await sleep(Math.max(0, t0 + k.atMs - Date.now()));
        const procs = fleet.procs.get(k.kind)!;
        const p = procs[Math.floor(Math.random() * procs.length)];
        const before = p.kills;
        await p.stop('SIGKILL');
        // Start again at once: the new process races whatever the dead one left half done. One that was
        // not running (it crashed: a finding of its own) is started too, but no kill is counted.
        p.start();
        if (p.kills === before) continue;
        byKind[k.kind]++;
        progress.kills++;
        report('sending');
        comingUp.push(p.cameUp(p.starts).then((up) => { if (up) restartedByKind[k.kind]++; }));
      }
    })();
    const watchdog = setInterval(() => { reviveCrashed(fleet); }, 1000);
    const outcomes = await sendAlerts({
      edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: run.tag,
      count: o.alerts, ratePerSec: o.ratePerSec, retryForMs: 90_000, client,
      onOutcome: (r) => { progress.sent++; if (r.acceptedAt !== null) progress.accepted++; if (progress.sent % 50 === 0) report('sending'); },
    });
    await killer;
    await Promise.all(comingUp);
    report('settling');
    const verdict = await settle(fleet, outcomes, o.settleTimeoutMs ?? 180_000, (detail) => o.onProgress?.({ phase: 'settling', done: progress.sent, total: o.alerts, detail }));
    clearInterval(watchdog);
    return {
      kinds, send: summarise(outcomes),
      kills: {
        planned: o.kills, delivered: progress.kills, byKind, schedule,
        restarted: Object.values(restartedByKind).reduce((n, c) => n + c, 0), restartedByKind,
      },
      crashes: crashes(fleet),
      verdict, seed, elapsedMs: Date.now() - started,
    };
  } finally {
    client.close();
    await fleet.stop();
  }
}
