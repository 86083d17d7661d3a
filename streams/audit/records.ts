// Replay, the pure part: which topic a name means, which filters apply to its records, and the JSON
// line printed for each record.
import type { RecordName, RecordTypes } from '../../schemas/codec.ts';
import { TOPIC, TOPIC_SCHEMA, topicNames, type TopicKey } from '../../schemas/topics.ts';

export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export interface ResolvedTopic { key: TopicKey; topic: string; record: RecordName }

/** A topic by its contract name (`executions`), or by its full name with TOPIC_PREFIX. */
export function resolveTopic(name: string, prefix: string): ResolvedTopic {
  const names = topicNames(prefix);
  for (const key of Object.keys(TOPIC) as TopicKey[]) {
    if (name === TOPIC[key] || name === names[key]) return { key, topic: names[key], record: TOPIC_SCHEMA[key] as RecordName };
  }
  throw new UsageError(`<topic>: unknown topic "${name}" (expected one of ${Object.values(TOPIC).join(', ')})`);
}

export interface RecordFilter { account?: string; strategy?: string; symbol?: string }

// Which record types carry which filterable field.
const FILTERABLE: { readonly [N in RecordName]: readonly (keyof RecordFilter)[] } = {
  Signal: ['account', 'strategy', 'symbol'],
  RiskDecision: ['account', 'strategy', 'symbol'],
  Order: ['account', 'strategy', 'symbol'],
  ExecutionReport: ['account', 'strategy', 'symbol'],
  Quote: ['symbol'],
  Control: [],
  DeadLetter: [],
  CancelRequest: ['account', 'symbol'],
  Instrument: ['symbol'],
};

/** Refuses a filter the topic's records cannot satisfy, rather than printing nothing. */
export function checkFilter(t: ResolvedTopic, f: RecordFilter): void {
  for (const field of Object.keys(f) as (keyof RecordFilter)[]) {
    if (f[field] !== undefined && !FILTERABLE[t.record].includes(field)) {
      throw new UsageError(`--${field}: ${TOPIC[t.key]} records (${t.record}) have no ${field}`);
    }
  }
}

export function matches(value: RecordTypes[RecordName] | null, f: RecordFilter): boolean {
  if (value === null) return f.account === undefined && f.strategy === undefined && f.symbol === undefined;
  const v = value as Partial<Record<keyof RecordFilter, unknown>>;
  return (f.account === undefined || v.account === f.account)
    && (f.strategy === undefined || v.strategy === f.strategy)
    && (f.symbol === undefined || v.symbol === f.symbol);
}

export interface ReplayLine {
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka record timestamp, ISO 8601. */
  timestamp: string;
  key: string | null;
  value: unknown;
  /** Set when the value could not be decoded; `raw` then carries its bytes. */
  error?: string;
  raw?: Buffer;
}

export function replayLine(topic: string, partition: number, m: { offset: string; timestamp: string; key: Buffer | null }, value: RecordTypes[RecordName] | null): ReplayLine {
  return { topic, partition, offset: m.offset, timestamp: new Date(Number(m.timestamp)).toISOString(), key: m.key === null ? null : m.key.toString('utf8'), value };
}

/** One line of JSON; bytes (a dead letter's original key and value) as base64. */
export function toJsonLine(line: ReplayLine): string {
  return JSON.stringify(line, function (this: Record<string, unknown>, k, v) {
    const raw = this[k];
    return Buffer.isBuffer(raw) ? raw.toString('base64') : v;
  });
}
