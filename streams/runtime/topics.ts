// Topic creation: partitions, retention, compaction and durability per topic. The names themselves are a
// contract every folder shares, in schemas/topics.ts.
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Topics } from '../../schemas/topics.ts';
import { assertDurable, brokerCount, describeDurability, resolveDurability, type Durability } from './durability.ts';
import type { RuntimeEnv } from './env.ts';

const forever = { 'retention.ms': '-1', 'retention.bytes': '-1' };
const compacted = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '3600000' };

export function topicConfigs(topics: Topics, partitions: number, durability: Durability): ITopicConfig[] {
  const entry = (topic: string, configs: Record<string, string>, n = partitions): ITopicConfig => ({
    topic, numPartitions: n, replicationFactor: durability.replicationFactor,
    configEntries: Object.entries({ ...configs, 'min.insync.replicas': String(durability.minInsyncReplicas) }).map(([name, value]) => ({ name, value })),
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
    // Same partitions as `orders` (same account → same partition number): a cancel reaches the instance that owns the order.
    entry(topics.cancelRequests, forever),
    entry(topics.instruments, compacted),
  ];
}

export type DurabilitySettings = Pick<RuntimeEnv, 'TOPIC_REPLICATION_FACTOR' | 'TOPIC_MIN_INSYNC_REPLICAS'>;

/**
 * Creates missing topics with the configured durability (TOPIC_REPLICATION_FACTOR,
 * TOPIC_MIN_INSYNC_REPLICAS, defaults from the cluster's size) and refuses to go on, naming the topic
 * and the setting, when one that already existed keeps fewer copies. Returns the durability applied.
 */
export async function ensureTopics(admin: Admin, topics: Topics, partitions: number, settings: DurabilitySettings = {}): Promise<Durability> {
  const durability = resolveDurability(settings, await brokerCount(admin));
  const existing = new Set(await admin.listTopics());
  const configs = topicConfigs(topics, partitions, durability);
  const missing = configs.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) await createTopicsAndWait(admin, missing);
  assertDurable(await describeDurability(admin, configs.map((t) => t.topic).filter((t) => existing.has(t))), durability);
  return durability;
}

/**
 * Creates topics (existing ones are left alone) and waits until every partition has a leader. Not
 * kafkajs' `waitForLeaders`: on a cluster it asks one broker right away, which may not have heard of
 * the topic yet, and gives up on UNKNOWN_TOPIC_OR_PARTITION. kafkajs asks a random broker each time,
 * so a few answers in a row are waited for before the next request can count on any broker knowing.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const until = Date.now() + timeoutMs;
  let inARow = 0;
  for (;;) {
    try {
      // Listed first: a metadata request naming a topic the broker has not heard of yet is an error
      // kafkajs logs at error level.
      const known = new Set(await admin.listTopics());
      const meta = names.every((n) => known.has(n)) ? await admin.fetchTopicMetadata({ topics: names }) : { topics: [] };
      const led = meta.topics.length === names.length && meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      inARow = led ? inARow + 1 : 0;
      if (inARow >= 3) return;
    } catch (e) {
      if ((e as { retriable?: boolean }).retriable !== true || Date.now() > until) throw e;
      inARow = 0;
    }
    if (Date.now() > until) throw new Error(`topics ${names.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
