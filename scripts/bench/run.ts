// npm run bench: measures, in one run, the in-process decision, the whole path at fixed rates beside
// the raw Kafka floor at the same rates, edge ingest, the analytics sink and recovery after a kill; writes bench/report.json
// and prints a summary. Options: BENCH_RATES (default 100,250,500,1000,2000), BENCH_SECONDS (default 5),
// BENCH_ONLY (some of decide,path,floor,txn,ingest,sink,recovery,analytics,backtest; a partial run writes bench/report-partial.json),
// BENCH_RECOVERY_SECONDS (default 40: load per kind in the recovery stage, the kill 5 s in),
// BENCH_RECOVERY_HISTORY (default 0: alerts run through the pipeline before the recovery stage's first kill),
// BENCH_TOPOLOGY (processes: one process per component, the default; single: all in one process),
// BENCH_IDLE_SECONDS (default 20: the stack's CPU with no traffic, before the path's first rate),
// BENCH_PROFILE (a directory for V8 CPU profiles of the component processes), BENCH_LOG_LEVEL (default error),
// BENCH_CLUSTER_NODES (e.g. 3: after the stages above, path, floor, txn and ingest again on a cluster of that many
// nodes of the bench's own, started on free ports beside the stack and removed after, with the topics replicated
// as configured for it; the report's `cluster` and `clusterOverSingle` hold those figures and their ratios).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { benchFloor } from './floor.ts';
import { benchIngest } from './ingest.ts';
import { benchPath, type Topology } from './path.ts';
import { benchTxn } from './txn.ts';
import type { Kafka } from 'kafkajs';
import { startOwnCluster } from '../kafka/ownCluster.ts';
import { resolveDurability } from '../../streams/runtime/durability.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rates = (process.env.BENCH_RATES ?? '100,250,500,1000,2000').split(',').map(Number);
const STAGES = ['decide', 'path', 'floor', 'txn', 'ingest', 'sink', 'recovery', 'analytics', 'backtest'] as const;
const only = new Set((process.env.BENCH_ONLY ?? STAGES.join(',')).split(',').map((x) => x.trim()).filter(Boolean));
for (const s of only) if (!(STAGES as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY: unknown stage "${s}" (known: ${STAGES.join(', ')})`);
const topology = (process.env.BENCH_TOPOLOGY ?? 'processes') as Topology;
if (topology !== 'processes' && topology !== 'single') throw new Error(`BENCH_TOPOLOGY: "${String(topology)}" is neither processes nor single`);
const partial = STAGES.some((s) => !only.has(s));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// KAFKA_NODES=3 npm run bench means the same (the bench's own stack stays one node: package.json's bench
// script starts it with KAFKA_NODES=1), so the cluster's figures come beside the single node's.
const clusterVar = process.env.BENCH_CLUSTER_NODES !== undefined ? 'BENCH_CLUSTER_NODES' : 'KAFKA_NODES';
const clusterNodes = Number(process.env[clusterVar] ?? 0);
if (!Number.isInteger(clusterNodes) || clusterNodes < 0) throw new Error(`${clusterVar}: "${process.env[clusterVar]}" is not a number of nodes`);
const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function versions() {
  const pkg = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const env = loadRuntimeEnv();
  await migrate(env); // a fresh machine has no database yet; the stages' components would create it later
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  const pgVersion = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await client.end();
  const kafka = readFileSync(join(root, 'scripts/kafka/pom.xml'), 'utf8').match(/<kafka.version>(.*)<\/kafka.version>/)?.[1];
  return { node: process.version, kafka, kafkajs: pkg('kafkajs'), fastify: pkg('fastify'), postgres: pgVersion, duckdb: pkg('@duckdb/node-api') };
}

interface KafkaStages {
  idle?: Awaited<ReturnType<typeof benchPath>>['idle'];
  path?: Awaited<ReturnType<typeof benchPath>>['rates'];
  floor?: Awaited<ReturnType<typeof benchFloor>>[];
  pathOverFloor?: { rate: number; p99Ratio: number | null }[];
  txn?: Awaited<ReturnType<typeof benchTxn>>;
  ingest?: Awaited<ReturnType<typeof benchIngest>>;
}

/** The stages that go through Kafka, against the cluster `kafka` and process.env point at. */
async function kafkaStages(kafka: Kafka, label: string): Promise<KafkaStages> {
  const out: KafkaStages = {};
  if (only.has('path')) {
    say(label + `path: ${rates.join(', ')} alerts/s for ${seconds} s each`);
    const p = await benchPath(rates, seconds, say, topology, Number(process.env.BENCH_IDLE_SECONDS ?? 20));
    out.idle = p.idle;
    out.path = p.rates;
  }
  if (only.has('floor')) {
    say(label + 'floor: raw kafkajs produce → consume at the same rates');
    const floor: Awaited<ReturnType<typeof benchFloor>>[] = [];
    for (const rate of rates) {
      const f = await benchFloor(kafka, rate, seconds);
      floor.push(f);
      say(label + `floor ${rate}/s: p50 ${f.p50ms} ms p99 ${f.p99ms} ms`);
    }
    out.floor = floor;
  }
  if (only.has('txn')) {
    say(label + 'txn: one Kafka transaction (record + offsets + commit), step by step');
    const t = await benchTxn(kafka);
    out.txn = t;
    say(label + `txn: p50 ${t.total.p50ms} ms p99 ${t.total.p99ms} ms (send ${t.send.p50ms}, offsets ${t.offsets.p50ms}, commit ${t.commit.p50ms} ms at p50)`);
  }
  const { path, floor } = out;
  if (path && floor) out.pathOverFloor = path.map((p, i) => ({ rate: p.rate, p99Ratio: floor[i].p99ms > 0 ? Math.round((p.toVenue.p99ms / floor[i].p99ms) * 100) / 100 : null }));
  if (only.has('ingest')) {
    say(label + 'ingest: edge → signals (acks=all), load from a separate process');
    out.ingest = await benchIngest(seconds, 64);
  }

  return out;
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** Cluster figure ÷ single-node figure, stage by stage (latency: > 1 is slower; ingest: < 1 is fewer alerts/s). */
function clusterRatios(single: KafkaStages, cluster: KafkaStages) {
  return {
    path: cluster.path?.map((c) => {
      const s = single.path?.find((x) => x.rate === c.rate);
      return { rate: c.rate, toVenueP50: ratio(c.toVenue.p50ms, s?.toVenue.p50ms), toVenueP99: ratio(c.toVenue.p99ms, s?.toVenue.p99ms) };
    }) ?? null,
    floor: cluster.floor?.map((c) => {
      const s = single.floor?.find((x) => x.rate === c.rate);
      return { rate: c.rate, p50: ratio(c.p50ms, s?.p50ms), p99: ratio(c.p99ms, s?.p99ms) };
    }) ?? null,
    txn: cluster.txn && single.txn ? { p50: ratio(cluster.txn.total.p50ms, single.txn.total.p50ms), p99: ratio(cluster.txn.total.p99ms, single.txn.total.p99ms) } : null,
    ingestPerSec: ratio(cluster.ingest?.perSec, single.ingest?.perSec),
  };
}

async function main(): Promise<void> {
  const env = loadRuntimeEnv();
  const kafka = createKafka(env, 'bench', createLogger('bench', 'error'));
  const report: Record<string, unknown> = {
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    versions: await versions(),
    settings: { rates, secondsPerRate: seconds, topology, clusterNodes, note: 'broker, registry, Postgres, pipeline and load generator share this machine' },
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };

  if (only.has('decide')) {
    say('decide: in-process risk + route');
    report.decide = await (await import('./decide.ts')).benchDecide();
  }

  Object.assign(report, await kafkaStages(kafka, ''));
  const path = report.path as KafkaStages['path'];
  if (path) {
    // Every alert accepted at the asked rate (fills depend on the paper book: some orders fill in part).
    const kept = (p: (typeof path)[number]) => p.accepted >= p.sent * 0.99 && p.achievedPerSec >= p.rate * 0.95;
    report.maxSustainedUnder50msP99 = Math.max(0, ...path.filter((p) => kept(p) && p.toVenue.p99ms < 50).map((p) => p.rate));
    // The highest rate the path kept pace with (every alert through, order at venue p99 under a second) rather than queueing.
    report.maxSustainedRate = Math.max(0, ...path.filter((p) => kept(p) && p.toVenue.p99ms < 1000).map((p) => p.rate));
  }
  if (clusterNodes > 1 && ['path', 'floor', 'txn', 'ingest'].some((st) => only.has(st))) {
    say(`cluster: starting ${clusterNodes} nodes of the bench's own beside the stack`);
    const cluster = await startOwnCluster({ nodes: clusterNodes });
    const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL };
    try {
      Object.assign(process.env, { KAFKA_BROKERS: cluster.brokers, SCHEMA_REGISTRY_URL: cluster.registryUrl });
      const clusterEnv = loadRuntimeEnv();
      const ck = createKafka(clusterEnv, 'bench', createLogger('bench', 'error'));
      const durability = resolveDurability(clusterEnv, clusterNodes);
      const c = await kafkaStages(ck, `cluster(${clusterNodes}) `);
      report.cluster = { nodes: clusterNodes, durability, ...c };
      report.clusterOverSingle = clusterRatios(report as KafkaStages, c);
    } finally {
      for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
      await cluster.down();
    }
  }

  if (only.has('sink')) {
    say('sink: Arrow → Parquet and the P&L query over one million fills');
    report.sink = await (await import('./sink.ts')).benchSink();
  }

  if (only.has('analytics')) {
    // Long enough for the query to reach its time limit (10 s by default) inside the window.
    const s = Math.max(seconds, 20);
    say(`analytics: edge HTTP at 100 alerts/s for ${s} s, alone and with a heavy ad-hoc query beside it`);
    const a = await (await import('./analytics.ts')).benchAnalytics(100, s, say);
    report.analytics = a;
    say(`analytics: HTTP p50/p99 alone ${a.alone.http.p50ms}/${a.alone.http.p99ms} ms, with the query ${a.withQuery.http.p50ms}/${a.withQuery.http.p99ms} ms (x${a.p50Ratio}/x${a.p99Ratio})`);
  }

  if (only.has('recovery')) {
    const rs = Number(process.env.BENCH_RECOVERY_SECONDS ?? 40);
    say(`recovery: each kind SIGKILLed under 100 alerts/s and started again at once (${rs} s of load per kind)`);
    report.recovery = await (await import('./recovery.ts')).benchRecovery({ rate: 100, seconds: rs, history: Number(process.env.BENCH_RECOVERY_HISTORY ?? 0), say });
  }

  if (only.has('backtest')) {
    say('backtest: seeded quotes through each example strategy, decide and the paper book, in process');
    const b = (await import('./backtest.ts')).benchBacktest();
    report.backtest = b;
    for (const r of b) say(`backtest ${r.strategy}: ${r.quotesPerSec} quotes/s, ${r.cpuMsPer1000Quotes} CPU ms per 1,000 quotes (${r.signals} signals, ${r.fills} fills)`);
  }

  report.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  mkdirSync(join(root, 'bench'), { recursive: true });
  const file = join(root, 'bench', partial ? 'report-partial.json' : 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  say(`wrote ${file}`);
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
