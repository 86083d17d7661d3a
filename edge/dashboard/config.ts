// The dashboard's settings: one zod schema, defaults only here, parsed once at start and frozen.
import { z } from 'zod';
import { parseEnv } from '../../streams/runtime/env.ts';

export const dashboardEnvSchema = z.object({
  /** `false` leaves the edge without /dashboard (and without the Kafka consumers the feed needs). */
  DASHBOARD_ENABLED: z.enum(['true', 'false']).default('true'),
  /** Records per partition of risk-decisions, orders and executions the feed reads back at start. */
  DASHBOARD_RECENT_PER_PARTITION: z.coerce.number().int().min(0).max(10_000).default(200),
  /** How long an event-stream ticket stays good for opening a stream. */
  DASHBOARD_TICKET_TTL_SEC: z.coerce.number().int().min(5).max(3600).default(30),
  /**
   * A stream is closed after this long; the page reconnects with a fresh ticket, so a revoked token
   * stops receiving data within this bound.
   */
  DASHBOARD_STREAM_MAX_SEC: z.coerce.number().int().min(2).max(86_400).default(600),
  /** How often consumer lag, connector health and marks are refreshed. */
  DASHBOARD_REFRESH_MS: z.coerce.number().int().min(200).max(60_000).default(2000),
});

export type DashboardEnv = Readonly<z.infer<typeof dashboardEnvSchema>>;

export const loadDashboardEnv = (env: NodeJS.ProcessEnv): DashboardEnv => parseEnv(dashboardEnvSchema, env);
