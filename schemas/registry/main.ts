// Process entry for the schema registry: `node schemas/registry/main.ts`.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { fixKafkajsRequestQueue } from '../kafkaRequestQueue.ts';
import { createRegistryServer } from './server.ts';

const brokerList = z
  .string()
  .transform((s) => s.split(',').map((b) => b.trim()).filter((b) => b.length > 0))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1, 'expected at least one host:port'));

const envSchema = z.object({
  KAFKA_BROKERS: brokerList.default(['127.0.0.1:9092']),
  SCHEMA_REGISTRY_PORT: z
    .string()
    .regex(/^\d+$/, 'expected a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535))
    .default(8081),
  SCHEMA_REGISTRY_HOST: z.string().min(1).default('127.0.0.1'),
  SCHEMA_REGISTRY_TOPIC: z.string().min(1).default('_schemas'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const log = pino({ name: 'schema-registry' });

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  for (const issue of parsed.error.issues) {
    const variable = String(issue.path[0]);
    log.fatal({ variable }, `invalid environment variable ${variable}: ${issue.message}`);
  }
  process.exit(1);
}
const config = Object.freeze(parsed.data);
log.level = config.LOG_LEVEL;

/** Routes kafkajs' own logging into pino so one process writes one log format. */
function kafkaLogCreator(base: Logger) {
  const child = base.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level === logLevel.ERROR) child.error(rest, message);
      else if (level === logLevel.WARN) child.warn(rest, message);
      else if (level === logLevel.INFO) child.debug(rest, message);
      else child.trace(rest, message);
    };
}

fixKafkajsRequestQueue();
const kafka = new Kafka({
  clientId: 'schema-registry',
  brokers: config.KAFKA_BROKERS,
  logLevel: logLevel.WARN,
  logCreator: kafkaLogCreator(log),
});
const server = createRegistryServer({ kafka, topic: config.SCHEMA_REGISTRY_TOPIC, log });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping schema registry');
  try {
    await server.stop();
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'schema registry did not stop cleanly');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await server.start(config.SCHEMA_REGISTRY_PORT, config.SCHEMA_REGISTRY_HOST);
} catch (err) {
  log.fatal({ err }, 'schema registry failed to start');
  await server.stop().catch(() => undefined);
  process.exit(1);
}
