// One batch, exactly once: inside one store transaction, read the partition's committed offset (locked),
// load what the plan needs, plan (core.ts), write executions + history + positions + offset. The
// Postgres store makes it one SQL transaction; the memory store lets tests and the audit rebuild run
// the very same steps.
import type { ExecutionReport } from '../../schemas/types.ts';
import { GENESIS_HASH } from '../../schemas/hashChain.ts';
import type { PositionState } from '../positions/fold.ts';
import { idsToCheck, planBatch, positionsToLoad, stateFromLog, type BatchPlan, type IncomingExecution } from './core.ts';

export interface ProjectionTx {
  /** The partition's next offset to project, locked until the transaction ends. 0 when none yet. */
  nextOffset(partition: number): Promise<bigint>;
  /** Which of `ids` are stored. */
  storedIds(ids: string[]): Promise<Set<string>>;
  /** Hash of the partition's last stored row, null when there is none (or it predates the chain). */
  lastHash(partition: number): Promise<string | null>;
  /** The stored events of one position, in (partition, offset) order. */
  positionEvents(key: string): Promise<ExecutionReport[]>;
  /** Writes the plan and moves the partition's offset to at least `plan.nextOffset`. */
  write(partition: number, plan: BatchPlan): Promise<void>;
}

export interface ProjectionStore {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: ProjectionTx) => Promise<T>): Promise<T>;
}

/** What the projector remembers about a partition, valid only while the stored offset still equals `next`. */
interface PartitionCache { next: bigint; hash: string; states: Map<string, PositionState | undefined> }

export interface Projector {
  applyBatch(partition: number, messages: readonly IncomingExecution[]): Promise<BatchPlan>;
  /** Forgets every cached state and chain head (e.g. after partitions were reassigned). */
  reset(): void;
}

export function createProjector(store: ProjectionStore): Projector {
  const caches = new Map<number, PartitionCache>();

  async function run(partition: number, messages: readonly IncomingExecution[]): Promise<BatchPlan> {
    return store.transaction(async (tx) => {
      const from = await tx.nextOffset(partition);
      // Another instance may have projected this partition meanwhile (rebalance), or a commit may have
      // succeeded although its answer was lost: an offset that moved behind our back voids the cache.
      let cache = caches.get(partition);
      if (!cache || cache.next !== from) {
        caches.delete(partition);
        cache = { next: from, hash: (await tx.lastHash(partition)) ?? GENESIS_HASH, states: new Map() };
      }
      const states = new Map<string, PositionState | undefined>();
      for (const key of positionsToLoad(messages, from)) {
        states.set(key, cache.states.has(key) ? cache.states.get(key) : stateFromLog(await tx.positionEvents(key)));
      }
      const ids = idsToCheck(messages, from);
      const stored = ids.length > 0 ? await tx.storedIds(ids) : new Set<string>();
      const plan = planBatch({ partition, messages, from, prevHash: cache.hash, stored, states });
      await tx.write(partition, plan);
      const next = plan.nextOffset > from ? plan.nextOffset : from;
      for (const [k, v] of states) if (!cache.states.has(k)) cache.states.set(k, v);
      for (const [k, v] of plan.positions) cache.states.set(k, v);
      return { plan, cache: { ...cache, next, hash: plan.lastHash } };
    }).then(({ plan, cache }) => {
      caches.set(partition, cache);
      return plan;
    }, (e: unknown) => {
      caches.delete(partition);
      throw e;
    });
  }

  return {
    applyBatch: (partition, messages) => run(partition, messages),
    reset: () => caches.clear(),
  };
}
