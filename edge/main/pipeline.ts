// The composition root: builds each component from the environment and starts the ones asked for.
// `npm start` runs them all in one process; `order-router start --only decide` runs one kind, so
// they can be scaled, restarted and killed one at a time.
//
// Recovery after a crash: a kind's modules are loaded only when the process runs it (a restarted decide
// does not load Fastify or DuckDB first); the edge starts before the processors, so intake never waits
// for a consumer group; each processor first removes its own dead predecessor from its group
// (streams/runtime/membership.ts) instead of waiting out the predecessor's session.
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createCodec, type Codec, type RecordName } from '../../schemas/codec.ts';
import type { ConnectorProbe } from '../dashboard/index.ts';
import { createPool, migrate, type Pool } from '../../streams/runtime/db.ts';
import { loadRuntimeEnv, type RuntimeEnv } from '../../streams/runtime/env.ts';
import { createHlc } from '../../schemas/hlc.ts';
import { AccountPartitioner, createKafka, kafkaConfig } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { topicNames, TOPIC_SCHEMA, type TopicKey, type Topics } from '../../schemas/topics.ts';
import { ensureTopics } from '../../streams/runtime/topics.ts';

export const COMPONENTS = ['edge', 'decide', 'connector', 'projection', 'sink'] as const;
/** Started only when named in --only: they need settings of their own (strategies: STRATEGIES_DIR). */
export const OPTIONAL_COMPONENTS = ['strategies'] as const;
export type Component = (typeof COMPONENTS)[number] | (typeof OPTIONAL_COMPONENTS)[number];

export interface Pipeline { env: RuntimeEnv; topics: Topics; edgeUrl: string | null; stop(): Promise<void> }

interface Stoppable { name: string; stop(): Promise<void> }

/** Creates topics, refuses existing ones less durable than configured, registers every schema; safe to run from every process at start. */
export async function prepare(env: RuntimeEnv, kafka: Kafka, codec: Codec): Promise<Topics> {
  const topics = topicNames(env.TOPIC_PREFIX);
  const admin = kafka.admin();
  await admin.connect();
  try { await ensureTopics(admin, topics, env.TOPIC_PARTITIONS, env); } finally { await admin.disconnect(); }
  await Promise.all((Object.keys(topics) as TopicKey[]).map((k) => codec.register(topics[k], TOPIC_SCHEMA[k] as RecordName)));
  return topics;
}

export async function startPipeline(opts: { components?: readonly Component[]; env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<Pipeline> {
  const rawEnv = opts.env ?? process.env;
  const env = loadRuntimeEnv(rawEnv);
  const log = opts.log ?? createLogger('order-router', env.LOG_LEVEL);
  const want = new Set<Component>(opts.components ?? COMPONENTS);
  // The instance id is part of the client id: the identity a restarted instance recognises its dead
  // predecessor by in its consumer groups (membership.ts).
  const clientName = `${[...want].join('+')}-${env.INSTANCE_ID}`;
  const kafka = createKafka(env, clientName, log);
  const instanceClientId = kafkaConfig(env, clientName, log).clientId!;
  const codec = createCodec(env.SCHEMA_REGISTRY_URL);
  const hlc = createHlc();
  const group = (name: string) => `${env.TOPIC_PREFIX}order-router-${name}`;
  const txId = (name: string) => `${env.TOPIC_PREFIX}order-router-${name}-${env.INSTANCE_ID}`;

  const needsDb = want.has('edge') || want.has('projection');
  if (needsDb) await migrate(env);
  const topics = await prepare(env, kafka, codec);
  const pool: Pool | null = needsDb ? createPool(env) : null;
  const started: Stoppable[] = [];
  let front: Stoppable[] = [];
  // How long a start takes, from the process's own start (module loading included): what a restart costs.
  const sinceStart = () => Math.round(performance.now());
  const up = (name: string, stop: () => Promise<void>) => {
    started.push({ name, stop });
    log.info({ component: name, sinceProcessStartMs: sinceStart() }, 'started');
  };
  log.info({ sinceProcessStartMs: sinceStart() }, 'topics and schemas ready');
  let edgeUrl: string | null = null;
  const probes: ConnectorProbe[] = []; // connectors in this process, for the dashboard's venue health

  try {
    if (want.has('edge')) {
      const [
        { Registry }, { loadAnalyticsConfig }, { startQueryProcess }, { analyticsRoutes, limitsByRole, requireBearer },
        { createAccept, startKafkaProbe }, { createEdgeApp }, { consumerSpecs, startDashboard }, { loadEdgeConfig }, { startOps }, { venueNames },
      ] = await Promise.all([
        import('prom-client'), import('../../analytics/config.ts'), import('../../analytics/query/queryProcess.ts'), import('../../analytics/query/routes.ts'),
        import('../accept.ts'), import('../app.ts'), import('../dashboard/index.ts'), import('../config.ts'), import('../ops/index.ts'), import('../../connectors/select.ts'),
      ]);
      const edgeConfig = loadEdgeConfig(rawEnv);
      const ops = await startOps({ kafka, pool: pool!, codec, controlTopic: topics.control, cancelTopic: topics.cancelRequests, log: log.child({ component: 'ops' }), hlc: () => hlc.now(), env: rawEnv });
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
      // Strategy code's own view: /v1/stream and the signed /v1 REST routes (edge/stream).
      const { createStrategyApi } = await import('../stream/index.ts');
      const strategyApi = createStrategyApi({ kafka, codec, pool: pool!, topics, log, env: rawEnv, projectionGroup: group('projection'), registry });
      const app = createEdgeApp({
        config: edgeConfig, log: log.child({ component: 'edge' }), clock: Date.now, hlc: () => hlc.now(),
        accept, ready: () => ready && kafkaProbe.up(), registry,
        extraRoutes: (a) => ops.register(a), strategyApi,
      });
      // Read-only SQL over the sink's Parquet files (same ANALYTICS_DIR): the P&L report for any ops token,
      // ad-hoc SQL from ANALYTICS_QUERY_ROLE up, viewers under stricter limits; all in a process of their
      // own, out of intake's way.
      const a = loadAnalyticsConfig(rawEnv);
      const analyticsDb = startQueryProcess({
        dir: a.ANALYTICS_DIR, timeoutMs: a.ANALYTICS_QUERY_TIMEOUT_MS, maxRows: a.ANALYTICS_QUERY_MAX_ROWS, memoryLimitMb: a.ANALYTICS_QUERY_MEMORY_MB,
        threads: a.ANALYTICS_QUERY_THREADS, concurrency: a.ANALYTICS_QUERY_CONCURRENCY, queue: a.ANALYTICS_QUERY_QUEUE, nice: a.ANALYTICS_QUERY_NICE,
        log: log.child({ component: 'analytics' }),
      });
      started.push({ name: 'analytics-api', stop: async () => analyticsDb.close() });
      await app.register(analyticsRoutes, {
        db: analyticsDb, preHandler: requireBearer(ops.auth, { sqlRole: a.ANALYTICS_QUERY_ROLE }), limits: limitsByRole(a.ANALYTICS_QUERY_VIEWER_TIMEOUT_MS),
      });
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
      log.info({ url: edgeUrl, sinceProcessStartMs: sinceStart() }, 'edge listening');
      started.push({ name: 'edge', stop: async () => { ready = false; await app.close(); await producer.disconnect(); } });
    }
    // The edge's parts are stopped first (stop taking work), then the processors behind it.
    front = started.splice(0);
    if (want.has('projection')) {
      const [{ createProjection }, { createShadowFiller }] = await Promise.all([import('../../streams/projection/processor.ts'), import('../../connectors/paper/shadow/processor.ts')]);
      const p = createProjection({ kafka, pool: pool!, codec, log: log.child({ component: 'projection' }), topic: topics.executions, groupId: group('projection'), instanceClientId });
      await p.start();
      up('projection', () => p.stop());
      // Shadow twins are filled beside the live projection, into their own table (never `executions`).
      const shadow = createShadowFiller({ kafka, pool: pool!, codec, topics, log: log.child({ component: 'shadow' }) });
      await shadow.start();
      up('shadow', () => shadow.stop());
    }
    if (want.has('sink')) {
      const [{ createAnalyticsSink }, { loadAnalyticsConfig }] = await Promise.all([import('../../analytics/sink/sink.ts'), import('../../analytics/config.ts')]);
      const s = createAnalyticsSink({ kafka, codec, log: log.child({ component: 'sink' }), topics, groupId: group('analytics-sink'), instanceClientId, config: loadAnalyticsConfig(rawEnv) });
      await s.start();
      up('sink', () => s.stop());
    }
    if (want.has('connector')) {
      const [{ createConnectorRuntime }, { selectVenues }] = await Promise.all([import('../../connectors/runtime.ts'), import('../../connectors/select.ts')]);
      // One runtime per venue (VENUES=paper,alpaca,binance); each fails closed on its own.
      for (const v of selectVenues(rawEnv, log.child({ component: 'venue' }))) {
        const c = createConnectorRuntime({
          kafka, codec, log: log.child({ component: 'connector' }), hlc, topics, client: v.client,
          groupId: group(`connector-${v.name}`), transactionalId: txId(`connector-${v.name}`), instanceClientId, quoteSymbols: v.quoteSymbols,
        });
        await c.start();
        up(`connector-${v.name}`, () => c.stop());
        probes.push({ venue: v.name, status: () => c.status(), health: () => v.client.health() });
      }
    }
    if (want.has('decide')) {
      const { createDecideProcessor } = await import('../../streams/decide/processor.ts');
      const d = createDecideProcessor({
        kafka, codec, log: log.child({ component: 'decide' }), hlc, topics, groupId: group('decide'), transactionalIdBase: group('decide'), instanceClientId,
      });
      await d.start();
      up('decide', () => d.stop());
      // Bracket exits ride with decide (the same kind of process): executions → exits and OCO cancels.
      const { createBracketsProcessor } = await import('../../streams/brackets/processor.ts');
      const b = createBracketsProcessor({
        kafka, codec, log: log.child({ component: 'brackets' }), hlc, topics, groupId: group('brackets'), transactionalIdBase: group('brackets'), instanceClientId,
      });
      await b.start();
      up('brackets', () => b.stop());
    }
    if (want.has('strategies')) {
      const { createStrategiesRuntime } = await import('../strategies/runtime.ts');
      const r = createStrategiesRuntime({ kafka, codec, topics, log: log.child({ component: 'strategies' }), env: rawEnv, edgeUrl });
      await r.start();
      up('strategies', () => r.stop());
    }
  } catch (e) {
    await stopAll(front, log);
    await stopAll(started, log);
    await pool?.end();
    throw e;
  }

  return {
    env, topics, edgeUrl,
    async stop() {
      await stopAll(front, log);
      await stopAll(started, log);
      await pool?.end();
    },
  };
}

/** In reverse order of start: the processors upstream first, each finishing its batch. */
async function stopAll(started: Stoppable[], log: Logger): Promise<void> {
  for (const s of [...started].reverse()) {
    try { await s.stop(); } catch (e) { log.warn({ err: e, component: s.name }, 'stop failed'); }
  }
}
