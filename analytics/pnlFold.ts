// Per-event P&L for the Parquet rows: what each execution changed in its position, by the one
// definition of a position (streams/positions/fold.ts). Summing `realized` over a position's rows gives
// exactly the realized P&L the Postgres projection holds; attributing each change to its event's
// strategy and day is what lets quants group P&L by those.
//
// `evolve` copies a state's fill list on every call (it must keep every fill for late corrections), which
// is O(fills) per event: fine for a projection batch, too slow for a million fills on a few positions.
// A new fill with no amendment waiting for it only needs the state's scalars, so it is evolved on a
// copy without the lists and its fill entry is appended here; everything else (amendments, duplicates,
// fills with a parked correction) goes through `evolve` on the full state. The arithmetic is always
// fold.ts's; a property test checks this against `foldPositions` on random streams.
import type { ExecutionReport } from '../schemas/types.ts';
import { evolve, positionKey, type PositionState } from '../streams/positions/fold.ts';

export interface PnlEffect {
  /** Change in realized P&L (quote currency, fees excluded). */
  realized: number;
  /** Change in fees. */
  fees: number;
  /** The position after the event; null while the position has never moved. */
  quantity: number | null;
  avgPrice: number | null;
}

interface Entry {
  state: PositionState;
  /** Fill ids, applied and pending amendment ids: any event naming one of these takes the full path. */
  ids: Set<string>;
  /** Fills some parked amendment is waiting for. */
  awaited: Set<string>;
}

const indexEntry = (state: PositionState): Entry => ({
  state,
  ids: new Set([...state.fills.map((f) => f.executionId), ...state.amendmentIds, ...state.pendingAmendments.map((p) => p.executionId)]),
  awaited: new Set(state.pendingAmendments.map((p) => p.refExecutionId)),
});

export interface PnlFold {
  /** Applies one event (in log order) and returns the change it made. */
  apply(e: ExecutionReport): PnlEffect;
  /** The current states, keyed by positionKey. Owned by the fold: do not mutate. */
  states(): ReadonlyMap<string, PositionState>;
}

export function createPnlFold(opts: { onRefused?: (e: ExecutionReport, err: unknown) => void } = {}): PnlFold {
  const entries = new Map<string, Entry>();

  const effect = (before: PositionState | undefined, after: PositionState | undefined): PnlEffect => ({
    realized: after && before ? after.realizedPnl - before.realizedPnl : after ? after.realizedPnl : 0,
    fees: after && before ? after.fees - before.fees : after ? after.fees : 0,
    quantity: after ? after.quantity : null,
    avgPrice: after ? after.avgPrice : null,
  });

  function fastFill(entry: Entry, e: ExecutionReport): PnlEffect {
    const s = entry.state;
    const thin: PositionState = { ...s, fills: [], amendmentIds: [], pendingAmendments: [] };
    const next = evolve(thin, e);
    if (next === thin) return effect(s, s);
    const before = { realizedPnl: s.realizedPnl, fees: s.fees } as PositionState;
    // The entry owns its state: keep its lists, take the new scalars and the one new fill entry.
    const { fills, amendmentIds, pendingAmendments } = s;
    Object.assign(s, next, { fills, amendmentIds, pendingAmendments });
    fills.push(next.fills[next.fills.length - 1]);
    entry.ids.add(e.executionId);
    return effect(before, s);
  }

  return {
    apply(e) {
      const key = positionKey(e);
      const entry = entries.get(key);
      try {
        const plainFill = (e.type === 'FILL' || e.type === 'PARTIAL_FILL') && entry !== undefined &&
          !entry.ids.has(e.executionId) && !entry.awaited.has(e.executionId);
        if (plainFill) return fastFill(entry, e);
        const before = entry?.state;
        const after = evolve(before, e);
        if (after === undefined || after === before) return effect(before, before);
        entries.set(key, indexEntry(after));
        return effect(before, after);
      } catch (err) {
        // An amendment naming no fill: the projection skips it as well; the row is still stored.
        opts.onRefused?.(e, err);
        return effect(entry?.state, entry?.state);
      }
    },
    states: () => new Map([...entries].map(([k, v]) => [k, v.state])),
  };
}
