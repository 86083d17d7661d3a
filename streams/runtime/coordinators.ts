// kafkajs asks the cluster for the coordinator before every transactional request: a Kafka
// transaction (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) costs four extra
// FindCoordinator round trips, on the hot path of every processor. The Java client keeps the
// coordinator until a request says it moved; here each client's cluster keeps the answer for a few
// seconds, and forgets it whenever kafkajs refreshes its metadata (a broker gone or unknown). A
// coordinator that moves between two refreshes makes a transaction fail with NOT_COORDINATOR: the
// processors abort and read the batch again, as for any failed transaction, and the next lookup
// after COORDINATOR_TTL_MS asks the cluster again.
import { createRequire } from 'node:module';

export const COORDINATOR_TTL_MS = 5_000;

interface Found { nodeId: number; at: number }
interface ClusterLike {
  findGroupCoordinator(a: { groupId: string; coordinatorType?: number }): Promise<{ nodeId: number }>;
  findBroker(a: { nodeId: number }): Promise<{ nodeId: number }>;
  refreshMetadata(...args: unknown[]): Promise<void>;
}

const CACHE = Symbol('order-router.coordinators');
let installed = false;

/** Patches kafkajs's Cluster once per process; every client made afterwards uses the cache. */
export function cacheCoordinators(clock: () => number = Date.now): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const Cluster = require('kafkajs/src/cluster/index.js') as { prototype: ClusterLike };
  const proto = Cluster.prototype;
  const find = proto.findGroupCoordinator;
  const refresh = proto.refreshMetadata;
  const cacheOf = (c: ClusterLike): Map<string, Found> => {
    const self = c as ClusterLike & { [CACHE]?: Map<string, Found> };
    return (self[CACHE] ??= new Map());
  };
  proto.findGroupCoordinator = async function (this: ClusterLike, a) {
    const cache = cacheOf(this);
    const key = `${a.coordinatorType ?? 0}:${a.groupId}`;
    const hit = cache.get(key);
    if (hit && clock() - hit.at < COORDINATOR_TTL_MS) {
      try {
        return await this.findBroker({ nodeId: hit.nodeId });
      } catch {
        cache.delete(key); // the broker is gone from the metadata: ask again
      }
    }
    const broker = await find.call(this, a);
    cache.set(key, { nodeId: broker.nodeId, at: clock() });
    return broker;
  };
  proto.refreshMetadata = async function (this: ClusterLike, ...args: unknown[]) {
    cacheOf(this).clear();
    return refresh.apply(this, args);
  };
}
