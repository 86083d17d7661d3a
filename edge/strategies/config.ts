// The strategy runtime's settings: one zod schema, defaults only here, parsed once at start.
import { z } from 'zod';
import { parseEnv } from '../../streams/runtime/env.ts';

export const strategiesEnvSchema = z.object({
  /** Folder of strategy modules (*.ts, *.js, *.mjs), one worker thread each. */
  STRATEGIES_DIR: z.string({ error: 'required when the strategies component runs' }).min(1),
  /** Where signals are POSTed (/signals). Unset: the edge of the same process, else http://127.0.0.1:<EDGE_PORT or 8080>. */
  STRATEGIES_EDGE_URL: z.url().optional(),
  EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** A handler still running after this is a hang: the worker is terminated and restarted. */
  STRATEGY_HANDLER_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),
  /** Restart delay after the first failure, doubled per failure in a row, capped at the max. */
  STRATEGY_RESTART_MIN_MS: z.coerce.number().int().min(1).default(500),
  STRATEGY_RESTART_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  /** A strategy that ran this long without failing starts again from the minimum delay. */
  STRATEGY_STABLE_MS: z.coerce.number().int().min(1).default(60_000),
  /** Events waiting for a busy strategy; beyond it the oldest quotes are dropped (fills never are). */
  STRATEGY_QUEUE_MAX: z.coerce.number().int().min(1).default(1_000),
}).refine((e) => e.STRATEGY_RESTART_MIN_MS <= e.STRATEGY_RESTART_MAX_MS, { path: ['STRATEGY_RESTART_MIN_MS'], message: 'must not exceed STRATEGY_RESTART_MAX_MS' });

export type StrategiesConfig = z.output<typeof strategiesEnvSchema>;

export const loadStrategiesConfig = (env: NodeJS.ProcessEnv = process.env): Readonly<StrategiesConfig> => parseEnv(strategiesEnvSchema, env);

/** The n-th restart's delay (n from 1): min · 2^(n-1), capped. */
export const restartDelay = (n: number, minMs: number, maxMs: number): number => Math.min(maxMs, minMs * 2 ** Math.min(Math.max(n - 1, 0), 30));
