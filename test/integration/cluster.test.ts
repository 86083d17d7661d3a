// Durability on a real 3-node KRaft cluster of our own (scripts/stack.sh with KAFKA_NODES=3 on free
// ports; the shared single broker is never touched): the project's topics, the registry's `_schemas`
// and the broker's internal topics keep 3 copies with 2 in sync, and a component refuses to start on
// an existing topic that keeps fewer, naming the topic and the setting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { clusterUnavailable, startOwnCluster, type OwnCluster } from '../../scripts/kafka/ownCluster.ts';
import { describeDurability, retried } from '../../streams/runtime/durability.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { topicNames } from '../../schemas/topics.ts';
import { createTopicsAndWait, ensureTopics } from '../../streams/runtime/topics.ts';
import { isolatedEnv, testLog } from '../helpers/env.ts';
import { spawnComponent } from '../helpers/processes.ts';

// Node's CJS export detection misses kafkajs' enums, so take them off the default export.
const { ConfigResourceTypes } = kafkajs;

describe('durability on a 3-node cluster of our own', { skip: clusterUnavailable() ?? false, timeout: 300_000 }, () => {
  let cluster: OwnCluster;
  before(async () => { cluster = await startOwnCluster({ nodes: 3 }); });
  after(async () => { await cluster?.down(); });

  const admin = () => createKafka(loadRuntimeEnv({ KAFKA_BROKERS: cluster.brokers }), 'test', testLog()).admin();

  it('creates the topics, the registry\'s and the internal ones with 3 replicas and min ISR 2 by default', async () => {
    const a = admin();
    await a.connect();
    try {
      const topics = topicNames('durable.');
      assert.deepEqual(await ensureTopics(a, topics, 3, {}), { replicationFactor: 3, minInsyncReplicas: 2 });
      for (const t of await describeDurability(a, [...Object.values(topics), '_schemas'])) {
        assert.deepEqual({ rf: t.replicationFactor, minIsr: t.minInsyncReplicas, unclean: t.uncleanLeaderElection }, { rf: 3, minIsr: 2, unclean: false }, t.topic);
      }
      // Consumer offsets and transaction state are created by the brokers on first use: their settings.
      const { resources } = await retried(() => a.describeConfigs({
        includeSynonyms: false,
        resources: cluster.running().map((id) => ({
          type: ConfigResourceTypes.BROKER, name: String(id),
          configNames: ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr', 'min.insync.replicas', 'unclean.leader.election.enable'],
        })),
      }));
      assert.equal(resources.length, 3);
      for (const r of resources) {
        assert.deepEqual(Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])), {
          'offsets.topic.replication.factor': '3', 'transaction.state.log.replication.factor': '3', 'transaction.state.log.min.isr': '2',
          'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false',
        }, `broker ${r.resourceName}`);
      }
    } finally {
      await a.disconnect();
    }
  });

  it('a component refuses an existing topic less durable than configured, naming the topic and the setting', async () => {
    const env = isolatedEnv({ KAFKA_BROKERS: cluster.brokers, SCHEMA_REGISTRY_URL: cluster.registryUrl });
    const a = admin();
    await a.connect();
    try {
      await createTopicsAndWait(a, [
        { topic: `${env.TOPIC_PREFIX}signals`, numPartitions: 3, replicationFactor: 1 },
        { topic: `${env.TOPIC_PREFIX}orders`, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '1' }] },
      ]);
    } finally {
      await a.disconnect();
    }
    const child = spawnComponent('decide', env);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([child.exited, new Promise<'running'>((r) => { timer = setTimeout(() => r('running'), 90_000); })]);
    clearTimeout(timer);
    if (code === 'running') child.proc.kill('SIGKILL');
    const out = child.output();
    assert.equal(code, 1, `the decide process stopped at start:\n${out.slice(-2000)}`);
    assert.match(out, new RegExp(`topic "${env.TOPIC_PREFIX}signals": replication factor 1 is below TOPIC_REPLICATION_FACTOR=3`));
    assert.match(out, new RegExp(`topic "${env.TOPIC_PREFIX}orders": min\\.insync\\.replicas=1 is below TOPIC_MIN_INSYNC_REPLICAS=2`));
  });
});
