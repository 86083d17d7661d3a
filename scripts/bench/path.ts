// The whole path at fixed rates: alert posted over HTTP (by a separate load-generator process) →
// order at the paper venue → fill on `executions` → position row in Postgres.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createPaperVenueServer } from '../../connectors/paper/server.ts';
import { parsePaperConfig } from '../../connectors/paper/config.ts';
import { createCodec } from '../../schemas/codec.ts';
import { accountHeaders } from '../../streams/runtime/consume.ts';
import { createPool } from '../../streams/runtime/db.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { startPipeline, type Component } from '../pipeline.ts';
import { createLatencyHistogram, preciseNow, type LatencySummary } from './hist.ts';
import type { LoadOptions, LoadResult } from './loadgen.ts';

const run = promisify(execFile);
const loadgenPath = fileURLToPath(new URL('./loadgen.ts', import.meta.url));
const SECRET = 'bench-secret-0123456789abcdef';
const STRATEGIES = Array.from({ length: 6 }, (_, i) => ({ id: `bench-${i}`, account: `BENCH-${i}`, secrets: [SECRET] }));
const SYMBOLS = ['AAPL', 'MSFT'];

export interface PathRate {
  rate: number; sent: number; accepted: number; filled: number; achievedPerSec: number;
  http: LatencySummary; toVenue: LatencySummary; toExecutions: LatencySummary; toPostgres: LatencySummary;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', loadgenPath, JSON.stringify(o)], { maxBuffer: 512 * 1024 * 1024 });
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
  await producer.send({ topic: pipeline.topics.control, acks: -1, messages: [{ key: 'LIMITS|DESK|*', headers: accountHeaders('*'), value: codec.encode(pipeline.topics.control, {
    controlId: `bench-${stamp}`, kind: 'LIMITS', scope: 'DESK', target: '*', state: null, payload: JSON.stringify(wide), actor: 'bench', reason: null, at: Date.now(), hlc: Date.now() * 1000,
  }) }] });
  await producer.disconnect();
  await new Promise((r) => setTimeout(r, 1500)); // the control record reaches the gate
  return { env, pipeline, venue, codec, kafka, stop: async () => { await pipeline.stop(); await venue.stop(); } };
}

export async function benchPath(rates: number[], seconds: number, onProgress: (line: string) => void): Promise<PathRate[]> {
  // The sink is measured on its own (benchSink); here it would only compete for the same core.
  const b = await benchPipeline('path', ['edge', 'decide', 'connector', 'projection']);
  const venueAt = new Map<string, number>();
  const off = b.venue.venue.onEvent((ev) => {
    if (ev.kind === 'order' && !venueAt.has(ev.order.clientOrderId)) venueAt.set(ev.order.clientOrderId, preciseNow());
  });
  const fills = new Map<string, { at: number; clientOrderId: string }>();
  const consumer = b.kafka.consumer({ groupId: `bench-exec-${Date.now()}`, maxWaitTimeInMs: 5 });
  await consumer.connect();
  await consumer.subscribe({ topic: b.pipeline.topics.executions, fromBeginning: true });
  await consumer.run({ eachBatch: async ({ batch }) => {
    const now = preciseNow();
    for (const m of batch.messages) {
      const e = await b.codec.decode('ExecutionReport', m.value!);
      if (e.type === 'FILL' && !fills.has(e.signalId)) fills.set(e.signalId, { at: now, clientOrderId: e.clientOrderId });
    }
  } });
  const pool = createPool({ DATABASE_URL: b.pipeline.env.DATABASE_URL, PG_SCHEMA: b.pipeline.env.PG_SCHEMA });
  const out: PathRate[] = [];
  try {
    for (const rate of rates) {
      const runId = `r${rate}-${Date.now().toString(36)}`;
      const load = await runLoad({ url: `${b.pipeline.edgeUrl}/webhooks/tradingview`, rate, count: rate * seconds, seconds, connections: 64, runId, strategies: STRATEGIES.map((s) => ({ id: s.id, secret: SECRET })), symbols: SYMBOLS });
      const ids = load.samples.map(([id]) => id);
      const until = Date.now() + 30_000;
      while (ids.some((id) => !fills.has(id)) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 1000)); // the projection's last batch
      const { rows } = await pool.query<{ signal_id: string; at: number }>(
        `SELECT signal_id, extract(epoch from projected_at) * 1000 AS at FROM executions WHERE type = 'FILL' AND signal_id LIKE $1`, [`%:${runId}-%`]);
      const pg = new Map(rows.map((r) => [r.signal_id, Number(r.at)]));
      const h = { http: createLatencyHistogram(), venue: createLatencyHistogram(), exec: createLatencyHistogram(), pg: createLatencyHistogram() };
      for (const [id, t0, t1] of load.samples) {
        h.http.recordMs(t1 - t0);
        const f = fills.get(id);
        if (!f) continue;
        const v = venueAt.get(f.clientOrderId);
        if (v !== undefined) h.venue.recordMs(v - t0);
        h.exec.recordMs(f.at - t0);
        const p = pg.get(id);
        if (p !== undefined) h.pg.recordMs(p - t0);
      }
      const r: PathRate = {
        rate, sent: load.sent, accepted: load.ok, filled: ids.filter((id) => fills.has(id)).length,
        achievedPerSec: Math.round(load.ok / (load.elapsedMs / 1000)),
        http: h.http.summary(), toVenue: h.venue.summary(), toExecutions: h.exec.summary(), toPostgres: h.pg.summary(),
      };
      out.push(r);
      onProgress(`path ${rate}/s: accepted ${r.accepted}/${r.sent}, order at venue p50 ${r.toVenue.p50ms} ms p99 ${r.toVenue.p99ms} ms, fill on executions p99 ${r.toExecutions.p99ms} ms, position in Postgres p99 ${r.toPostgres.p99ms} ms`);
    }
  } finally {
    off();
    await consumer.disconnect();
    await pool.end();
    await b.stop();
  }
  return out;
}
