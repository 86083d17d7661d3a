// The whole path at fixed rates: alert posted over HTTP (by a separate load-generator process) →
// order at the paper venue → fill on `executions` → position row in Postgres; with each component in
// its own process (as deployed) or all in one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createCodec } from '../../schemas/codec.ts';
import { controlMessage } from '../../streams/control/publisher.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import { createPool } from '../../streams/runtime/db.ts';
import { createKafka, FETCH_MAX_WAIT_MS } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { startPipeline, type Component } from '../../edge/main/pipeline.ts';
import { createLatencyHistogram, preciseNow, type LatencySummary } from './hist.ts';
import type { LoadOptions, LoadResult } from './loadgen.ts';
import type { Kafka } from 'kafkajs';
import type { Codec } from '../../schemas/codec.ts';
import type { Topics } from '../../schemas/topics.ts';
import { startFleet } from '../chaos/fleet.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMeter, memoryOf, pidListeningOn, pidsNamed, type CpuUse } from './cpu.ts';
import { perAlert, snapshot, type RequestsPerAlert } from './requests.ts';
import { runEnv } from '../chaos/harness.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

const run = promisify(execFile);
const loadgenPath = fileURLToPath(new URL('./loadgen.ts', import.meta.url));
const SECRET = 'bench-secret-0123456789abcdef';
const STRATEGIES = Array.from({ length: 6 }, (_, i) => ({ id: `bench-${i}`, account: `BENCH-${i}`, secrets: [SECRET] }));
const SYMBOLS = ['AAPL', 'MSFT'];

export interface PathRate {
  /** Every accepted alert counts: one with no order at the venue (or no fill) by the end of the stage is a miss. */
  rate: number; sent: number; accepted: number; atVenue: number; filled: number; missedVenue: number; missedFill: number; achievedPerSec: number;
  http: LatencySummary; toVenue: LatencySummary; toExecutions: LatencySummary; toPostgres: LatencySummary;
  /** Where the time goes, from the records' own timestamps (Kafka CreateTime, the processors' clocks). */
  hops: Hops;
  /** CPU per accepted alert by process, and how busy the machine's cores were, while the load ran. */
  cpu: CpuUse;
  /** Kafka requests and Postgres queries per accepted alert, by process (processes topology only). */
  requests: RequestsPerAlert | null;
  /** Resident memory by process at the end of the load, MB: all of it, and its own (anonymous) part. */
  rssMb: Record<string, number>;
  rssAnonMb: Record<string, number>;
  /** The broker's CPU per Kafka request the processes sent (its own internal requests included in the CPU), ms. */
  brokerMsPerKafkaRequest: number | null;
}

export interface PathReport { idle: IdleUse; rates: PathRate[] }

/** The stack with no traffic: cores used by process group over `seconds`, after start-up has settled. */
export interface IdleUse {
  seconds: number; coresByProcess: Record<string, number>; coresTotal: number; rssMb: Record<string, number>; rssAnonMb: Record<string, number>;
  /** Kafka requests and Postgres queries per second with no traffic, by process and API (processes topology). */
  requestsPerSec: RequestsPerAlert | null;
}

export interface Hops {
  /** Request sent → the signal written to `signals` (HTTP, auth, dedupe row, produce). */
  edge: LatencySummary;
  /** Signal on `signals` → decision written (fetch, risk + route, inside the decide transaction). */
  decide: LatencySummary;
  /** Order written → ACK written (decide commit, fetch, venue call, inside the connector transaction). */
  connector: LatencySummary;
  /** FILL on `executions` → position row in Postgres. */
  projection: LatencySummary;
  /** Alerts without an ACK at the venue, by what became of them (a denial's verdict and reason, or where they stopped). */
  missed: Record<string, number>;
}

/** Per-hop latencies of one run's alerts (signal ids containing `:<runId>-`). */
async function hopsOf(b: Target, runId: string, sentAt: Map<string, number>, projectedAt: Map<string, number>): Promise<Hops> {
  const T = b.topics;
  const at = new Map<string, { signal?: number; decision?: number; verdict?: string; order?: number; ack?: number; fill?: number }>();
  const slot = (id: string) => { let r = at.get(id); if (!r) at.set(id, (r = {})); return r; };
  const mine = (id: string) => id.includes(`:${runId}-`);
  await readToEnd(b.kafka, [T.signals, T.riskDecisions, T.orders, T.executions], async (topic, m) => {
    const ts = Number(m.timestamp);
    if (topic === T.signals) { const x = await b.codec.decode('Signal', m.value!); if (mine(x.signalId)) slot(x.signalId).signal = ts; }
    else if (topic === T.riskDecisions) { const x = await b.codec.decode('RiskDecision', m.value!); if (mine(x.signalId)) { const r = slot(x.signalId); r.decision = ts; r.verdict = x.verdict === 'APPROVED' ? 'APPROVED' : `${x.verdict} ${x.reason ?? ''}`.trim(); } }
    else if (topic === T.orders) { const x = await b.codec.decode('Order', m.value!); if (mine(x.signalId)) slot(x.signalId).order = ts; }
    else {
      const x = await b.codec.decode('ExecutionReport', m.value!);
      if (!mine(x.signalId)) return;
      if (x.type === 'ACK') slot(x.signalId).ack ??= ts;
      if (x.type === 'FILL') slot(x.signalId).fill ??= ts;
    }
  });
  const h = { edge: createLatencyHistogram(), decide: createLatencyHistogram(), connector: createLatencyHistogram(), projection: createLatencyHistogram() };
  for (const [id, r] of at) {
    const sent = sentAt.get(id);
    if (sent !== undefined && r.signal !== undefined) h.edge.recordMs(r.signal - sent);
    if (r.signal !== undefined && r.decision !== undefined) h.decide.recordMs(r.decision - r.signal);
    if (r.order !== undefined && r.ack !== undefined) h.connector.recordMs(r.ack - r.order);
    const p = projectedAt.get(id);
    if (r.fill !== undefined && p !== undefined) h.projection.recordMs(p - r.fill);
  }
  // What became of each accepted alert that has no ACK at the venue: the missedVenue figure, explained.
  const missed: Record<string, number> = {};
  for (const id of sentAt.keys()) {
    const r = at.get(id);
    const why = !r?.signal ? 'not on signals' : !r.verdict ? 'no decision' : r.verdict !== 'APPROVED' ? r.verdict : r.order === undefined ? 'approved, no order' : r.ack === undefined ? 'order, no ACK' : null;
    if (why) missed[why] = (missed[why] ?? 0) + 1;
  }
  return { edge: h.edge.summary(), decide: h.decide.summary(), connector: h.connector.summary(), projection: h.projection.summary(), missed };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, [...TS_NODE_ARGS, loadgenPath, JSON.stringify(o)], { maxBuffer: 512 * 1024 * 1024 });
  return JSON.parse(stdout) as LoadResult;
}

/** A fresh pipeline (own topics and schema) with limits opened wide, so the bench measures the path, not the gate. */
export async function benchPipeline(tag: string, components?: Component[]) {
  const stamp = `${tag}${Date.now().toString(36)}`;
  const level = process.env.BENCH_LOG_LEVEL ?? 'error';
  const log = createLogger('bench', level);
  const venue = createPaperVenueServer({ config: parsePaperConfig({ seed: 5 }), log });
  const env: NodeJS.ProcessEnv = {
    ...process.env, TOPIC_PREFIX: `bench-${stamp}.`, PG_SCHEMA: `bench_${stamp}`, LOG_LEVEL: level, EDGE_PORT: '0',
    ORDER_ROUTER_STRATEGIES: JSON.stringify(STRATEGIES), PAPER_VENUE_URL: await venue.start(0, '127.0.0.1'),
  };
  const pipeline = await startPipeline({ env, log, components });
  const codec = createCodec(pipeline.env.SCHEMA_REGISTRY_URL);
  await codec.register(pipeline.topics.control, 'Control');
  const kafka = createKafka(pipeline.env, 'bench', log);
  const producer = kafka.producer();
  await producer.connect();
  const wide = { maxPosition: 1e12, maxOrderQty: 1e9, maxOrderNotional: 1e15, maxGrossExposure: 1e18, dailyLossLimit: 1e15, maxOrdersPerMinute: 1e9, maxSignalAgeMs: 3_600_000 };
  await producer.send({ topic: pipeline.topics.control, acks: -1, messages: [controlMessage(codec, pipeline.topics.control, {
    controlId: `bench-${stamp}`, kind: 'LIMITS', scope: 'DESK', target: '*', state: null, payload: JSON.stringify(wide), actor: 'bench', reason: null, at: Date.now(), hlc: Date.now() * 1000,
  })] });
  await producer.disconnect();
  await new Promise((r) => setTimeout(r, 1500)); // the control record reaches the gate
  return { env, pipeline, venue, codec, kafka, stop: async () => { await pipeline.stop(); await venue.stop(); } };
}

/** What the measurement needs from a running pipeline, whatever its topology. */
interface Target {
  edgeUrl: string;
  strategies: { id: string; secret: string }[];
  kafka: Kafka;
  codec: Codec;
  topics: Topics;
  databaseUrl: string;
  pgSchema: string;
  /** The processes whose CPU the run accounts for, by name. */
  cpuGroups(): Record<string, number[]>;
  /** Where the component processes write their request counts (processes topology), and their pids. */
  stats: { dir: string; pids(): Record<string, number[]> } | null;
  stop(): Promise<void>;
}

/**
 * The shared services: the Kafka broker and the schema registry found by the ports they listen on
 * (whoever started them), and Postgres (server and backends).
 */
function serviceGroups(env: NodeJS.ProcessEnv = process.env): Record<string, number[]> {
  const port = (hostPort: string) => Number(hostPort.replace(/^[a-z]+:\/\//, '').split('/')[0].split(':').pop());
  const pid = (p: number) => { const x = pidListeningOn(p); return x === null ? [] : [x]; };
  return {
    // Every broker of the cluster (one on the default stack).
    kafka: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').flatMap((b) => pid(port(b.trim()))),
    registry: pid(port(env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081')),
    postgres: pidsNamed('postgres'),
  };
}

/**
 * 'processes' (default): one process per component (`order-router start --only <kind>`) and the paper
 * venue in its own, as deployed. 'single': every component in one process (`npm start`).
 */
export type Topology = 'processes' | 'single';

async function startTarget(topology: Topology): Promise<Target> {
  // The sink is measured on its own (benchSink); here it would only compete for the same cores.
  const kinds = ['edge', 'decide', 'connector', 'projection'];
  if (topology === 'single') {
    const b = await benchPipeline('path', kinds as Component[]);
    return {
      edgeUrl: b.pipeline.edgeUrl!, strategies: STRATEGIES.map((x) => ({ id: x.id, secret: SECRET })), kafka: b.kafka, codec: b.codec,
      topics: b.pipeline.topics, databaseUrl: b.pipeline.env.DATABASE_URL, pgSchema: b.pipeline.env.PG_SCHEMA, stop: b.stop, stats: null,
      // The pipeline, the paper venue and the bench's own consumer share this process.
      cpuGroups: () => ({ pipeline: [process.pid], ...serviceGroups() }),
    };
  }
  const run = runEnv('bench', { ...process.env, CHAOS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' });
  // BENCH_PROFILE=<dir>: each component writes a V8 CPU profile there when it stops (open in Chrome DevTools or speedscope).
  const profileDir = process.env.BENCH_PROFILE;
  const statsDir = mkdtempSync(join(tmpdir(), 'bench-stats-'));
  const fleet = await startFleet(run, { kinds, env: { ORDER_ROUTER_STATS_DIR: statsDir }, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : undefined });
  const componentPids = () => Object.fromEntries([...fleet.procs].map(([kind, list]) => [kind, list.flatMap((m) => (m.pid === undefined ? [] : [m.pid]))]));
  return {
    stats: { dir: statsDir, pids: componentPids },
    edgeUrl: fleet.edgeUrls[0], strategies: run.strategies.map((x) => ({ id: x.id, secret: x.secrets[0] })), kafka: fleet.kafka, codec: fleet.codec,
    topics: run.topics, databaseUrl: run.runtime.DATABASE_URL, pgSchema: run.runtime.PG_SCHEMA, stop: () => fleet.stop(),
    cpuGroups: () => ({
      ...componentPids(),
      'paper-venue': fleet.venue.pid === undefined ? [] : [fleet.venue.pid],
      bench: [process.pid],
      ...serviceGroups(),
    }),
  };
}

export async function benchPath(rates: number[], seconds: number, onProgress: (line: string) => void, topology: Topology = 'processes', idleSeconds = 20): Promise<PathReport> {
  const b = await startTarget(topology);
  // Order at the venue: the venue's own time on its ACK (same machine clock as the load generator).
  const venueAt = new Map<string, number>(); // by signal id: the venue's time on the first ACK
  const fills = new Map<string, { at: number; clientOrderId: string }>();
  // The broker answers a waiting fetch as soon as a record arrives, so a long wait costs no latency; a
  // short one (or committing offsets) would add hundreds of requests a second to the broker it measures.
  const consumer = b.kafka.consumer({ groupId: `bench-exec-${Date.now()}`, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
  await consumer.connect();
  await consumer.subscribe({ topic: b.topics.executions, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => {
    const now = preciseNow();
    for (const m of batch.messages) {
      const e = await b.codec.decode('ExecutionReport', m.value!);
      if (e.type === 'ACK' && e.venueTime !== null && !venueAt.has(e.signalId)) venueAt.set(e.signalId, e.venueTime);
      if (e.type === 'FILL' && !fills.has(e.signalId)) fills.set(e.signalId, { at: now, clientOrderId: e.clientOrderId });
    }
  } });
  const pool = createPool({ DATABASE_URL: b.databaseUrl, PG_SCHEMA: b.pgSchema });
  const out: PathRate[] = [];
  let idle: IdleUse | null = null;
  try {
    // No traffic: what the stack costs doing nothing (heartbeats, empty fetches, timers).
    await new Promise((r) => setTimeout(r, 3_000));
    const idleBefore = b.stats ? await snapshot(b.stats.dir, b.stats.pids()) : null;
    const idleMeter = cpuMeter(b.cpuGroups);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleMs = idleMeter.done(1).msPerAlert;
    const cores = Object.fromEntries(Object.entries(idleMs).filter(([k]) => k !== 'bench').map(([k, ms]) => [k, Math.round((ms / (idleSeconds * 1000)) * 1000) / 1000]));
    idle = { seconds: idleSeconds, coresByProcess: cores, coresTotal: Math.round(Object.values(cores).reduce((a, x) => a + x, 0) * 1000) / 1000, ...memoryOf(b.cpuGroups()),
      requestsPerSec: b.stats && idleBefore ? perAlert(idleBefore, await snapshot(b.stats.dir, b.stats.pids()), idleSeconds) : null };
    onProgress(`idle ${idleSeconds} s: ${idle.coresTotal} cores (${Object.entries(cores).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    for (const rate of rates) {
      const runId = `r${rate}-${Date.now().toString(36)}`;
      const before = b.stats ? await snapshot(b.stats.dir, b.stats.pids()) : null;
      const meter = cpuMeter(b.cpuGroups);
      const load = await runLoad({ url: `${b.edgeUrl}/webhooks/tradingview`, rate, count: rate * seconds, seconds, connections: 64, runId, strategies: b.strategies, symbols: SYMBOLS });
      // CPU over the load itself: steady state at this rate (the drain below is not counted).
      const cpu = meter.done(load.ok);
      const { rssMb, rssAnonMb } = memoryOf(b.cpuGroups());
      const requests = b.stats && before ? perAlert(before, await snapshot(b.stats.dir, b.stats.pids()), load.ok) : null;
      const ids = load.samples.map(([id]) => id);
      // Wait for the fills until all are in, or none came for 5 s (an alert the venue did not fill), 30 s at most.
      const until = Date.now() + 30_000;
      const filledNow = () => ids.filter((id) => fills.has(id)).length;
      let filled = filledNow(), lastChange = Date.now();
      while (filled < ids.length && Date.now() < until && Date.now() - lastChange < 5_000) {
        await new Promise((r) => setTimeout(r, 200));
        const n = filledNow();
        if (n !== filled) { filled = n; lastChange = Date.now(); }
      }
      await new Promise((r) => setTimeout(r, 1000)); // the projection's last batch
      const { rows } = await pool.query<{ signal_id: string; at: number }>(
        `SELECT signal_id, extract(epoch from projected_at) * 1000 AS at FROM executions WHERE type = 'FILL' AND signal_id LIKE $1`, [`%:${runId}-%`]);
      const pg = new Map(rows.map((r) => [r.signal_id, Number(r.at)]));
      const h = { http: createLatencyHistogram(), venue: createLatencyHistogram(), exec: createLatencyHistogram(), pg: createLatencyHistogram() };
      let atVenue = 0;
      for (const [id, t0, t1] of load.samples) {
        h.http.recordMs(t1 - t0);
        const v = venueAt.get(id);
        if (v !== undefined) { atVenue++; h.venue.recordMs(v - t0); }
        const f = fills.get(id);
        if (!f) continue;
        h.exec.recordMs(f.at - t0);
        const p = pg.get(id);
        if (p !== undefined) h.pg.recordMs(p - t0);
      }
      const r: PathRate = {
        rate, sent: load.sent, accepted: load.ok, atVenue, filled: filledNow(), missedVenue: load.ok - atVenue, missedFill: load.ok - filledNow(),
        achievedPerSec: Math.round(load.ok / (load.elapsedMs / 1000)),
        http: h.http.summary(), toVenue: h.venue.summary(), toExecutions: h.exec.summary(), toPostgres: h.pg.summary(),
        hops: await hopsOf(b, runId, new Map(load.samples.map(([id, t0]) => [id, t0])), pg),
        cpu, requests, rssMb, rssAnonMb,
        brokerMsPerKafkaRequest: requests && requests.kafkaTotal > 0 && cpu.msPerAlert.kafka !== undefined
          ? Math.round((cpu.msPerAlert.kafka / requests.kafkaTotal) * 1000) / 1000 : null,
      };
      out.push(r);
      onProgress(`path ${rate}/s hops p50/p99 ms: edge ${r.hops.edge.p50ms}/${r.hops.edge.p99ms}, decide ${r.hops.decide.p50ms}/${r.hops.decide.p99ms}, connector ${r.hops.connector.p50ms}/${r.hops.connector.p99ms}, projection ${r.hops.projection.p50ms}/${r.hops.projection.p99ms}`);
      onProgress(`path ${rate}/s CPU ms per alert: ${Object.entries(r.cpu.msPerAlert).map(([k, v]) => `${k} ${v}`).join(', ')}; cores busy ${r.cpu.machineBusy === null ? '?' : `${Math.round(r.cpu.machineBusy * 100)}%`}`);
      if (r.requests) onProgress(`path ${rate}/s per alert: broker ${r.brokerMsPerKafkaRequest} ms of CPU per request, ${r.requests.kafkaTotal} Kafka requests (${Object.entries(r.requests.kafka).map(([k, v]) => `${k} ${Object.values(v).reduce((a, x) => a + x, 0).toFixed(1)}`).join(', ')}), Postgres queries ${JSON.stringify(r.requests.pg)}`);
      onProgress(`path ${rate}/s: accepted ${r.accepted}/${r.sent}, at venue ${r.atVenue}, filled ${r.filled}, order at venue p50 ${r.toVenue.p50ms} ms p99 ${r.toVenue.p99ms} ms, fill on executions p99 ${r.toExecutions.p99ms} ms, position in Postgres p99 ${r.toPostgres.p99ms} ms`);
      if (Object.keys(r.hops.missed).length > 0) onProgress(`path ${rate}/s: not at the venue: ${JSON.stringify(r.hops.missed)}`);
    }
  } finally {
    await consumer.disconnect();
    await pool.end();
    await b.stop();
  }
  return { idle: idle!, rates: out };
}
