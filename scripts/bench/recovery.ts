// Recovery after a crash: with every component in its own process under a steady stream of alerts,
// each kind in turn (edge, decide, connector, projection) is SIGKILLed and started again at once, as
// an orchestrator would. For each kill: kill → ready (the edge: /readyz 200; a processor: back in its
// consumer group, without the dead member), kill → the first new record of every hop (alert accepted,
// decision, order at the venue, fill, position row in Postgres), and what happened to the alerts sent
// meanwhile (refused by a dead edge, denied STALE_SIGNAL once processing resumed).
//
// The desk's default stale threshold applies here (the fleet opens it to an hour for the other stages),
// so the STALE_SIGNAL count is what a desk running the defaults would see.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Admin, Kafka } from 'kafkajs';
import type { Codec } from '../../schemas/codec.ts';
import { accountHeaders, readToEnd } from '../../streams/runtime/consume.ts';
import { createPool } from '../../streams/runtime/db.ts';
import { startFleet, type Fleet } from '../chaos/fleet.ts';
import { runEnv, sleep, type Managed } from '../chaos/harness.ts';
import { processCpuMs } from './cpu.ts';
import { preciseNow } from './hist.ts';
import { runLoad } from './path.ts';

export const RECOVERY_KINDS = ['edge', 'decide', 'connector', 'projection'] as const;
type Kind = (typeof RECOVERY_KINDS)[number];

const SYMBOLS = ['AAPL', 'MSFT'];

/** Milliseconds from the kill, or null when it did not happen within the stage. */
type Since = number | null;

export interface RecoveryKill {
  kind: Kind;
  /** Edge: /readyz answers 200. Processor: its consumer group is stable again with a member, none of them the dead one. */
  killToReadyMs: Since;
  /**
   * CPU the restarted process used from its start until ready: what the restart costs whatever else
   * competes for the cores (under load the wall-clock figures stretch with the machine's run queue).
   */
  cpuToReadyMs: number | null;
  /** Runnable threads per core over the kill window (/proc/loadavg, 1-minute): how contended the machine was. */
  loadPerCore: number | null;
  /** The killed kind's own output again: accepted (edge), decision (decide), order at venue (connector), position row (projection). */
  killToResumedMs: Since;
  /** The first record of each hop created after the kill, whatever process made it. */
  firstAfterKillMs: { accepted: Since; decision: Since; orderAtVenue: Since; fill: Since; positionRow: Since };
  alerts: {
    sent: number; accepted: number;
    /** Not answered 202 (refused connections while the edge was down, 503s). */
    notAccepted: number;
    decided: number;
    /** Accepted alerts denied STALE_SIGNAL. */
    staleDenied: number;
    /**
     * Which age was over its limit (streams/decide/checks.ts): `atReceipt` the alert's age when the edge
     * received it, `inPipeline` its wait between the edge and the decision; `total` for a gate that
     * measured the two together (before the split).
     */
    staleBy: Record<string, number>;
  };
  /** When the kind did not resume within the stage: the end of the restarted process's output. */
  outputTail?: string;
}

export interface RecoveryReport {
  ratePerSec: number; secondsPerKill: number; killAfterSeconds: number; maxSignalAgeMs: string;
  /** BENCH_RECOVERY_HISTORY: alerts run through the pipeline before the first kill, and the records the topics then held. */
  history: { alertsAccepted: number; records: Record<string, number> } | null;
  kills: RecoveryKill[];
}

const OWN: Record<Kind, keyof RecoveryKill['firstAfterKillMs']> = { edge: 'accepted', decide: 'decision', connector: 'orderAtVenue', projection: 'positionRow' };

const round = (x: number | null): Since => (x === null ? null : Math.round(x));

/** The consumer groups a kind's process is a member of (the connector: one per venue; the fleet runs paper). */
function groupsOf(fleet: Fleet, kind: Kind): string[] {
  const g = (name: string) => `${fleet.run.runtime.TOPIC_PREFIX}order-router-${name}`;
  switch (kind) {
    case 'edge': return [];
    case 'decide': return [g('decide'), g('brackets')]; // the brackets processor runs in decide's process
    case 'connector': return [g('connector-paper')];
    case 'projection': return [g('projection')];
    default: { const never: never = kind; return never; }
  }
}

async function memberIds(admin: Admin, groups: string[]): Promise<Set<string>> {
  if (groups.length === 0) return new Set();
  const { groups: described } = await admin.describeGroups(groups);
  return new Set(described.flatMap((g) => g.members.map((m) => m.memberId)));
}

/** Every group stable, with a member, and none of `dead` left in it. */
async function rejoined(admin: Admin, groups: string[], dead: Set<string>): Promise<boolean> {
  const { groups: described } = await admin.describeGroups(groups);
  return described.every((g) => g.state === 'Stable' && g.members.length > 0 && g.members.every((m) => !dead.has(m.memberId)));
}

function loadPerCore(): number | null {
  try { return Math.round((Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) / cpus().length) * 10) / 10; } catch { return null; }
}

function staleBy(details: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of details) {
    let measured = 'total';
    try { measured = String((JSON.parse(d ?? '{}') as { measured?: string }).measured ?? 'total'); } catch { /* not JSON */ }
    out[measured] = (out[measured] ?? 0) + 1;
  }
  return out;
}

async function edgeReady(url: string): Promise<boolean> {
  try { return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(500) })).ok; } catch { return false; }
}

/** Desk limits as the fleet opened them, except the signal age: back to the default (unset). */
async function defaultStaleLimit(kafka: Kafka, codec: Codec, topic: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const wide = { maxPosition: 1e12, maxOrderQty: 1e9, maxOrderNotional: 1e15, maxGrossExposure: 1e18, dailyLossLimit: 1e15, maxOrdersPerMinute: 1e9 };
  const at = Date.now();
  await producer.send({ topic, acks: -1, messages: [{ key: 'LIMITS|DESK|*', headers: accountHeaders('*'), value: codec.encode(topic, {
    controlId: `bench-recovery-${at}`, kind: 'LIMITS', scope: 'DESK', target: '*', state: null, payload: JSON.stringify(wide),
    actor: 'bench', reason: 'recovery stage: default stale threshold', at, hlc: at * 1000,
  }) }] });
  await producer.disconnect();
}

async function killOne(fleet: Fleet, admin: Admin, kind: Kind, o: { rate: number; seconds: number; killAfterSeconds: number; say: (s: string) => void }): Promise<RecoveryKill> {
  const T = fleet.run.topics;
  const proc: Managed = fleet.procs.get(kind)![0];
  const edgeUrl = fleet.edgeUrls[0];
  const runId = `rec-${kind}-${Date.now().toString(36)}`;
  const load = runLoad({
    url: `${edgeUrl}/webhooks/tradingview`, rate: o.rate, count: o.rate * o.seconds, seconds: o.seconds, connections: 64, runId,
    strategies: fleet.run.strategies.map((s) => ({ id: s.id, secret: s.secrets[0] })), symbols: SYMBOLS,
  });
  await sleep(o.killAfterSeconds * 1000);
  const groups = groupsOf(fleet, kind);
  const dead = await memberIds(admin, groups);
  const killedAt = preciseNow();
  await proc.stop('SIGKILL');
  proc.start();
  o.say(`recovery: ${kind} killed and started again`);

  let readyAt: number | null = null, cpuToReady: number | null = null;
  const until = killedAt + (o.seconds - o.killAfterSeconds + 30) * 1000;
  while (readyAt === null && preciseNow() < until) {
    const ok = kind === 'edge' ? await edgeReady(edgeUrl) : await rejoined(admin, groups, dead).catch(() => false);
    if (ok) { readyAt = preciseNow(); cpuToReady = proc.pid === undefined ? null : processCpuMs(proc.pid); }
    else await sleep(50);
  }
  const result = await load;
  const accepted = new Set(result.samples.filter((s) => s[3] === 202).map((s) => s[0]));

  // Every accepted alert decided (or 30 s without a new decision), then the position rows.
  const mine = (signalId: string) => signalId.includes(`:${runId}-`);
  let decided = new Map<string, { verdict: string; reason: string | null; detail: string | null }>();
  let firstDecision: number | null = null, firstAck: number | null = null, firstFill: number | null = null;
  for (let last = -1, lastChange = Date.now(); ;) {
    decided = new Map();
    firstDecision = firstAck = firstFill = null;
    const after = (ts: number, cur: number | null) => (ts > killedAt && (cur === null || ts < cur) ? ts : cur);
    await readToEnd(fleet.kafka, [T.riskDecisions, T.executions], async (topic, m) => {
      const ts = Number(m.timestamp);
      if (topic === T.riskDecisions) {
        const d = await fleet.codec.decode('RiskDecision', m.value!);
        if (mine(d.signalId)) decided.set(d.signalId, { verdict: d.verdict, reason: d.reason, detail: d.detail });
        firstDecision = after(ts, firstDecision);
      } else {
        const e = await fleet.codec.decode('ExecutionReport', m.value!);
        if (e.type === 'ACK') firstAck = after(ts, firstAck);
        if (e.type === 'FILL' || e.type === 'PARTIAL_FILL') firstFill = after(ts, firstFill);
      }
    });
    if (decided.size >= accepted.size) break;
    if (decided.size !== last) { last = decided.size; lastChange = Date.now(); }
    if (Date.now() - lastChange > 30_000) break;
    await sleep(1000);
  }
  await sleep(1000); // the projection's last batch
  const pool = createPool({ DATABASE_URL: fleet.run.runtime.DATABASE_URL, PG_SCHEMA: fleet.run.runtime.PG_SCHEMA });
  let firstRow: number | null = null;
  try {
    const { rows } = await pool.query<{ at: string | null }>(
      'SELECT extract(epoch from min(projected_at)) * 1000 AS at FROM executions WHERE projected_at > to_timestamp($1 / 1000.0)', [killedAt]);
    firstRow = rows[0]?.at === null || rows[0]?.at === undefined ? null : Number(rows[0].at);
  } finally {
    await pool.end();
  }
  const firstAccepted = result.samples.filter((s) => s[3] === 202 && s[1] >= killedAt).reduce<number | null>((m, s) => (m === null || s[2] < m ? s[2] : m), null);
  const since = (t: number | null): Since => round(t === null ? null : t - killedAt);
  const firstAfterKillMs = { accepted: since(firstAccepted), decision: since(firstDecision), orderAtVenue: since(firstAck), fill: since(firstFill), positionRow: since(firstRow) };
  const r: RecoveryKill = {
    kind,
    killToReadyMs: since(readyAt),
    cpuToReadyMs: round(cpuToReady),
    loadPerCore: loadPerCore(),
    killToResumedMs: firstAfterKillMs[OWN[kind]],
    firstAfterKillMs,
    alerts: {
      sent: result.sent, accepted: accepted.size, notAccepted: result.sent - accepted.size,
      decided: [...decided.keys()].filter((id) => accepted.has(id)).length,
      staleDenied: [...decided].filter(([id, d]) => accepted.has(id) && d.reason === 'STALE_SIGNAL').length,
      staleBy: staleBy([...decided].filter(([id, d]) => accepted.has(id) && d.reason === 'STALE_SIGNAL').map(([, d]) => d.detail)),
    },
  };
  if (r.killToResumedMs === null) r.outputTail = proc.tail().split('\n').filter(Boolean).slice(-15).join('\n');
  o.say(`recovery ${kind}: kill → ready ${r.killToReadyMs ?? '-'} ms (${r.cpuToReadyMs ?? '-'} ms of CPU, load ${r.loadPerCore ?? '-'} per core), → resumed (${OWN[kind]}) ${r.killToResumedMs ?? '-'} ms; accepted ${r.alerts.accepted}/${r.alerts.sent}, decided ${r.alerts.decided}, STALE_SIGNAL ${r.alerts.staleDenied} ${JSON.stringify(r.alerts.staleBy)}`);
  return r;
}

/**
 * Records the processes read back at a start: what the topics hold when the kills begin. A restarted
 * decide and connector replay their state from the beginning of these topics (no snapshot), so their
 * kill → ready grows with the history.
 */
async function topicRecords(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of topics) out[t] = (await admin.fetchTopicOffsets(t)).reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
  return out;
}

export async function benchRecovery(o: { rate?: number; seconds?: number; killAfterSeconds?: number; history?: number; say: (s: string) => void }): Promise<RecoveryReport> {
  const rate = o.rate ?? 100, seconds = o.seconds ?? 40, killAfterSeconds = o.killAfterSeconds ?? 5, history = o.history ?? 0;
  const run = runEnv('bench', { ...process.env, CHAOS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' });
  const fleet = await startFleet(run, { kinds: RECOVERY_KINDS });
  const admin = fleet.kafka.admin();
  await admin.connect();
  const kills: RecoveryKill[] = [];
  let historyReport: RecoveryReport['history'] = null;
  try {
    if (history > 0) {
      // A desk's past before the kills: alerts at up to 1,000/s, then until the fills stop coming.
      const historyRate = Math.min(1000, history);
      o.say(`recovery: ${history} alerts of history first, at ${historyRate}/s`);
      const h = await runLoad({
        url: `${fleet.edgeUrls[0]}/webhooks/tradingview`, rate: historyRate, count: history, seconds: Math.ceil(history / historyRate), connections: 64,
        runId: `rec-history-${Date.now().toString(36)}`, strategies: fleet.run.strategies.map((s) => ({ id: s.id, secret: s.secrets[0] })), symbols: SYMBOLS,
      });
      for (let last = -1; ;) {
        await sleep(5000);
        const n = (await topicRecords(admin, [run.topics.executions]))[run.topics.executions];
        if (n === last) break;
        last = n;
      }
      historyReport = { alertsAccepted: h.ok, records: await topicRecords(admin, [run.topics.signals, run.topics.riskDecisions, run.topics.orders, run.topics.executions]) };
      o.say(`recovery: history in the topics ${JSON.stringify(historyReport.records)}`);
    }
    await defaultStaleLimit(fleet.kafka, fleet.codec, run.topics.control);
    await sleep(2000); // the limit reaches the gate; the processes settle
    for (const kind of RECOVERY_KINDS) {
      kills.push(await killOne(fleet, admin, kind, { rate, seconds, killAfterSeconds, say: o.say }));
      await sleep(3000);
    }
  } finally {
    await admin.disconnect();
    await fleet.stop();
  }
  return { ratePerSec: rate, secondsPerKill: seconds, killAfterSeconds, maxSignalAgeMs: 'desk default', history: historyReport, kills };
}
