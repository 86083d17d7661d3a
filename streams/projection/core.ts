// The projection's per-batch decision, pure: given one partition's batch, what Postgres already holds
// for it and the chain head, which rows to write. The shell (projector.ts + a store) loads the inputs
// and writes the plan in one transaction; the audit rebuild and the property test drive the same code.
import type { ExecutionReport } from '../../schemas/types.ts';
import { linkHash } from '../../schemas/hashChain.ts';
import { hlcToMillis } from '../../schemas/hlc.ts';
import { evolveEach, positionKey, positionRow, refusedByFold, type PositionState } from '../positions/fold.ts';

export interface IncomingExecution { offset: string; event: ExecutionReport }

export interface StoredExecution { partition: number; offset: string; event: ExecutionReport; hash: string }

/** One event's effect on its position: the state after it and what it changed, for P&L by day. */
export interface HistoryRow {
  executionId: string;
  type: ExecutionReport['type'];
  partition: number;
  offset: string;
  account: string;
  strategy: string;
  symbol: string;
  venue: string;
  /** Our hlc of the event, as epoch ms: the day its P&L is booked on. */
  bookedAt: number;
  quantity: number;
  avgPrice: number;
  realizedPnl: number;
  fees: number;
  fillCount: number;
  quantityDelta: number;
  realizedPnlDelta: number;
  feesDelta: number;
}

export interface BatchInput {
  partition: number;
  /** Decoded records of one partition, in offset order. */
  messages: readonly IncomingExecution[];
  /** First offset Postgres does not hold yet; earlier records are re-deliveries. */
  from: bigint;
  /** Hash of the partition's last stored row (GENESIS_HASH when none). */
  prevHash: string;
  /** Execution ids of this batch that Postgres already holds (the same event at an earlier offset). */
  stored: ReadonlySet<string>;
  /** The current state of every position in `positionsToLoad` (undefined: none yet). */
  states: ReadonlyMap<string, PositionState | undefined>;
}

export interface BatchPlan {
  executions: StoredExecution[];
  history: HistoryRow[];
  /** The final state of each position the batch changed. */
  positions: Map<string, PositionState>;
  /** Chain head after the batch. */
  lastHash: string;
  /** The offset to commit: one past the batch's last record. */
  nextOffset: bigint;
  redelivered: number;
  duplicates: number;
  /** Stored and chained, but left out of the fold (see refusedByFold). */
  refused: ExecutionReport[];
}

const fresh = (messages: readonly IncomingExecution[], from: bigint) => messages.filter((m) => BigInt(m.offset) >= from);

/** The positions the shell must load before planning. */
export const positionsToLoad = (messages: readonly IncomingExecution[], from: bigint): string[] =>
  [...new Set(fresh(messages, from).map((m) => positionKey(m.event)))];

/** The execution ids the shell must look up in Postgres before planning. */
export const idsToCheck = (messages: readonly IncomingExecution[], from: bigint): string[] =>
  [...new Set(fresh(messages, from).map((m) => m.event.executionId))];

/** A position's state from its stored events, in the order they were stored, skipping what the fold refuses. */
export const stateFromLog = (events: Iterable<ExecutionReport>): PositionState | undefined =>
  evolveEach(undefined, [...events].filter((e) => !refusedByFold(e)));

export function planBatch(input: BatchInput): BatchPlan {
  const { partition, messages, from } = input;
  const plan: BatchPlan = {
    executions: [], history: [], positions: new Map(), lastHash: input.prevHash,
    nextOffset: messages.length === 0 ? from : BigInt(messages[messages.length - 1].offset) + 1n,
    redelivered: 0, duplicates: 0, refused: [],
  };
  // The chain follows the log; the fold runs per position (one copy of each state per batch).
  const byPosition = new Map<string, IncomingExecution[]>();
  const seen = new Set<string>();
  for (const m of messages) {
    const { offset, event: e } = m;
    if (BigInt(offset) < from) { plan.redelivered++; continue; }
    // The executions table is keyed by execution id: a venue's repeat at a later offset is the same fact.
    if (input.stored.has(e.executionId) || seen.has(e.executionId)) { plan.duplicates++; continue; }
    seen.add(e.executionId);
    plan.lastHash = linkHash(plan.lastHash, e, partition, offset);
    plan.executions.push({ partition, offset, event: e, hash: plan.lastHash });
    if (refusedByFold(e)) { plan.refused.push(e); continue; }
    const key = positionKey(e);
    if (!input.states.has(key)) throw new Error(`planBatch: position ${key} was not loaded`);
    const list = byPosition.get(key);
    if (list) list.push(m);
    else byPosition.set(key, [m]);
  }
  for (const [key, list] of byPosition) {
    const before = input.states.get(key);
    const offsets = new Map(list.map((m) => [m.event, m.offset]));
    let prev: Totals = before ?? NONE;
    const after = evolveEach(before, list.map((m) => m.event), (s, e) => {
      plan.history.push(historyRow(prev, s, e, partition, offsets.get(e)!));
      prev = { quantity: s.quantity, realizedPnl: s.realizedPnl, fees: s.fees };
    });
    if (after !== undefined && after !== before) plan.positions.set(key, after);
  }
  plan.history.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return plan;
}

type Totals = Pick<PositionState, 'quantity' | 'realizedPnl' | 'fees'>;
const NONE: Totals = { quantity: 0, realizedPnl: 0, fees: 0 };

// Rounded like the positions row, so a day's sum of deltas matches the row to well under a cent.
const round9 = (x: number): number => {
  const r = Math.round(x * 1e9) / 1e9;
  return r === 0 ? 0 : r;
};

export function historyRow(before: Totals, after: Readonly<PositionState>, e: ExecutionReport, partition: number, offset: string): HistoryRow {
  const row = positionRow(after);
  return {
    executionId: e.executionId, type: e.type, partition, offset,
    account: after.account, strategy: e.strategy, symbol: after.symbol, venue: after.venue, bookedAt: hlcToMillis(e.hlc),
    quantity: row.quantity, avgPrice: row.avg_price, realizedPnl: row.realized_pnl, fees: row.fees, fillCount: row.fill_count,
    quantityDelta: round9(after.quantity - before.quantity),
    realizedPnlDelta: round9(after.realizedPnl - before.realizedPnl),
    feesDelta: round9(after.fees - before.fees),
  };
}
