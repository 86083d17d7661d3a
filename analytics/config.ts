// Analytics settings: one zod schema, defaults only here, parsed once and frozen.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../streams/runtime/env.ts';
import type { Role } from '../streams/control/model.ts';

const ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly Role[];

export const analyticsEnvSchema = z.object({
  /**
   * Root of the Parquet files and manifests. Unset: ./data/analytics, or ./data/analytics/<TOPIC_PREFIX>
   * when a prefix is set, because dataset folders carry no prefix and two environments sharing one
   * folder would reconcile away each other's files.
   */
  ANALYTICS_DIR: z.string().min(1).optional(),
  TOPIC_PREFIX: z.string().default(''),
  /** Longest the sink waits to gather a fetch: about one file per partition per flush while busy. */
  ANALYTICS_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  ANALYTICS_COMPACT_EVERY_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * Quotes are held this long before they are written: a handful per second would otherwise cost a file
   * (and its fsyncs) per partition per flush. 0: written like every other dataset.
   */
  ANALYTICS_QUOTES_HOLD_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** A file with fewer rows than this is small; a day's run of at least MIN_FILES small files is merged. */
  ANALYTICS_SMALL_FILE_ROWS: z.coerce.number().int().min(1).default(100_000),
  ANALYTICS_COMPACT_MIN_FILES: z.coerce.number().int().min(2).default(8),
  /** A query still running after this is interrupted and answered QUERY_LIMIT. */
  ANALYTICS_QUERY_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
  ANALYTICS_QUERY_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  // The edge's SQL endpoint runs its queries in a process of their own (analytics/query/queryProcess.ts), so a
  // heavy one takes one low-priority core and a bounded amount of memory, never the intake's.
  /** DuckDB memory_limit of that process, shared by its running queries; no spilling to disk. */
  ANALYTICS_QUERY_MEMORY_MB: z.coerce.number().int().min(16).max(1_048_576).default(256),
  /** DuckDB threads of that process: 1 leaves the other cores to intake. */
  ANALYTICS_QUERY_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** Queries running at once; the rest wait in the queue. */
  ANALYTICS_QUERY_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** Queries waiting for a slot; one more is answered 503 QUERY_BUSY. */
  ANALYTICS_QUERY_QUEUE: z.coerce.number().int().min(0).max(100).default(4),
  /** Scheduling niceness of that process (0-19): the kernel runs intake first when cores are short. */
  ANALYTICS_QUERY_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** The least ops role that may send ad-hoc SQL to POST /analytics/query (GET /analytics/pnl: any role). */
  ANALYTICS_QUERY_ROLE: z.enum(ROLES).default('viewer'),
  /**
   * A viewer's query (the role handed to quants, screens and integrations) is held to this time limit
   * (at most ANALYTICS_QUERY_TIMEOUT_MS) and waits behind operators' and admins' queries.
   */
  ANALYTICS_QUERY_VIEWER_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(3_000),
});

const withDir = analyticsEnvSchema.transform(({ ANALYTICS_DIR, TOPIC_PREFIX, ...rest }) => ({
  ...rest,
  ANALYTICS_DIR: resolve(ANALYTICS_DIR ?? (TOPIC_PREFIX ? join('data', 'analytics', TOPIC_PREFIX.replace(/[^\w.-]/g, '_')) : join('data', 'analytics'))),
}));

export type AnalyticsConfig = Readonly<z.infer<typeof withDir>>;

export const loadAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env): AnalyticsConfig => parseEnv(withDir, env);
