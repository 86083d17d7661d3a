// Analytics settings: one zod schema, defaults only here, parsed once and frozen.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../streams/runtime/env.ts';

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
  /** A file with fewer rows than this is small; a day's run of at least MIN_FILES small files is merged. */
  ANALYTICS_SMALL_FILE_ROWS: z.coerce.number().int().min(1).default(100_000),
  ANALYTICS_COMPACT_MIN_FILES: z.coerce.number().int().min(2).default(8),
  ANALYTICS_QUERY_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
  ANALYTICS_QUERY_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
});

const withDir = analyticsEnvSchema.transform(({ ANALYTICS_DIR, TOPIC_PREFIX, ...rest }) => ({
  ...rest,
  ANALYTICS_DIR: resolve(ANALYTICS_DIR ?? (TOPIC_PREFIX ? join('data', 'analytics', TOPIC_PREFIX.replace(/[^\w.-]/g, '_')) : join('data', 'analytics'))),
}));

export type AnalyticsConfig = Readonly<z.infer<typeof withDir>>;

export const loadAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env): AnalyticsConfig => parseEnv(withDir, env);
