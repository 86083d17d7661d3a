// A bench topic with the durability the pipeline's own topics get on this cluster
// (TOPIC_REPLICATION_FACTOR / TOPIC_MIN_INSYNC_REPLICAS, defaults from the cluster's size), so the raw
// floor and the transaction step pay the same replication as the path they are compared with.
import type { Admin } from 'kafkajs';
import { brokerCount, resolveDurability, type Durability } from '../../streams/runtime/durability.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createTopicsAndWait } from '../../streams/runtime/topics.ts';

export async function createBenchTopic(admin: Admin, topic: string, numPartitions: number): Promise<Durability> {
  const d = resolveDurability(loadRuntimeEnv(), await brokerCount(admin));
  await createTopicsAndWait(admin, [{
    topic, numPartitions, replicationFactor: d.replicationFactor,
    configEntries: [{ name: 'min.insync.replicas', value: String(d.minInsyncReplicas) }],
  }]);
  return d;
}
