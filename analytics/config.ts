// Analytics settings: one zod schema, defaults only here, parsed once and frozen.
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseEnv } from '../streams/runtime/env.ts';

export const analyticsEnvSchema = z.object({
  /** Root of the Parquet files and manifests. */
  ANALYTICS_DIR: z.string().min(1).default('./data/analytics').transform((p) => resolve(p)),
  /** Longest the sink waits to gather a fetch: about one file per partition per flush while busy. */
  ANALYTICS_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  ANALYTICS_COMPACT_EVERY_MS: z.coerce.number().int().min(100).default(60_000),
  /** A file with fewer rows than this is small; a day's run of at least MIN_FILES small files is merged. */
  ANALYTICS_SMALL_FILE_ROWS: z.coerce.number().int().min(1).default(100_000),
  ANALYTICS_COMPACT_MIN_FILES: z.coerce.number().int().min(2).default(8),
  ANALYTICS_QUERY_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
  ANALYTICS_QUERY_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
});

export type AnalyticsConfig = Readonly<z.infer<typeof analyticsEnvSchema>>;

export const loadAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env): AnalyticsConfig => parseEnv(analyticsEnvSchema, env);
