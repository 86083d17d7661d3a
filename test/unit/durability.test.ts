// Topic durability: the defaults from the cluster's size, the configuration's limits, and the
// comparison that makes a component refuse a topic keeping fewer copies than configured.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertDurable, durabilityShortfalls, resolveDurability, type TopicDurability } from '../../streams/runtime/durability.ts';
import { ConfigError, loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { topicNames } from '../../schemas/topics.ts';
import { topicConfigs } from '../../streams/runtime/topics.ts';

const topic = (o: Partial<TopicDurability> = {}): TopicDurability => ({ topic: 'signals', replicationFactor: 3, minInsyncReplicas: 2, uncleanLeaderElection: false, ...o });

describe('topic durability: defaults', () => {
  it('keeps 3 copies with 2 in sync once the cluster has three brokers, one copy below that', () => {
    assert.deepEqual(resolveDurability({}, 1), { replicationFactor: 1, minInsyncReplicas: 1 });
    assert.deepEqual(resolveDurability({}, 2), { replicationFactor: 1, minInsyncReplicas: 1 });
    assert.deepEqual(resolveDurability({}, 3), { replicationFactor: 3, minInsyncReplicas: 2 });
    assert.deepEqual(resolveDurability({}, 5), { replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('derives min ISR from an explicit replication factor (replication − 1, at least 1)', () => {
    assert.deepEqual(resolveDurability({ TOPIC_REPLICATION_FACTOR: 5 }, 5), { replicationFactor: 5, minInsyncReplicas: 4 });
    assert.deepEqual(resolveDurability({ TOPIC_REPLICATION_FACTOR: 2 }, 3), { replicationFactor: 2, minInsyncReplicas: 1 });
    assert.deepEqual(resolveDurability({ TOPIC_REPLICATION_FACTOR: 1 }, 3), { replicationFactor: 1, minInsyncReplicas: 1 });
    assert.deepEqual(resolveDurability({ TOPIC_MIN_INSYNC_REPLICAS: 3 }, 3), { replicationFactor: 3, minInsyncReplicas: 3 });
  });

  it('refuses more replicas than brokers, or a min ISR above the replication factor, naming the variable', () => {
    assert.throws(() => resolveDurability({ TOPIC_REPLICATION_FACTOR: 3 }, 1), (e: Error) => e instanceof ConfigError && /TOPIC_REPLICATION_FACTOR/.test(e.message));
    assert.throws(() => resolveDurability({ TOPIC_MIN_INSYNC_REPLICAS: 2 }, 1), (e: Error) => e instanceof ConfigError && /TOPIC_MIN_INSYNC_REPLICAS/.test(e.message));
  });

  it('parses the variables in the runtime env schema', () => {
    const env = loadRuntimeEnv({ TOPIC_REPLICATION_FACTOR: '3', TOPIC_MIN_INSYNC_REPLICAS: '2' });
    assert.equal(env.TOPIC_REPLICATION_FACTOR, 3);
    assert.equal(env.TOPIC_MIN_INSYNC_REPLICAS, 2);
    assert.equal(loadRuntimeEnv({}).TOPIC_REPLICATION_FACTOR, undefined, 'unset: resolved from the cluster');
    assert.throws(() => loadRuntimeEnv({ TOPIC_REPLICATION_FACTOR: '0' }), /TOPIC_REPLICATION_FACTOR/);
    assert.throws(() => loadRuntimeEnv({ TOPIC_REPLICATION_FACTOR: 'three' }), /TOPIC_REPLICATION_FACTOR/);
    assert.throws(() => loadRuntimeEnv({ TOPIC_REPLICATION_FACTOR: '2', TOPIC_MIN_INSYNC_REPLICAS: '3' }), /TOPIC_MIN_INSYNC_REPLICAS/);
  });

  it('creates topics with the replication factor and min.insync.replicas', () => {
    for (const t of topicConfigs(topicNames('x.'), 3, { replicationFactor: 3, minInsyncReplicas: 2 })) {
      assert.equal(t.replicationFactor, 3, t.topic);
      assert.equal(t.configEntries?.find((e) => e.name === 'min.insync.replicas')?.value, '2', t.topic);
    }
  });
});

describe('topic durability: an existing topic against the configuration', () => {
  const wanted = { replicationFactor: 3, minInsyncReplicas: 2 };

  it('accepts a topic as durable or more', () => {
    assert.deepEqual(durabilityShortfalls(topic(), wanted), []);
    assert.deepEqual(durabilityShortfalls(topic({ replicationFactor: 5, minInsyncReplicas: 3 }), wanted), []);
    assert.deepEqual(durabilityShortfalls(topic({ replicationFactor: 1, minInsyncReplicas: 1 }), { replicationFactor: 1, minInsyncReplicas: 1 }), []);
  });

  it('names the topic and the setting it falls short on', () => {
    assert.deepEqual(durabilityShortfalls(topic({ replicationFactor: 1 }), wanted), ['topic "signals": replication factor 1 is below TOPIC_REPLICATION_FACTOR=3']);
    assert.deepEqual(durabilityShortfalls(topic({ minInsyncReplicas: 1 }), wanted), ['topic "signals": min.insync.replicas=1 is below TOPIC_MIN_INSYNC_REPLICAS=2']);
    assert.match(durabilityShortfalls(topic({ uncleanLeaderElection: true }), wanted)[0], /^topic "signals": unclean\.leader\.election\.enable=true/);
    assert.deepEqual(durabilityShortfalls(topic({ uncleanLeaderElection: true, replicationFactor: 1, minInsyncReplicas: 1 }), { replicationFactor: 1, minInsyncReplicas: 1 }), [], 'one copy: nothing to elect');
  });

  it('refuses with every shortfall in one message', () => {
    assert.doesNotThrow(() => assertDurable([topic(), topic({ topic: 'orders' })], wanted));
    assert.throws(() => assertDurable([topic({ replicationFactor: 1 }), topic({ topic: 'orders', minInsyncReplicas: 1 })], wanted), (e: Error) =>
      e instanceof ConfigError && /"signals": replication factor 1/.test(e.message) && /"orders": min\.insync\.replicas=1/.test(e.message));
  });
});
