// Zero-downtime deploy: two instances of every component kind under a steady stream of alerts, each
// restarted in turn with SIGTERM (graceful shutdown), the next only once the previous is back. The
// sender knows both edges, as a load balancer would, and moves to the other on a refusal. Nothing may
// be lost or doubled; the latency (alert → decision on `risk-decisions`, alert → order at the venue,
// the venue's own timestamp on its first report) is reported before, during and after.
import { createLatencyHistogram, preciseNow, type LatencySummary } from '../../bench/hist.ts';
import { createHttpClient, sendAlerts, summarise, type AlertOutcome, type SendSummary } from '../client.ts';
import { crashes, startFleet, tails } from '../fleet.ts';
import { runEnv, sleep } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface DeployOptions {
  ratePerSec: number;
  beforeMs: number;
  afterMs: number;
  /** Pause after a non-edge instance starts before the next one is stopped (an orchestrator's readiness wait). */
  settleEachMs: number;
  /** Component kinds to run (two instances each) and restart; default every kind. */
  kinds?: string[];
  onProgress?: (p: Progress) => void;
}

type PhaseName = 'before' | 'during' | 'after';

export interface DeployResult {
  instancesPerKind: number;
  /** Component kinds deployed (each with instancesPerKind instances). */
  kinds: number;
  restarts: { name: string; stoppedInMs: number; backInMs: number }[];
  send: SendSummary;
  /** Alerts the sender could not get accepted by either edge (must be 0). */
  notAccepted: number;
  latency: Record<PhaseName, { alerts: number; toDecision: LatencySummary; toVenue: LatencySummary }>;
  verdict: Verdict;
  crashes: string[];
  tails?: Record<string, string>;
}

export async function runDeploy(o: DeployOptions): Promise<DeployResult> {
  const run = runEnv('deploy');
  const fleet = await startFleet(run, { instances: 2, kinds: o.kinds });
  const client = createHttpClient(64);
  const decidedAt = new Map<string, number>();
  const atVenue = new Map<string, number>();
  const consumer = fleet.kafka.consumer({ groupId: `chaos-watch-${run.tag}`, readUncommitted: false, maxWaitTimeInMs: 20 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [run.topics.riskDecisions, run.topics.executions], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = preciseNow();
        for (const m of batch.messages) {
          if (!m.value) continue;
          if (batch.topic === run.topics.riskDecisions) {
            const d = await fleet.codec.decode('RiskDecision', m.value);
            if (!decidedAt.has(d.signalId)) decidedAt.set(d.signalId, now);
          } else {
            const e = await fleet.codec.decode('ExecutionReport', m.value);
            if (e.venueTime !== null && !atVenue.has(e.signalId)) atVenue.set(e.signalId, e.venueTime);
          }
        }
      },
    });

    const phaseOf = new Map<number, PhaseName>();
    let phase: PhaseName = 'before';
    let stop = false;
    let done = 0;
    const restarts: DeployResult['restarts'] = [];
    const rolling = (async () => {
      await sleep(o.beforeMs);
      phase = 'during';
      for (const [kind, list] of fleet.procs) {
        for (const p of list) {
          o.onProgress?.({ phase: `deploy: restarting ${p.o.name}`, done, total: 0 });
          const t0 = Date.now();
          await p.stop('SIGTERM', 30_000);
          const stoppedInMs = Date.now() - t0;
          p.start();
          if (kind === 'edge') await p.waitReady();
          else await sleep(o.settleEachMs);
          restarts.push({ name: p.o.name, stoppedInMs, backInMs: Date.now() - t0 });
        }
      }
      phase = 'after';
      o.onProgress?.({ phase: 'deploy: after', done, total: 0 });
      await sleep(o.afterMs);
      stop = true;
    })();
    const outcomes: AlertOutcome[] = await sendAlerts({
      edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: run.tag,
      count: 10_000_000, ratePerSec: o.ratePerSec, retryForMs: 30_000, client, stopped: () => stop,
      onOutcome: () => { if (++done % 50 === 0) o.onProgress?.({ phase: `deploy: ${phase}`, done, total: 0 }); },
      extra: (i) => { phaseOf.set(i, phase); return {}; },
    });
    await rolling;
    const verdict = await settle(fleet, outcomes, 180_000, (detail) => o.onProgress?.({ phase: 'settling', done, total: 0, detail }));
    await sleep(1000);

    const latency = {} as DeployResult['latency'];
    for (const name of ['before', 'during', 'after'] as PhaseName[]) {
      const hd = createLatencyHistogram();
      const hv = createLatencyHistogram();
      const mine = outcomes.filter((x) => phaseOf.get(x.i) === name && x.acceptedAt !== null);
      for (const x of mine) {
        const d = decidedAt.get(x.signalId);
        if (d !== undefined) hd.recordMs(d - x.sentAt);
        const v = atVenue.get(x.signalId);
        if (v !== undefined) hv.recordMs(v - x.sentAt);
      }
      latency[name] = { alerts: mine.length, toDecision: hd.summary(), toVenue: hv.summary() };
    }
    const send = summarise(outcomes);
    return {
      instancesPerKind: 2, kinds: fleet.procs.size, restarts, send, notAccepted: send.refused, latency, verdict, crashes: crashes(fleet),
      tails: verdict.lost.total + verdict.duplicates.total > 0 ? tails(fleet, 4000) : undefined,
    };
  } finally {
    await consumer.disconnect().catch(() => {});
    client.close();
    await fleet.stop();
  }
}
