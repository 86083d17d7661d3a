// How many copies of every record the project's topics keep, and the check that refuses to run on a
// topic that keeps fewer. `acks=all` only means "written to min.insync.replicas brokers": on a topic
// with one replica, or with min.insync.replicas=1, an acknowledged alert can die with one disk.
// Pure core (resolve, compare) and a thin shell (describe a cluster's topics).
import kafkajs, { type Admin } from 'kafkajs';
import { ConfigError, type RuntimeEnv } from './env.ts';

// Node's CJS export detection misses kafkajs' enums, so take them off the default export.
const { ConfigResourceTypes } = kafkajs;

export interface Durability { replicationFactor: number; minInsyncReplicas: number }

/** What one existing topic keeps: the smallest replica set of its partitions and its effective settings. */
export interface TopicDurability {
  topic: string;
  replicationFactor: number;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
}

/**
 * TOPIC_REPLICATION_FACTOR (default 3 once the cluster has three brokers, else 1) and
 * TOPIC_MIN_INSYNC_REPLICAS (default replication − 1, at least 1): with 3 copies and 2 in sync, one
 * broker can die without losing an acknowledged record or refusing writes. The defaults depend on the
 * cluster, so they are resolved here, once its size is known, not in the env schema.
 */
export function resolveDurability(env: Pick<RuntimeEnv, 'TOPIC_REPLICATION_FACTOR' | 'TOPIC_MIN_INSYNC_REPLICAS'>, brokers: number): Durability {
  const replicationFactor = env.TOPIC_REPLICATION_FACTOR ?? (brokers >= 3 ? 3 : 1);
  const minInsyncReplicas = env.TOPIC_MIN_INSYNC_REPLICAS ?? Math.max(1, replicationFactor - 1);
  if (replicationFactor > brokers) {
    throw new ConfigError(`bad configuration: TOPIC_REPLICATION_FACTOR: ${replicationFactor} replicas need as many brokers, the cluster has ${brokers}`);
  }
  if (minInsyncReplicas > replicationFactor) {
    // Every acks=all produce would fail with NOT_ENOUGH_REPLICAS.
    throw new ConfigError(`bad configuration: TOPIC_MIN_INSYNC_REPLICAS: ${minInsyncReplicas} is more than the replication factor ${replicationFactor}`);
  }
  return { replicationFactor, minInsyncReplicas };
}

/** Each way `actual` keeps fewer copies than `wanted`, naming the topic and the setting; [] when it is at least as durable. */
export function durabilityShortfalls(actual: TopicDurability, wanted: Durability): string[] {
  const out: string[] = [];
  const t = `topic "${actual.topic}"`;
  if (actual.replicationFactor < wanted.replicationFactor) {
    out.push(`${t}: replication factor ${actual.replicationFactor} is below TOPIC_REPLICATION_FACTOR=${wanted.replicationFactor}`);
  }
  if (actual.minInsyncReplicas < wanted.minInsyncReplicas) {
    out.push(`${t}: min.insync.replicas=${actual.minInsyncReplicas} is below TOPIC_MIN_INSYNC_REPLICAS=${wanted.minInsyncReplicas}`);
  }
  // An out-of-sync replica elected leader drops what the in-sync ones had acknowledged.
  if (actual.uncleanLeaderElection && wanted.replicationFactor > 1) {
    out.push(`${t}: unclean.leader.election.enable=true (acknowledged records can be lost when a stale replica takes over)`);
  }
  return out;
}

/** Refuses (ConfigError listing every shortfall) when any topic is less durable than `wanted`. */
export function assertDurable(actual: readonly TopicDurability[], wanted: Durability): void {
  const shortfalls = actual.flatMap((a) => durabilityShortfalls(a, wanted));
  if (shortfalls.length > 0) {
    throw new ConfigError(`refusing to run on topics less durable than configured: ${shortfalls.join('; ')}. Raise them (replicas: kafka-reassign-partitions; topic settings: kafka-configs --alter) or lower the setting knowingly`);
  }
}

/** Brokers in the cluster right now. */
export async function brokerCount(admin: Admin): Promise<number> {
  return (await admin.describeCluster()).brokers.length;
}

/** Replication factor and effective min ISR / unclean election of existing topics (broker defaults included). */
export async function describeDurability(admin: Admin, topics: readonly string[]): Promise<TopicDurability[]> {
  if (topics.length === 0) return [];
  const meta = await retried(() => admin.fetchTopicMetadata({ topics: [...topics] }));
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas', 'unclean.leader.election.enable'] })),
  });
  return meta.topics.map((t) => {
    const entries = resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
    const value = (name: string) => entries.find((e) => e.configName === name)?.configValue;
    return {
      topic: t.name,
      replicationFactor: Math.min(...t.partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: Number(value('min.insync.replicas') ?? 1),
      uncleanLeaderElection: value('unclean.leader.election.enable') === 'true',
    };
  });
}

/**
 * Brokers learn of a topic a moment after it is created, and kafkajs asks any of them: a topic another
 * process just created can be unknown to the one asked (UNKNOWN_TOPIC_OR_PARTITION, retriable).
 */
export async function retried<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { retriable?: boolean }).retriable !== true || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
