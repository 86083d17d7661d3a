// A partition assigner for the connector's group, which reads `orders` and `cancel-requests`: partition
// p of every topic goes to the same member, so a cancel (partitioned by account like its order) is read
// by the instance that owns the order and records everything the venue says about it. kafkajs' default
// (round robin over all topic-partitions) would hand the two to different instances.
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

const { MemberAssignment, MemberMetadata } = AssignerProtocol;

/** Partition p of each topic → member p mod n, members in id order (pure). */
export function coPartitionedAssignment(memberIds: readonly string[], partitionsOf: Readonly<Record<string, readonly number[]>>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  if (members.length === 0) return out;
  for (const [topic, partitions] of Object.entries(partitionsOf)) {
    for (const p of partitions) {
      const a = out.get(members[p % members.length])!;
      (a[topic] ??= []).push(p);
    }
  }
  return out;
}

export const CoPartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'CoPartitionAssigner',
  version: 0,
  async assign({ members, topics }) {
    const partitionsOf: Record<string, number[]> = {};
    for (const t of topics) partitionsOf[t] = cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId);
    const plan = coPartitionedAssignment(members.map((m) => m.memberId), partitionsOf);
    return [...plan].map(([memberId, assignment]) => ({
      memberId, memberAssignment: MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'CoPartitionAssigner', metadata: MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
