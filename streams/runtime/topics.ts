// Topic names and configurations: a contract. A prefix (TOPIC_PREFIX) lets tests and parallel
// environments share one broker without sharing data.
import type { Admin, ITopicConfig } from 'kafkajs';

export const TOPIC = {
  signals: 'signals',
  riskDecisions: 'risk-decisions',
  orders: 'orders',
  ordersShadow: 'orders-shadow',
  executions: 'executions',
  quotes: 'quotes',
  control: 'control',
  deadLetters: 'dead-letters',
} as const;

export type TopicKey = keyof typeof TOPIC;
export type Topics = { readonly [K in TopicKey]: string };

/** Avro record name carried by each topic (subject `<topic>-value`). */
export const TOPIC_SCHEMA: { readonly [K in TopicKey]: string } = {
  signals: 'Signal', riskDecisions: 'RiskDecision', orders: 'Order', ordersShadow: 'Order',
  executions: 'ExecutionReport', quotes: 'Quote', control: 'Control', deadLetters: 'DeadLetter',
};

export function topicNames(prefix = ''): Topics {
  const out = {} as Record<TopicKey, string>;
  for (const k of Object.keys(TOPIC) as TopicKey[]) out[k] = prefix + TOPIC[k];
  return Object.freeze(out);
}

const forever = { 'retention.ms': '-1', 'retention.bytes': '-1' };
const compacted = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '3600000' };

export function topicConfigs(topics: Topics, partitions: number): ITopicConfig[] {
  const entry = (topic: string, configs: Record<string, string>, n = partitions): ITopicConfig => ({
    topic, numPartitions: n, replicationFactor: -1,
    configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
  });
  return [
    // Compacted by idempotency id: the same alert fired twice is one record in the long run.
    entry(topics.signals, { ...compacted, 'retention.ms': '-1' }),
    entry(topics.riskDecisions, forever),
    entry(topics.orders, forever),
    entry(topics.ordersShadow, forever),
    entry(topics.executions, forever),
    entry(topics.quotes, compacted),
    entry(topics.control, compacted, 1),
    entry(topics.deadLetters, forever),
  ];
}

/** Creates missing topics; existing ones are left as they are. */
export async function ensureTopics(admin: Admin, topics: Topics, partitions: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topicConfigs(topics, partitions).filter((t) => !existing.has(t.topic));
  if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
}
