// The composition root: builds each component from the environment and starts the ones asked for.
// `npm start` runs them all in one process; `order-router start --only decide` runs one kind, so
// they can be scaled, restarted and killed one at a time.
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { loadAnalyticsConfig } from '../analytics/config.ts';
import { openAnalyticsDb } from '../analytics/db.ts';
import { analyticsRoutes, requireBearer } from '../analytics/routes.ts';
import { createAnalyticsSink } from '../analytics/sink.ts';
import { createCodec, type Codec, type RecordName } from '../schemas/codec.ts';
import { createAccept, startKafkaProbe } from '../edge/accept.ts';
import { createEdgeApp } from '../edge/app.ts';
import { consumerSpecs, startDashboard, type ConnectorProbe } from '../edge/dashboard/index.ts';
import { loadEdgeConfig } from '../edge/config.ts';
import { startOps } from '../edge/ops/index.ts';
import { createConnectorRuntime } from '../connectors/runtime.ts';
import { selectVenues, venueNames } from '../connectors/select.ts';
import { createDecideProcessor } from '../streams/decide/processor.ts';
import { createProjection } from '../streams/projection/processor.ts';
import { createShadowFiller } from '../streams/shadow/processor.ts';
import { createPool, migrate, type Pool } from '../streams/runtime/db.ts';
import { loadRuntimeEnv, type RuntimeEnv } from '../streams/runtime/env.ts';
import { createHlc } from '../streams/runtime/hlc.ts';
import { AccountPartitioner, createKafka } from '../streams/runtime/kafka.ts';
import { createLogger } from '../streams/runtime/log.ts';
import { ensureTopics, topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../streams/runtime/topics.ts';

export const COMPONENTS = ['edge', 'decide', 'connector', 'projection', 'sink'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Pipeline { env: RuntimeEnv; topics: Topics; edgeUrl: string | null; stop(): Promise<void> }

interface Stoppable { name: string; stop(): Promise<void> }

/** Creates topics, refuses existing ones less durable than configured, registers every schema; safe to run from every process at start. */
export async function prepare(env: RuntimeEnv, kafka: Kafka, codec: Codec): Promise<Topics> {
  const topics = topicNames(env.TOPIC_PREFIX);
  const admin = kafka.admin();
  await admin.connect();
  try { await ensureTopics(admin, topics, env.TOPIC_PARTITIONS, env); } finally { await admin.disconnect(); }
  for (const k of Object.keys(topics) as TopicKey[]) await codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName);
  return topics;
}

export async function startPipeline(opts: { components?: readonly Component[]; env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<Pipeline> {
  const rawEnv = opts.env ?? process.env;
  const env = loadRuntimeEnv(rawEnv);
  const log = opts.log ?? createLogger('order-router', env.LOG_LEVEL);
  const want = new Set(opts.components ?? COMPONENTS);
  const kafka = createKafka(env, [...want].join('+'), log);
  const codec = createCodec(env.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const group = (name: string) => `${env.TOPIC_PREFIX}order-router-${name}`;
  const txId = (name: string) => `${env.TOPIC_PREFIX}order-router-${name}-${env.INSTANCE_ID}`;

  const needsDb = want.has('edge') || want.has('projection');
  if (needsDb) await migrate(env);
  const topics = await prepare(env, kafka, codec);
  const pool: Pool | null = needsDb ? createPool(env) : null;
  const started: Stoppable[] = [];
  let edgeUrl: string | null = null;
  const probes: ConnectorProbe[] = []; // connectors in this process, for the dashboard's venue health

  try {
    if (want.has('projection')) {
      const p = createProjection({ kafka, pool: pool!, codec, log: log.child({ component: 'projection' }), topic: topics.executions, groupId: group('projection') });
      await p.start();
      started.push({ name: 'projection', stop: () => p.stop() });
      // Shadow twins are filled beside the live projection, into their own table (never `executions`).
      const shadow = createShadowFiller({ kafka, pool: pool!, codec, topics, log: log.child({ component: 'shadow' }) });
      await shadow.start();
      started.push({ name: 'shadow', stop: () => shadow.stop() });
    }
    if (want.has('sink')) {
      const s = createAnalyticsSink({ kafka, codec, log: log.child({ component: 'sink' }), topics, groupId: group('analytics-sink'), config: loadAnalyticsConfig(rawEnv) });
      await s.start();
      started.push({ name: 'sink', stop: () => s.stop() });
    }
    if (want.has('connector')) {
      // One runtime per venue (VENUES=paper,alpaca,binance); each fails closed on its own.
      for (const v of selectVenues(rawEnv, log.child({ component: 'venue' }))) {
        const c = createConnectorRuntime({
          kafka, codec, log: log.child({ component: 'connector' }), hlc, topics, client: v.client,
          groupId: group(`connector-${v.name}`), transactionalId: txId(`connector-${v.name}`), quoteSymbols: v.quoteSymbols,
        });
        await c.start();
        started.push({ name: `connector-${v.name}`, stop: () => c.stop() });
        probes.push({ venue: v.name, status: () => c.status(), health: () => v.client.health() });
      }
    }
    if (want.has('decide')) {
      const d = createDecideProcessor({ kafka, codec, log: log.child({ component: 'decide' }), hlc, topics, groupId: group('decide'), transactionalIdBase: group('decide') });
      await d.start();
      started.push({ name: 'decide', stop: () => d.stop() });
    }
    if (want.has('edge')) {
      const edgeConfig = loadEdgeConfig(rawEnv);
      const ops = await startOps({ kafka, pool: pool!, codec, controlTopic: topics.control, log: log.child({ component: 'ops' }), hlc: () => hlc.now(), env: rawEnv });
      started.push({ name: 'ops', stop: () => ops.stop() });
      const registry = new Registry();
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: AccountPartitioner });
      await producer.connect();
      let ready = true;
      const accept = createAccept({ producer, pool: pool!, codec, topic: topics.signals });
      // Not ready while Kafka does not acknowledge: a produce waiting longer than the accept timeout, or
      // the last produce failed and nothing has worked since (a produce, or a probe every second).
      const kafkaProbe = startKafkaProbe(kafka, topics.signals, accept.health, log.child({ component: 'edge' }), edgeConfig.acceptTimeoutMs);
      started.push({ name: 'edge-kafka-probe', stop: () => kafkaProbe.stop() });
      const app = createEdgeApp({
        config: edgeConfig, log: log.child({ component: 'edge' }), clock: Date.now, hlc: () => hlc.now(),
        accept, ready: () => ready && kafkaProbe.up(), registry,
        extraRoutes: (a) => ops.register(a),
      });
      // Read-only SQL over the sink's Parquet files (same ANALYTICS_DIR), for any ops token.
      const analyticsConfig = loadAnalyticsConfig(rawEnv);
      const analyticsDb = await openAnalyticsDb({ dir: analyticsConfig.ANALYTICS_DIR, timeoutMs: analyticsConfig.ANALYTICS_QUERY_TIMEOUT_MS, maxRows: analyticsConfig.ANALYTICS_QUERY_MAX_ROWS });
      started.push({ name: 'analytics-api', stop: async () => analyticsDb.close() });
      await app.register(analyticsRoutes, { db: analyticsDb, preHandler: requireBearer(ops.auth) });
      const dashboard = await startDashboard({
        kafka, codec, pool: pool!, topics, log: log.child({ component: 'dashboard' }), auth: ops.auth, env: rawEnv, registry, analytics: analyticsDb,
        strategies: edgeConfig.strategies.map((s) => ({ id: s.id, account: s.account })),
        consumers: consumerSpecs(topics, group, venueNames(rawEnv)), venues: venueNames(rawEnv), connectors: probes,
      });
      if (dashboard) {
        started.push({ name: 'dashboard', stop: () => dashboard.stop() });
        dashboard.register(app);
      }
      edgeUrl = await app.listen({ port: edgeConfig.port, host: edgeConfig.host });
      log.info({ url: edgeUrl }, 'edge listening');
      started.push({ name: 'edge', stop: async () => { ready = false; await app.close(); await producer.disconnect(); } });
    }
  } catch (e) {
    await stopAll(started, log);
    await pool?.end();
    throw e;
  }

  return {
    env, topics, edgeUrl,
    async stop() {
      await stopAll(started, log);
      await pool?.end();
    },
  };
}

/** Front door first (stop taking work), then the processors behind it, each finishing its batch. */
async function stopAll(started: Stoppable[], log: Logger): Promise<void> {
  for (const s of [...started].reverse()) {
    try { await s.stop(); } catch (e) { log.warn({ err: e, component: s.name }, 'stop failed'); }
  }
}
