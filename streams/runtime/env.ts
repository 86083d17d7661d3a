// Shared process settings: where the services are. One zod schema, parsed once, frozen; a bad value
// stops the process at start with the variable named.
import { z } from 'zod';

const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const runtimeEnvSchema = z.object({
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[\w.-]+:\d+$/, 'expected host:port')).min(1)).default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('order-router'),
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  SCHEMA_REGISTRY_URL: z.string().url().default('http://127.0.0.1:8081'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').default('postgres://postgres@127.0.0.1:5432/order_router'),
  PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case SQL identifier').default('public'),
  TOPIC_PREFIX: z.string().regex(/^[\w.-]*$/, 'letters, digits, . _ - only').default(''),
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(64).default(3),
  // Unset: 3 / 2 once the cluster has three brokers, else 1 / 1 (streams/runtime/durability.ts).
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(32).optional(),
  TOPIC_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(32).optional(),
  INSTANCE_ID: z.string().regex(/^[\w.-]+$/).default('0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine((e, ctx) => {
  if (e.TOPIC_REPLICATION_FACTOR !== undefined && e.TOPIC_MIN_INSYNC_REPLICAS !== undefined && e.TOPIC_MIN_INSYNC_REPLICAS > e.TOPIC_REPLICATION_FACTOR) {
    ctx.addIssue({ code: 'custom', path: ['TOPIC_MIN_INSYNC_REPLICAS'], message: 'must not exceed TOPIC_REPLICATION_FACTOR (every acks=all produce would fail)' });
  }
  // A mechanism without credentials would try to log in as '' and fail at the broker, far from the cause.
  if (e.KAFKA_SASL_MECHANISM === undefined) return;
  for (const k of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
    if (!e[k]) ctx.addIssue({ code: 'custom', path: [k], message: `required when KAFKA_SASL_MECHANISM is set` });
  }
});

export type RuntimeEnv = Readonly<z.infer<typeof runtimeEnvSchema>>;

export class ConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'ConfigError'; }
}

/** Parses a zod schema against the environment; the error names every bad variable, never its value. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.infer<S>> {
  const r = schema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`bad configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(r.data);
}

export const loadRuntimeEnv = (env: NodeJS.ProcessEnv = process.env): RuntimeEnv => parseEnv(runtimeEnvSchema, env);
