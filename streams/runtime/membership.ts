// A restarted instance takes its dead predecessor's place in a consumer group at once.
//
// A process killed without leaving (SIGKILL, OOM, a lost host) stays a member of its groups until the
// broker stops hearing its heartbeats: the session timeout. Until then every rebalance of the group,
// the restarted process's own join included, waits for it; measured here a restarted processor joined
// 30.7 s after the kill with kafkajs's default 30 s session, 14-15 s with our 15 s one. Kafka's answer
// is static membership (group.instance.id, KIP-345): a member joining with the instance id of an
// existing one replaces it. kafkajs does not send group.instance.id, so this does the same by hand:
// before joining, every member that carries this instance's own Kafka client id is removed with
// LeaveGroup by member id, which the broker accepts for any dynamic member. The restarted process then
// joins in under a second.
//
// The client id (`<KAFKA_CLIENT_ID>-<components>-<INSTANCE_ID>`, streams/runtime/kafka.ts) is the
// instance's identity: the same across its restarts, different between instances. Like Kafka's static
// membership this assumes one live process per INSTANCE_ID (the connector's transactional id already
// does). A live member removed by mistake is not harmed: it learns at its next heartbeat and rejoins,
// and its partitions change hands through transactional fencing as in any rebalance.
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';

interface Broker { leaveGroup(a: { groupId: string; memberId: string }): Promise<unknown> }
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(a: { groupId: string }): Promise<Broker>;
}

/** kafkajs builds every client's cluster with this private factory; LeaveGroup for another member is only on its brokers. */
function clusterOf(kafka: Kafka): Cluster | null {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (key === undefined) return null;
  const create = (kafka as unknown as Record<symbol, (o: { allowAutoTopicCreation: boolean }) => Cluster>)[key];
  return create({ allowAutoTopicCreation: false });
}

/**
 * Removes from `groupId` the members whose client id is `clientId`: earlier incarnations of this
 * instance. Call before the consumer joins. Returns how many were removed; on any failure it logs and
 * returns 0 (the join then waits for the session timeout, as without it).
 */
export async function removePredecessors(kafka: Kafka, groupId: string, clientId: string, log: Logger): Promise<number> {
  const admin = kafka.admin();
  let cluster: Cluster | null = null;
  try {
    await admin.connect();
    const { groups } = await admin.describeGroups([groupId]);
    const stale = groups.flatMap((g) => g.members).filter((m) => m.clientId === clientId).map((m) => m.memberId);
    if (stale.length === 0) return 0;
    cluster = clusterOf(kafka);
    if (cluster === null) {
      log.warn({ groupId }, 'kafkajs internals changed: a dead predecessor stays in the group until its session times out');
      return 0;
    }
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    let removed = 0;
    for (const memberId of stale) {
      try {
        await coordinator.leaveGroup({ groupId, memberId });
        removed++;
      } catch (e) {
        // Gone already (its session expired meanwhile): nothing to do.
        if ((e as { type?: string }).type !== 'UNKNOWN_MEMBER_ID') throw e;
      }
    }
    log.info({ groupId, removed }, 'previous incarnation removed from the group');
    return removed;
  } catch (e) {
    log.warn({ err: e, groupId }, 'could not remove a previous incarnation from the group; joining after its session times out');
    return 0;
  } finally {
    await cluster?.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
