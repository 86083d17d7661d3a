// kafkajs log lines routed into pino at a level a reader can act on. kafkajs logs every error response
// of the broker at ERROR, including the retriable ones it then retries by itself; a coordinator that is
// still being elected when a client starts (a fresh topic prefix, a broker just started) is expected.
import { logLevel, type logCreator } from 'kafkajs';
import type { Level, Logger } from 'pino';

/** Coordinator errors kafkajs retries (codes 14, 15, 16): normal while a group or transaction coordinator settles. */
const COORDINATOR_SETTLING = [
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
];

/** How long after a client is created a settling coordinator is start-up, not news. */
export const KAFKA_START_GRACE_MS = 60_000;

export interface KafkaLogEntry { level: logLevel; message: string; error?: unknown; sinceStartMs: number }

/** The pino level for one kafkajs entry, or null to drop it. */
export function kafkaEntryLevel(e: KafkaLogEntry): Level | null {
  // Our producers bound their retries on purpose (a processor aborts and re-reads, the edge answers
  // 503); exactly-once rests on transactions and idempotent ids, not on endless retries.
  if (e.message.startsWith('Limiting retries for the idempotent producer')) return null;
  // Right after a commit the coordinator may still be completing it; consume.ts retries these.
  if (`${e.message} ${String(e.error)}`.includes('another concurrent operation on the same transaction')) return null;
  if (e.level <= logLevel.WARN && COORDINATOR_SETTLING.includes(String(e.error))) {
    // Later it means the coordinator moved (a broker restarted): worth a line, kafkajs still retries.
    return e.sinceStartMs < KAFKA_START_GRACE_MS ? 'debug' : 'warn';
  }
  switch (e.level) {
    case logLevel.NOTHING:
    case logLevel.ERROR: return 'error';
    case logLevel.WARN: return 'warn';
    case logLevel.INFO: return 'debug';
    case logLevel.DEBUG: return 'trace';
    default: { const never: never = e.level; return never; }
  }
}

/** What kafkajs should hand over for a pino level: its INFO lines only at debug, its DEBUG only at trace. */
export function kafkaLogLevel(level: string): logLevel {
  if (level === 'trace') return logLevel.DEBUG;
  if (level === 'debug') return logLevel.INFO;
  return logLevel.WARN;
}

export function kafkaLogCreator(log: Logger, now: () => number = Date.now): logCreator {
  const startedAt = now();
  return () => ({ namespace, level, log: entry }) => {
    const { message, ...rest } = entry;
    const to = kafkaEntryLevel({ level, message, error: rest.error, sinceStartMs: now() - startedAt });
    if (to !== null) log[to]({ namespace, broker: rest.broker, error: rest.error }, message);
  };
}
