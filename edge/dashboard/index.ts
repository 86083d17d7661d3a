// Composition of the ops dashboard for the edge process: settings, the hub that feeds it, tickets for
// its event stream, a consumer-lag gauge, and the routes to register under /dashboard.
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Codec } from '../../schemas/codec.ts';
import type { Topics } from '../../schemas/topics.ts';
import type { OpsAuth } from '../ops/auth.ts';
import { loadDashboardEnv } from './config.ts';
import { startHub, type ConnectorProbe, type HubOptions } from './hub.ts';
import type { ConsumerSpec } from './lag.ts';
import { dashboardRoutes } from './routes.ts';
import { createTickets } from './ticket.ts';

export { consumerSpecs } from './lag.ts';
export type { ConnectorProbe } from './hub.ts';

export interface Dashboard {
  /** Pass to the edge app's `extraRoutes`. */
  register(app: FastifyInstance): void;
  stop(): Promise<void>;
}

export interface DashboardOptions {
  kafka: Kafka; codec: Codec; pool: pg.Pool; topics: Topics; log: Logger; auth: OpsAuth; env: NodeJS.ProcessEnv;
  strategies: readonly { id: string; account: string }[];
  consumers: readonly ConsumerSpec[];
  venues: readonly string[];
  /** Connectors running in this process, for their status and health checks. */
  connectors?: readonly ConnectorProbe[];
  /** The DuckDB P&L (analytics/query/db.ts), when the process has it. */
  analytics?: HubOptions['analytics'];
  /** The edge's metrics registry: consumer lag is exported there too. */
  registry?: Registry;
}

/** Null when DASHBOARD_ENABLED=false. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard | null> {
  const cfg = loadDashboardEnv(o.env);
  if (cfg.DASHBOARD_ENABLED === 'false') return null;
  const gauge = o.registry
    ? ((o.registry.getSingleMetric('consumer_lag') as Gauge<'component' | 'topic'> | undefined) ??
      new Gauge({ name: 'consumer_lag', help: 'Offsets behind the high watermark, per processor and topic', labelNames: ['component', 'topic'], registers: [o.registry] }))
    : null;
  const hub = await startHub({
    kafka: o.kafka, codec: o.codec, pool: o.pool, topics: o.topics, log: o.log, strategies: o.strategies,
    consumers: o.consumers, venues: o.venues, connectors: o.connectors ?? [], analytics: o.analytics,
    recentPerPartition: cfg.DASHBOARD_RECENT_PER_PARTITION, refreshMs: cfg.DASHBOARD_REFRESH_MS,
    onLag: (lag) => { for (const l of lag) gauge?.set({ component: l.component, topic: l.topic }, l.lag); },
  });
  const tickets = createTickets({ ttlMs: cfg.DASHBOARD_TICKET_TTL_SEC * 1000 });
  return {
    register(app) {
      app.register(dashboardRoutes({ store: hub.store, auth: o.auth, tickets, streamMaxMs: cfg.DASHBOARD_STREAM_MAX_SEC * 1000 }), { prefix: '/dashboard' });
    },
    stop: () => hub.stop(),
  };
}
