// The one definition of a position. The risk gate, the Postgres projection, the auditor's rebuild and
// the P&L views all fold `executions` through `evolve`, so they cannot disagree about what a position is.
// Pure: no I/O, no clock; the time a state carries is the hlc of the event that last changed it.
import type { ExecutionReport, Side } from '../../schemas/types.ts';
import { RouterError } from '../../schemas/errors.ts';
import { addTrade, recompute } from './avgCost.ts';

/** What a position is keyed by. `positionKey` joins it with '|' (account, symbol, venue never contain one). */
export type PositionKey = Pick<ExecutionReport, 'account' | 'symbol' | 'venue'>;

export const positionKey = (k: PositionKey): string => `${k.account}|${k.symbol}|${k.venue}`;

/** A fill as it counts now, after any corrections. */
export interface EffectiveFill {
  executionId: string;
  side: Side;
  /** Signed: BUY > 0, SELL < 0. Kept on a bust so that a later correction can reinstate the fill. */
  qty: number;
  price: number;
  fee: number;
  /** A busted fill stays listed so that a replay of the original is still recognised as already seen. */
  busted: boolean;
}

/** A correction or bust that arrived before the fill it references; applied when that fill arrives. */
export interface PendingAmendment {
  executionId: string;
  type: 'CORRECTION' | 'BUST';
  refExecutionId: string;
  lastQty: number;
  lastPrice: number;
  fee: number;
  netQty?: number | null; // ExecutionReport.netQty of the correction; absent: lastQty
}

/**
 * Plain data (JSON round-trips exactly), so the projection can store it as is.
 * The fill list and the amendment ids grow with the position's life: a venue's correction may arrive days
 * after the fill, so the state must still know every fill to amend it. The Postgres projection persists
 * them with the state for the same reason.
 */
export interface PositionState {
  account: string;
  symbol: string;
  venue: string;
  /** Signed: long > 0, short < 0. */
  quantity: number;
  /** Average cost of the open quantity; 0 when flat. */
  avgPrice: number;
  /** Quote currency, fees not included. */
  realizedPnl: number;
  fees: number;
  /** Effective (non-busted) fills. */
  fillCount: number;
  /** The last event that changed this state (an amendment parked for later counts). */
  lastExecutionId: string;
  /** hlc of that event. */
  updatedAt: number;
  /** Every fill seen, in arrival order, with its current effect. */
  fills: EffectiveFill[];
  amendmentIds: string[]; // corrections and busts already applied
  /** Corrections and busts waiting for their fill, in arrival order. */
  pendingAmendments: PendingAmendment[];
}

/** Lookups over a state's lists; rebuilt per `evolve` call, kept alive across a batch fold. */
interface Index {
  fillAt: Map<string, number>;
  amendments: Set<string>; // applied and pending amendment ids
}

const indexOf = (s: PositionState): Index => ({
  fillAt: new Map(s.fills.map((f, i) => [f.executionId, i])),
  amendments: new Set([...s.amendmentIds, ...s.pendingAmendments.map((p) => p.executionId)]),
});

const emptyState = (e: ExecutionReport): PositionState => ({
  account: e.account, symbol: e.symbol, venue: e.venue,
  quantity: 0, avgPrice: 0, realizedPnl: 0, fees: 0, fillCount: 0,
  lastExecutionId: '', updatedAt: 0,
  fills: [], amendmentIds: [], pendingAmendments: [],
});

// Shallow: fill entries are replaced, never mutated, so sharing them with the previous state is safe.
const cloneState = (s: PositionState): PositionState => ({
  ...s, fills: s.fills.slice(), amendmentIds: s.amendmentIds.slice(), pendingAmendments: s.pendingAmendments.slice(),
});

/**
 * Applies one execution report. Returns the same object when the event changes nothing (ACK, REJECT,
 * CANCEL, a zero-quantity fill, any duplicate), so a caller can skip the write with `next === prev`.
 * With no state yet, an event that changes nothing returns undefined rather than inventing a flat row.
 * Throws a non-retriable RouterError for a correction or bust without refExecutionId: the shell
 * dead-letters it rather than the fold silently guessing.
 */
export function evolve(state: PositionState, event: ExecutionReport): PositionState;
export function evolve(state: PositionState | undefined, event: ExecutionReport): PositionState | undefined;
export function evolve(state: PositionState | undefined, event: ExecutionReport): PositionState | undefined {
  if (movesNothing(event)) return state; // before the copy: an ACK must not cost O(fills)
  const draft = state ? cloneState(state) : emptyState(event);
  return apply(draft, event, indexOf(draft)) ? draft : state;
}

/** Events that never change a position, whatever it holds: `apply` returns false for them untouched. */
const movesNothing = (e: ExecutionReport): boolean =>
  e.type === 'ACK' || e.type === 'REJECT' || e.type === 'CANCEL' || ((e.type === 'FILL' || e.type === 'PARTIAL_FILL') && !(e.lastQty > 0));

// The lookups of states changed in place (evolveInPlace), built on a state's first event there.
const keptIndex = new WeakMap<PositionState, Index>();

/**
 * `evolve` for a holder that owns its states and keeps no earlier version of them (the risk gate's
 * books): changes `state` in place and keeps its lookups between calls, so an event costs O(1) however
 * long the position has lived, where `evolve` copies and re-indexes every fill. Returns the state (a new
 * one for the first event that changes anything) and whether the event changed it. Throws as `evolve`
 * does, before changing anything.
 */
export function evolveInPlace(state: PositionState | undefined, event: ExecutionReport): { state: PositionState | undefined; changed: boolean } {
  if (movesNothing(event)) return { state, changed: false };
  if (!state) {
    const fresh = emptyState(event);
    const index = indexOf(fresh);
    if (!apply(fresh, event, index)) return { state: undefined, changed: false };
    keptIndex.set(fresh, index);
    return { state: fresh, changed: true };
  }
  let index = keptIndex.get(state);
  if (!index) keptIndex.set(state, (index = indexOf(state)));
  return { state, changed: apply(state, event, index) };
}

/**
 * Chained `evolve` over one position's events, with one copy and one index for the whole run: O(1) per
 * fill instead of O(fills), which matters for a position with a long life. `onChange` sees the working
 * state after each event that changed it; read it there, never keep it. The result never shares
 * mutable lists with `state`.
 */
export function evolveEach(
  state: PositionState | undefined, events: Iterable<ExecutionReport>, onChange?: (s: Readonly<PositionState>, e: ExecutionReport) => void,
): PositionState | undefined {
  let draft = state ? cloneState(state) : undefined;
  let index = draft ? indexOf(draft) : undefined;
  let changed = false;
  for (const e of events) {
    if (!draft || !index) {
      const fresh = emptyState(e);
      const ix = indexOf(fresh);
      if (!apply(fresh, e, ix)) continue;
      draft = fresh;
      index = ix;
    } else if (!apply(draft, e, index)) {
      continue;
    }
    changed = true;
    onChange?.(draft, e);
  }
  return changed ? draft : state;
}

/** The batch fold used by audits and rebuilds. Same `apply` as `evolve`, on states it owns, so O(1) per fill. */
export function foldPositions(events: Iterable<ExecutionReport>): Map<string, PositionState> {
  const owned = new Map<string, { state: PositionState; index: Index }>();
  for (const e of events) {
    const key = positionKey(e);
    const entry = owned.get(key);
    if (entry) { apply(entry.state, e, entry.index); continue; }
    const state = emptyState(e);
    const index = indexOf(state);
    if (apply(state, e, index)) owned.set(key, { state, index });
  }
  return new Map([...owned].map(([k, v]) => [k, v.state]));
}

export interface PositionRow {
  account_id: string;
  symbol: string;
  venue: string;
  quantity: number;
  avg_price: number;
  realized_pnl: number;
  fees: number;
  fill_count: number;
}

// 1e-9 absorbs float noise from different operation orders; -0 becomes 0 so rows compare equal.
const round9 = (x: number): number => {
  const r = Math.round(x * 1e9) / 1e9;
  return r === 0 ? 0 : r;
};

/** The row the Postgres projection writes. */
export const positionRow = (s: PositionState): PositionRow => ({
  account_id: s.account,
  symbol: s.symbol,
  venue: s.venue,
  quantity: round9(s.quantity),
  avg_price: round9(s.avgPrice),
  realized_pnl: round9(s.realizedPnl),
  fees: round9(s.fees),
  fill_count: s.fillCount,
});

// ---- mutation of an owned draft; only `evolve` (on a clone), `evolveInPlace` and `foldPositions` call these ----

function apply(s: PositionState, e: ExecutionReport, ix: Index): boolean {
  switch (e.type) {
    case 'ACK':
    case 'REJECT':
    case 'CANCEL':
      return false;
    case 'PARTIAL_FILL':
    case 'FILL':
      return applyFill(s, e, ix);
    case 'CORRECTION':
    case 'BUST':
      return applyAmendment(s, e, e.type, ix);
    default: {
      const unhandled: never = e.type;
      throw new RouterError('UNKNOWN_EXEC_TYPE', `position fold: unknown execution type ${String(unhandled)}`);
    }
  }
}

function applyFill(s: PositionState, e: ExecutionReport, ix: Index): boolean {
  // A FILL carrying only the terminal status (lastQty 0) moves nothing.
  if (!(e.lastQty > 0)) return false;
  if (ix.fillAt.has(e.executionId) || ix.amendments.has(e.executionId)) return false;
  const fill: EffectiveFill = {
    executionId: e.executionId, side: e.side, qty: signed(e.side, held(e.lastQty, e.netQty)), price: e.lastPrice, fee: e.fee, busted: false,
  };
  ix.fillAt.set(fill.executionId, s.fills.length);
  s.fills.push(fill);
  touch(s, e);
  const waiting = s.pendingAmendments.filter((p) => p.refExecutionId === fill.executionId);
  if (waiting.length === 0) {
    addTrade(s, fill);
    return true;
  }
  // Parked amendments apply in the order they arrived, so the latest still wins.
  const i = s.fills.length - 1;
  for (const p of waiting) {
    s.fills[i] = amend(s.fills[i], p);
    s.amendmentIds.push(p.executionId);
  }
  s.pendingAmendments = s.pendingAmendments.filter((p) => p.refExecutionId !== fill.executionId);
  recompute(s);
  return true;
}

/**
 * The one event `evolve` refuses: an amendment that names no fill. Shells test this first and skip the
 * event (it stays in the log) rather than stall a partition on it; rebuilds skip it the same way.
 */
export const refusedByFold = (e: ExecutionReport): boolean => (e.type === 'CORRECTION' || e.type === 'BUST') && !e.refExecutionId;

function applyAmendment(s: PositionState, e: ExecutionReport, type: 'CORRECTION' | 'BUST', ix: Index): boolean {
  const ref = e.refExecutionId;
  if (!ref) {
    throw new RouterError('AMENDMENT_WITHOUT_REF', `${type} ${e.executionId} has no refExecutionId`, {
      context: { venue: e.venue, clientOrderId: e.clientOrderId },
    });
  }
  if (ix.amendments.has(e.executionId) || ix.fillAt.has(e.executionId)) return false;
  ix.amendments.add(e.executionId);
  const amendment: PendingAmendment = {
    executionId: e.executionId, type, refExecutionId: ref, lastQty: e.lastQty, lastPrice: e.lastPrice, fee: e.fee,
    ...(e.netQty != null ? { netQty: e.netQty } : {}),
  };
  touch(s, e);
  const i = ix.fillAt.get(ref);
  if (i === undefined) {
    // The venue's statement can overtake the fill (another partition, a replay from a time); dropping the
    // amendment would leave the position wrong forever, so it waits for its fill.
    s.pendingAmendments.push(amendment);
    return true;
  }
  s.fills[i] = amend(s.fills[i], amendment);
  s.amendmentIds.push(e.executionId);
  recompute(s);
  return true;
}

// Latest wins: each amendment replaces the fill's effect outright, so a correction after a bust
// reinstates the fill. The side is the original fill's: changing the side is a bust plus a new fill.
// A correction to a quantity of 0 counts as a bust: a zero fill is not a fill.
function amend(f: EffectiveFill, a: PendingAmendment): EffectiveFill {
  if (a.type === 'BUST' || !(a.lastQty > 0)) return { ...f, busted: true };
  return { ...f, qty: signed(f.side, held(a.lastQty, a.netQty)), price: a.lastPrice, fee: a.fee, busted: false };
}

// What a fill adds to the holding: netQty when the venue took its fee from the asset received (a Binance
// BUY paying in the base asset), at the fill's price; the fee's value counts once, in `fees`.
const held = (lastQty: number, netQty: number | null | undefined): number => (netQty != null && netQty > 0 ? netQty : lastQty);

const signed = (side: Side, qty: number): number => (side === 'BUY' ? qty : -qty);

function touch(s: PositionState, e: ExecutionReport): void {
  s.lastExecutionId = e.executionId;
  s.updatedAt = e.hlc;
}
