// The leader dies under load, on a 3-node KRaft cluster of our own (scripts/kafka/ownCluster.ts; the
// shared single broker is never touched): alerts at a fixed rate, SIGKILL the broker leading the most
// `signals` and `orders` partitions, start it again, later SIGKILL the controller quorum's leader and
// start it again. Topics have 3 replicas and min ISR 2 (the defaults on three brokers), so the edge may
// only answer 202 for an alert two brokers hold: anything else is 503, and nothing accepted may be lost
// or doubled (counted at the venue, on the topics, in Postgres and Parquet, as every scenario does). The
// pipeline is never restarted. Reported: per kill, the longest stretch without a 202 and without a
// decision; alert → decision and alert → order at the venue, p99 before, during and after.
//
//   npx node scripts/chaos/scenarios/leaderKill.ts      one full-size run, report on stdout and in
//                                                                 bench/chaos-report-leader.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { createLatencyHistogram, type LatencySummary } from '../../bench/hist.ts';
import { startOwnCluster, type OwnCluster } from '../../kafka/ownCluster.ts';
import { createHttpClient, sendAlerts, summarise, type AlertOutcome, type SendSummary } from '../client.ts';
import { crashes, startFleet, tails, type Fleet } from '../fleet.ts';
import { readToEnd } from '../../../streams/runtime/consume.ts';
import { ROOT, runEnv, sleep } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface LeaderKillOptions {
  ratePerSec: number;
  /** Load before the first kill. */
  beforeMs: number;
  /** How long each killed node stays down before it is started again. */
  downMs: number;
  /** From a killed node being back to the next kill. */
  betweenMs: number;
  /** What is killed, in turn (default: the partition leader, then the quorum leader). */
  targets?: KillReport['what'][];
  /** Load after the second node is back. */
  afterMs: number;
  onProgress?: (p: Progress) => void;
  /** A cluster already started (left running); else one of 3 nodes is started and removed. */
  cluster?: OwnCluster;
}

export interface KillReport {
  what: 'partition leader' | 'quorum leader';
  node: number;
  /** `signals` + `orders` partitions it led when it was killed. */
  partitionsLed: number;
  /** From the first alert. */
  atMs: number;
  downMs: number;
  /** `stack.sh up`: the node started again and every broker registered with a quorum leader. */
  backInMs: number;
  /** From the kill to 20 s after it was back: the longest stretch without a 202. */
  acceptancePauseMs: number;
  /** The same window: the longest stretch without a decision (decidedAt on `risk-decisions`). */
  decisionPauseMs: number;
  /** Answers in that window by status (0: no HTTP answer). */
  answers: Record<string, number>;
  /** The quorum leader once the node was back. */
  quorumLeaderAfter: number | null;
}

type PhaseName = 'before' | 'during' | 'after';

export interface LeaderKillResult {
  nodes: number;
  kills: KillReport[];
  send: SendSummary;
  latency: Record<PhaseName, { alerts: number; toDecision: LatencySummary; toVenue: LatencySummary }>;
  verdict: Verdict;
  crashes: string[];
  /** When orders were doubled: a few of them, each copy with its producer and batch. */
  doubledOrders?: Record<string, RecordTrace[]>;
  /**
   * When accepted alerts went undecided: how many of them `signals` holds, and how many the edge
   * recorded as produced (Kafka acknowledged them) in its `edge_signals` table.
   */
  undecided?: { count: number; onSignals: number; producedPerEdge: number; examples: string[] };
  tails?: Record<string, string>;
}

/** Partitions of `topics` each broker leads right now. */
async function leaders(kafka: Kafka, topics: string[]): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const led = new Map<number, number>();
    for (const t of (await admin.fetchTopicMetadata({ topics })).topics) {
      for (const p of t.partitions) if (p.leader >= 0) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    }
    return led;
  } finally {
    await admin.disconnect();
  }
}

interface RecordTrace { partition: number; offset: string; producerId?: string; producerEpoch?: number; firstSequence?: number; inTransaction?: boolean }

/**
 * Keys written more than once to `topic` (committed records only), each copy with the batch it came in:
 * the same producer id and epoch with a new sequence number is one producer appending twice.
 */
async function doubledKeys(kafka: Kafka, topic: string, limit = 5): Promise<Record<string, RecordTrace[]>> {
  const seen = new Map<string, RecordTrace[]>();
  await readToEnd(kafka, [topic], (_t, m, partition) => {
    const b = (m as typeof m & { batchContext?: { producerId?: string; producerEpoch?: number; firstSequence?: number; inTransaction?: boolean } }).batchContext;
    const key = m.key?.toString() ?? '';
    seen.set(key, [...(seen.get(key) ?? []), { partition, offset: m.offset, producerId: b?.producerId?.toString(), producerEpoch: b?.producerEpoch, firstSequence: b?.firstSequence, inTransaction: b?.inTransaction }]);
  });
  return Object.fromEntries([...seen].filter(([, v]) => v.length > 1).slice(0, limit));
}

async function undecided(fleet: Fleet, topic: string, lost: AlertOutcome[], t0: number): Promise<NonNullable<LeaderKillResult['undecided']>> {
  const ids = lost.map((x) => x.signalId);
  const want = new Set(ids);
  const db = new pg.Client({ connectionString: fleet.run.runtime.DATABASE_URL });
  await db.connect();
  let producedPerEdge = 0;
  try {
    const r = await db.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(fleet.run.runtime.PG_SCHEMA)}.edge_signals WHERE produced AND signal_id = ANY($1::text[])`, [ids]);
    producedPerEdge = r.rows[0].n as number;
  } finally {
    await db.end();
  }
  const found = new Set<string>();
  await readToEnd(fleet.kafka, [topic], async (_t, m, partition) => {
    if (!m.value) return;
    const s = await fleet.codec.decode('Signal', m.value);
    if (want.has(s.signalId)) found.add(`${s.signalId}@${partition}:${m.offset}`);
  });
  const when = (x: AlertOutcome) => `${x.signalId} sent +${Math.round(x.sentAt - t0)} ms, accepted +${Math.round((x.acceptedAt ?? 0) - t0)} ms with ${x.status} after ${x.attempts} attempts`;
  return { count: ids.length, onSignals: found.size, producedPerEdge, examples: [...found].slice(0, 5).concat(lost.slice(0, 5).map(when)) };
}

/** The longest gap between consecutive `times` (sorted) within [from, to], counting from the last one before `from`. */
export function longestGap(times: readonly number[], from: number, to: number): number {
  let prev = from;
  for (const t of times) if (t <= from) prev = t;
  let gap = 0;
  for (const t of times) {
    if (t <= from || t > to) continue;
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.round(Math.max(gap, to - prev));
}

export async function runLeaderKill(o: LeaderKillOptions): Promise<LeaderKillResult> {
  const cluster = o.cluster ?? await startOwnCluster({ nodes: 3 });
  const client = createHttpClient(128);
  try {
    const run = runEnv('leader', cluster.env());
    const fleet = await startFleet(run);
    const decidedAt = new Map<string, number>();
    const atVenue = new Map<string, number>();
    const consumer = fleet.kafka.consumer({ groupId: `chaos-watch-${run.tag}`, readUncommitted: false, maxWaitTimeInMs: 50 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [run.topics.riskDecisions, run.topics.executions], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (!m.value) continue;
            if (batch.topic === run.topics.riskDecisions) {
              const d = await fleet.codec.decode('RiskDecision', m.value);
              if (!decidedAt.has(d.signalId)) decidedAt.set(d.signalId, d.decidedAt);
            } else {
              const e = await fleet.codec.decode('ExecutionReport', m.value);
              if (e.venueTime !== null && !atVenue.has(e.signalId)) atVenue.set(e.signalId, e.venueTime);
            }
          }
        },
      });

      const t0 = Date.now();
      const accepts: number[] = [];
      const attempts: { status: number; at: number }[] = [];
      const phaseOf = new Map<number, PhaseName>();
      const kills: (KillReport & { windowEnd: number; killedAt: number })[] = [];
      let phase: PhaseName = 'before';
      let stop = false;
      let lastRefusal = 0;
      let done = 0;
      const say = (p: string) => o.onProgress?.({ phase: p, done, total: 0 });

      const kill = async (what: KillReport['what'], node: number, partitionsLed: number) => {
        say(`SIGKILL ${what} (node ${node})`);
        const killedAt = Date.now();
        await cluster.kill(node, 'SIGKILL');
        await sleep(o.downMs);
        say(`starting node ${node}`);
        const upAt = Date.now();
        await cluster.up();
        const back = Date.now();
        kills.push({
          what, node, partitionsLed, atMs: killedAt - t0, downMs: upAt - killedAt, backInMs: back - upAt,
          acceptancePauseMs: 0, decisionPauseMs: 0, answers: {}, quorumLeaderAfter: cluster.quorumLeader(), killedAt, windowEnd: back + 20_000,
        });
      };
      const faults = (async () => {
        await sleep(o.beforeMs);
        phase = 'during';
        const watched = [run.topics.signals, run.topics.orders];
        for (const [i, what] of (o.targets ?? ['partition leader', 'quorum leader']).entries()) {
          if (i > 0) await sleep(o.betweenMs);
          const led = await leaders(fleet.kafka, watched);
          const node = what === 'partition leader' ? [...led].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0] : cluster.quorumLeader();
          if (node === null) throw new Error('no quorum leader to kill');
          await kill(what, node, led.get(node) ?? 0);
        }
        phase = 'after';
        say('after');
        await sleep(o.afterMs);
        // Stop only once the edge has taken everything for a while: an alert refused at the moment of
        // stopping is not retried any more, and would count as refused for no fault of the pipeline.
        const until = Date.now() + 60_000;
        while (Date.now() - lastRefusal < 3000 && Date.now() < until) await sleep(250);
      })().finally(() => { stop = true; });

      const outcomes: AlertOutcome[] = await sendAlerts({
        edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: run.tag,
        count: 10_000_000, ratePerSec: o.ratePerSec, retryForMs: o.downMs + 120_000, client, stopped: () => stop,
        onAttempt: (status, at) => { attempts.push({ status, at }); if (status === 202 || status === 200) accepts.push(at); else lastRefusal = at; },
        onOutcome: () => { if (++done % 100 === 0) say(`load: ${phase}`); },
        extra: (i) => { phaseOf.set(i, phase); return {}; },
      });
      await faults;
      const verdict = await settle(fleet, outcomes, 240_000, (detail) => o.onProgress?.({ phase: 'settling', done, total: 0, detail }));
      await sleep(1000);

      const decisions = [...decidedAt.values()].sort((a, b) => a - b);
      accepts.sort((a, b) => a - b);
      const lastAccept = accepts[accepts.length - 1] ?? Date.now();
      for (const k of kills) {
        const end = Math.min(k.windowEnd, lastAccept);
        k.acceptancePauseMs = longestGap(accepts, k.killedAt, end);
        k.decisionPauseMs = longestGap(decisions, k.killedAt, end);
        for (const a of attempts) if (a.at >= k.killedAt && a.at <= end) k.answers[a.status] = (k.answers[a.status] ?? 0) + 1;
      }
      const latency = {} as LeaderKillResult['latency'];
      for (const name of ['before', 'during', 'after'] as PhaseName[]) {
        const hd = createLatencyHistogram();
        const hv = createLatencyHistogram();
        const mine = outcomes.filter((x) => phaseOf.get(x.i) === name && x.acceptedAt !== null);
        for (const x of mine) {
          const d = decidedAt.get(x.signalId);
          if (d !== undefined) hd.recordMs(Math.max(0, d - x.sentAt));
          const v = atVenue.get(x.signalId);
          if (v !== undefined) hv.recordMs(Math.max(0, v - x.sentAt));
        }
        latency[name] = { alerts: mine.length, toDecision: hd.summary(), toVenue: hv.summary() };
      }
      return {
        nodes: cluster.nodes,
        kills: kills.map(({ windowEnd: _w, killedAt: _k, ...k }) => k),
        send: summarise(outcomes), latency, verdict, crashes: crashes(fleet),
        doubledOrders: verdict.duplicates.orders > 0 ? await doubledKeys(fleet.kafka, run.topics.orders) : undefined,
        undecided: verdict.lost.decisions > 0 ? await undecided(fleet, run.topics.signals, outcomes.filter((x) => x.acceptedAt !== null && !decidedAt.has(x.signalId)), t0) : undefined,
        tails: verdict.lost.total + verdict.duplicates.total > 0 ? tails(fleet, 6000) : undefined,
      };
    } finally {
      await consumer.disconnect().catch(() => {});
      await fleet.stop();
    }
  } finally {
    client.close();
    if (!o.cluster) await cluster.down();
  }
}

if (process.argv[1]?.endsWith('leaderKill.ts')) {
  const say = (s: string) => process.stderr.write(`[chaos] ${s}\n`);
  const n = (name: string, d: number) => Number(process.env[name] ?? d);
  runLeaderKill({
    ratePerSec: n('CHAOS_RATE', 100), beforeMs: n('CHAOS_BEFORE_MS', 20_000), downMs: n('CHAOS_DOWN_MS', 25_000),
    betweenMs: n('CHAOS_BETWEEN_MS', 30_000), afterMs: n('CHAOS_AFTER_MS', 20_000),
    onProgress: (p) => say(`${p.phase}${p.done ? ` · ${p.done} alerts` : ''}${p.detail ? ` · ${p.detail}` : ''}`),
  }).then((r) => {
    const { examples, ...figures } = r.verdict;
    const report = { ...r, verdict: { ...figures, examples: examples.slice(0, 10) } };
    mkdirSync(join(ROOT, 'bench'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'chaos-report-leader.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify({ kills: r.kills, send: r.send, latency: r.latency, lost: r.verdict.lost, duplicates: r.verdict.duplicates, failures: r.verdict.failures, crashes: r.crashes, doubledOrders: r.doubledOrders, undecided: r.undecided }, null, 2));
    process.exitCode = r.verdict.failures.length + r.crashes.length + r.send.unexpected.length > 0 ? 1 : 0;
  }, (e: unknown) => { say(`FAILED: ${(e as Error).stack ?? String(e)}`); process.exitCode = 1; });
}
