// Kafka client factory and the account partitioner: every record of one account lands on the same
// partition of every topic, so one processor instance owns each account's state.
import { readFileSync } from 'node:fs';
import { Kafka, type Consumer, type ICustomPartitioner, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { RuntimeEnv } from './env.ts';
import { fixKafkajsRequestQueue } from '../../schemas/kafkaRequestQueue.ts';
import { cacheCoordinators } from './coordinators.ts';
import { kafkaLogCreator, kafkaLogLevel } from './kafkaLog.ts';
import { resilient } from './resilient.ts';
import { countingKafka } from './stats.ts';

export const ACCOUNT_HEADER = 'account';

/**
 * How long the broker may hold a fetch that finds nothing new. It answers as soon as a record is
 * there, so this costs no latency; a short wait only multiplies empty fetches (a dozen consumers per
 * process, each polling), and those took the broker's time from the transactions on the hot path.
 */
export const FETCH_MAX_WAIT_MS = 500;

/**
 * Spaces a consumer's fetches at least `coalesceMs` apart while records flow, without polling when none
 * do: the broker answers at the first record (or after FETCH_MAX_WAIT_MS with none), and the batch
 * handler awaits the returned `pace()` last, which holds the next fetch until `coalesceMs` after the
 * previous one began; records arriving meanwhile come together in the next fetch. A broker-side window
 * (minBytes with a short maxWait) did the same under load but polled every window with no traffic.
 */
export function fetchPacer(consumer: Consumer, coalesceMs: number): () => Promise<void> {
  let startedAt = 0;
  consumer.on(consumer.events.FETCH_START, () => { startedAt = Date.now(); });
  return async () => {
    const wait = startedAt + coalesceMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}

/** The kafkajs configuration for `env`: brokers, TLS (KAFKA_SSL, KAFKA_SSL_CA_FILE) and SASL (KAFKA_SASL_*). */
export function kafkaConfig(env: RuntimeEnv, clientId: string, log: Logger): KafkaConfig {
  const config: KafkaConfig = {
    clientId: `${env.KAFKA_CLIENT_ID}-${clientId}`,
    brokers: [...env.KAFKA_BROKERS],
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: kafkaLogLevel(log.level),
    logCreator: kafkaLogCreator(log),
  };
  if (env.KAFKA_SSL === 'true') config.ssl = env.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  if (env.KAFKA_SASL_MECHANISM) {
    config.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME ?? '',
      password: env.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  }
  return config;
}

export function createKafka(env: RuntimeEnv, clientId: string, log: Logger): Kafka {
  cacheCoordinators();
  fixKafkajsRequestQueue();
  // Producers renewed after a failed produce, consumers restarted after a crash kafkajs gives up on.
  return resilient(countingKafka(new Kafka(kafkaConfig(env, clientId, log))), log);
}

/** FNV-1a: stable across processes and languages, cheap, good enough spread for account ids. */
export function accountHash(account: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < account.length; i++) {
    h ^= account.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const partitionForAccount = (account: string, partitions: number): number => accountHash(account) % partitions;

export const AccountPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) => {
  const header = message.headers?.[ACCOUNT_HEADER];
  if (header === undefined) throw new Error(`record without an ${ACCOUNT_HEADER} header cannot be partitioned`);
  const account = Buffer.isBuffer(header) ? header.toString() : String(header);
  return partitionForAccount(account, partitionMetadata.length);
};
