// The projection's tables in memory, with the same transaction semantics as the Postgres store (writes
// land only on commit). The audit rebuild projects the topic through it; tests inject faults into it.
import type { ExecutionReport } from '../../schemas/types.ts';
import { positionKey, type PositionState } from '../positions/fold.ts';
import type { HistoryRow, StoredExecution } from './core.ts';
import type { ProjectionStore, ProjectionTx } from './projector.ts';

export interface MemoryTables {
  /** By partition, in offset order. */
  executions: Map<number, StoredExecution[]>;
  executionIds: Set<string>;
  history: HistoryRow[];
  positions: Map<string, PositionState>;
  offsets: Map<number, bigint>;
}

export interface MemoryStore extends ProjectionStore {
  readonly tables: MemoryTables;
  /** Makes the next transaction roll back after it wrote (a connection lost before COMMIT). */
  failNextCommit(): void;
  /** Makes the next transaction commit but report a failure (the COMMIT's answer lost). */
  loseNextCommitAnswer(): void;
}

export function createMemoryStore(): MemoryStore {
  const tables: MemoryTables = { executions: new Map(), executionIds: new Set(), history: [], positions: new Map(), offsets: new Map() };
  let failNext = false;
  let loseAnswer = false;

  function eventsOf(key: string): ExecutionReport[] {
    const out: ExecutionReport[] = [];
    for (const p of [...tables.executions.keys()].sort((a, b) => a - b)) {
      for (const r of tables.executions.get(p)!) if (positionKey(r.event) === key) out.push(r.event);
    }
    return out;
  }

  return {
    tables,
    failNextCommit() { failNext = true; },
    loseNextCommitAnswer() { loseAnswer = true; },
    async transaction(fn) {
      const staged: { partition: number; plan: Parameters<ProjectionTx['write']>[1] }[] = [];
      const tx: ProjectionTx = {
        nextOffset: async (p) => tables.offsets.get(p) ?? 0n,
        storedIds: async (ids) => new Set(ids.filter((id) => tables.executionIds.has(id))),
        lastHash: async (p) => tables.executions.get(p)?.at(-1)?.hash ?? null,
        positionEvents: async (key) => eventsOf(key),
        write: async (partition, plan) => { staged.push({ partition, plan }); },
      };
      const result = await fn(tx);
      if (failNext) {
        failNext = false;
        throw new Error('memory store: commit failed (injected)');
      }
      for (const { partition, plan } of staged) {
        let rows = tables.executions.get(partition);
        if (!rows) tables.executions.set(partition, (rows = []));
        for (const r of plan.executions) {
          if (tables.executionIds.has(r.event.executionId)) throw new Error(`duplicate execution_id ${r.event.executionId}`);
          tables.executionIds.add(r.event.executionId);
          rows.push(r);
        }
        tables.history.push(...plan.history);
        for (const [k, s] of plan.positions) tables.positions.set(k, s);
        const prev = tables.offsets.get(partition) ?? 0n;
        if (plan.nextOffset > prev) tables.offsets.set(partition, plan.nextOffset);
      }
      if (loseAnswer) {
        loseAnswer = false;
        throw new Error('memory store: committed, answer lost (injected)');
      }
      return result;
    },
  };
}
