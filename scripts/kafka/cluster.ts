// A local KRaft cluster's state, read where Kafka keeps it: the quorum leader from each node's
// `quorum-state` file (what the raft layer persisted at its last election; every voter agrees once an
// election is over) and the registered brokers from the cluster's metadata. `scripts/stack.sh up` with
// KAFKA_NODES > 1 runs `node scripts/kafka/cluster.ts ready <stack dir> <nodes> <schemas topic>`:
// it waits until every node is a broker of the cluster and the quorum has a leader, then creates the
// registry's topic with the cluster's durability (the registry would create it with one copy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { fixKafkajsRequestQueue } from '../../schemas/kafkaRequestQueue.ts';
import { resolveDurability } from '../../streams/runtime/durability.ts';
import { createTopicsAndWait } from '../../streams/runtime/topics.ts';

export interface QuorumState { nodeId: number; leaderId: number; leaderEpoch: number }

/** A node's last persisted election state; null before its first start. */
export function quorumState(stackDir: string, nodeId: number): QuorumState | null {
  try {
    const s = JSON.parse(readFileSync(join(stackDir, `kafka-node-${nodeId}`, 'data', '__cluster_metadata-0', 'quorum-state'), 'utf8')) as { leaderId?: number; leaderEpoch?: number };
    return { nodeId, leaderId: s.leaderId ?? -1, leaderEpoch: s.leaderEpoch ?? -1 };
  } catch {
    return null;
  }
}

/**
 * The quorum leader as a majority of `nodes` (ids of the running nodes; a killed one keeps its stale
 * file) see it: the newest epoch with an elected leader, agreed on by more than half of all voters.
 */
export function quorumLeader(stackDir: string, nodes: readonly number[], voters: number): { leaderId: number; leaderEpoch: number } | null {
  const states = nodes.map((n) => quorumState(stackDir, n)).filter((s): s is QuorumState => s !== null && s.leaderId >= 0);
  const newest = Math.max(-1, ...states.map((s) => s.leaderEpoch));
  const agreeing = states.filter((s) => s.leaderEpoch === newest);
  if (agreeing.length <= voters / 2 || new Set(agreeing.map((s) => s.leaderId)).size !== 1) return null;
  return { leaderId: agreeing[0].leaderId, leaderEpoch: newest };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `nodes` brokers are registered and unfenced and the quorum has a leader; throws after `timeoutMs`. */
export async function waitForCluster(admin: Admin, stackDir: string, nodes: number, timeoutMs = 90_000): Promise<{ brokers: number; leaderId: number; leaderEpoch: number }> {
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const until = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      await admin.connect();
      const brokers = (await admin.describeCluster()).brokers.length;
      const leader = quorumLeader(stackDir, ids, nodes);
      if (brokers === nodes && leader) return { brokers, ...leader };
      last = `${brokers}/${nodes} brokers registered, quorum leader ${leader ? leader.leaderId : 'not elected'}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > until) throw new Error(`cluster not ready within ${timeoutMs / 1000} s: ${last}`);
    await sleep(250);
  }
}

/** The registry's `_schemas` topic (one partition, compacted) with the cluster's replication and min ISR. */
export async function ensureSchemasTopic(admin: Admin, topic: string, brokers: number): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  const d = resolveDurability({}, brokers);
  await createTopicsAndWait(admin, [{
    topic, numPartitions: 1, replicationFactor: d.replicationFactor,
    configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.insync.replicas', value: String(d.minInsyncReplicas) }],
  }]);
  return true;
}

async function main(): Promise<void> {
  const [command, stackDir, nodesArg, schemasTopic] = process.argv.slice(2);
  const nodes = Number(nodesArg);
  if (command !== 'ready' || !stackDir || !(nodes > 0) || !schemasTopic) throw new Error('usage: cluster.ts ready <stack dir> <nodes> <schemas topic>');
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  fixKafkajsRequestQueue();
  const admin = new Kafka({ clientId: 'stack', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  const t0 = Date.now();
  try {
    const ready = await waitForCluster(admin, stackDir, nodes);
    const created = await ensureSchemasTopic(admin, schemasTopic, ready.brokers);
    console.error(`[stack] cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${ready.brokers} brokers, quorum leader node ${ready.leaderId} (epoch ${ready.leaderEpoch})${created ? `, created ${schemasTopic}` : ''}`);
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1]?.endsWith('cluster.ts')) {
  main().catch((e: unknown) => { console.error(`[stack] ${e instanceof Error ? e.message : String(e)}`); process.exit(1); });
}
