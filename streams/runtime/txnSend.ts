// One produce request per broker, one after another. kafkajs sends a batch that spans several
// partition leaders as one request per leader, waits for them together, and on a failure retries the
// batch while keeping the answers it has, by broker. Two ways that goes wrong when a leader dies
// (scripts/chaos/scenarios/leaderKill.ts, the partition leader SIGKILLed under load):
// - The retry starts while the request to a live leader is still waiting for its replicas (acks=all
//   holds it until the dead broker leaves the ISR). That request succeeds, its sequence numbers stay
//   taken, and the retry sends the same records again under new ones: appended twice, in the same
//   transaction, which commits (594 and 198 orders doubled, each pair from one producer id and epoch,
//   the second copy 33 sequence numbers later).
// - The dead leader's partitions move to a broker that already answered for its own partitions of the
//   batch: the retry skips that broker, the records of the moved partitions are never sent, and the
//   batch is reported written (accepted alerts the edge recorded as produced, missing from `signals`).
// A request that goes to one broker only has no sibling and no stored answer: kafkajs's retry re-sends
// exactly what failed, under the sequence numbers it rolled back, and the broker drops any copy.
// On one broker every batch is one request: nothing changes there.
import { Partitioners, type ICustomPartitioner, type Kafka, type Message, type PartitionMetadata, type ProducerBatch, type RecordMetadata, type TopicMessages } from 'kafkajs';

type Partitioner = ReturnType<ICustomPartitioner>;

/** Each topic's partitions as kafkajs last routed to them (leaders included), else as the cluster says now. */
export interface PartitionView {
  record(topic: string, partitions: PartitionMetadata[]): void;
  get(topic: string): Promise<PartitionMetadata[]>;
}

export function createPartitionView(kafka: Kafka): PartitionView {
  const known = new Map<string, PartitionMetadata[]>();
  return {
    record: (topic, partitions) => { known.set(topic, partitions); },
    async get(topic) {
      const seen = known.get(topic);
      if (seen) return seen;
      // Before the first send to a topic: asked once, then kept current by the partitioner.
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [t] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        if (!known.has(topic)) known.set(topic, t.partitions);
        return known.get(topic)!;
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** The producer's partitioner, recording kafkajs's view of each topic and keeping a partition chosen beforehand. */
export function recordingPartitioner(create: ICustomPartitioner | undefined, view: PartitionView): ICustomPartitioner {
  return () => {
    const inner = (create ?? Partitioners.DefaultPartitioner)();
    return (args) => {
      view.record(args.topic, args.partitionMetadata);
      return typeof args.message.partition === 'number' ? args.message.partition : inner(args);
    };
  };
}

/**
 * Pure: the batch's messages split into groups that each go to one leader, in order, every message
 * with its partition fixed. A partition without a known leader is a group of its own.
 */
export function groupByLeader(
  topicMessages: readonly TopicMessages[],
  partitionOf: (topic: string, message: Message) => number,
  leaderOf: (topic: string, partition: number) => number | undefined,
): TopicMessages[][] {
  const groups = new Map<string, Map<string, Message[]>>();
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const partition = partitionOf(topic, m);
      const leader = leaderOf(topic, partition);
      const key = leader === undefined || leader < 0 ? `${topic}:${partition}` : `leader:${leader}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = new Map()));
      let list = group.get(topic);
      if (!list) group.set(topic, (list = []));
      list.push({ ...m, partition });
    }
  }
  return [...groups.values()].map((g) => [...g].map(([topic, messages]) => ({ topic, messages })));
}

const CONCURRENT = 'CONCURRENT_TRANSACTIONS';
const typeOf = (e: unknown) => (e as { type?: string }).type;

/** What sends: a producer, or a transaction. */
export interface BatchSender { sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> }

/**
 * `sendBatch` of a producer or a transaction: the batch as one call when it has one leader, else one
 * call per leader, in turn. In a transaction the coordinator's busy answer to a later call is retried
 * here (an earlier call's records are in); any other failure aborts the whole batch.
 */
export function singleBrokerSendBatch(t: BatchSender, partitioner: Partitioner, view: PartitionView): (batch: ProducerBatch) => Promise<RecordMetadata[]> {
  return async (batch) => {
    const topicMessages = batch.topicMessages ?? [];
    const metadata = new Map<string, PartitionMetadata[]>();
    for (const { topic } of topicMessages) if (!metadata.has(topic)) metadata.set(topic, await view.get(topic));
    const groups = groupByLeader(
      topicMessages,
      (topic, message) => (typeof message.partition === 'number' ? message.partition : partitioner({ topic, partitionMetadata: metadata.get(topic)!, message })),
      (topic, partition) => metadata.get(topic)!.find((p) => p.partitionId === partition)?.leader,
    );
    if (groups.length <= 1) return t.sendBatch({ ...batch, topicMessages: groups[0] ?? topicMessages });
    const out: RecordMetadata[] = [];
    for (const [i, group] of groups.entries()) {
      for (let attempt = 1; ; attempt++) {
        try {
          out.push(...await t.sendBatch({ ...batch, topicMessages: group }));
          break;
        } catch (e) {
          // The first group wrote nothing yet: the caller may retry the whole batch. A later one must
          // not be retried whole (the earlier groups would be written twice): the transaction aborts.
          if (typeOf(e) !== CONCURRENT || i === 0) throw e;
          if (attempt >= 50) throw Object.assign(new Error(`transaction send gave up after ${i} of ${groups.length} leaders took their records: ${(e as Error).message}`), { cause: e, retriable: true });
          await new Promise((r) => setTimeout(r, Math.min(5 * attempt, 50)));
        }
      }
    }
    return out;
  };
}
