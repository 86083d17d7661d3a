// Per-event P&L for the Parquet rows: what each execution changed in its position, by the one
// definition of a position (streams/positions/fold.ts). Summing `realized` over a position's rows gives
// exactly the realized P&L the Postgres projection holds; attributing each change to its event's
// strategy and day is what lets quants group P&L by those.
//
// A batch is folded per position with `evolveEach` (one copy of the state per batch, O(1) per fill);
// a plain `evolve` per event would copy a position's whole fill list for every fill.
import type { ExecutionReport } from '../schemas/types.ts';
import { evolveEach, positionKey, refusedByFold, type PositionState } from '../streams/positions/fold.ts';

export interface PnlEffect {
  /** Change in realized P&L (quote currency, fees excluded). */
  realized: number;
  /** Change in fees. */
  fees: number;
  /** The position after the event; null while the position has never moved. */
  quantity: number | null;
  avgPrice: number | null;
}

export interface PnlFold {
  /** Applies a batch of events (in log order) and returns the change each one made, in the same order. */
  applyBatch(events: readonly ExecutionReport[]): PnlEffect[];
  /** One event: `applyBatch([e])[0]`. */
  apply(e: ExecutionReport): PnlEffect;
  /** The current states, keyed by positionKey. */
  states(): ReadonlyMap<string, PositionState>;
}

const unchanged = (s: PositionState | undefined): PnlEffect =>
  ({ realized: 0, fees: 0, quantity: s ? s.quantity : null, avgPrice: s ? s.avgPrice : null });

export function createPnlFold(opts: { onRefused?: (e: ExecutionReport) => void } = {}): PnlFold {
  const states = new Map<string, PositionState>();

  function applyBatch(events: readonly ExecutionReport[]): PnlEffect[] {
    const out = new Array<PnlEffect>(events.length);
    const byKey = new Map<string, number[]>();
    events.forEach((e, i) => {
      const k = positionKey(e);
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push(i);
    });
    for (const [key, indexes] of byKey) {
      const before = states.get(key);
      let realized = before?.realizedPnl ?? 0;
      let fees = before?.fees ?? 0;
      let current = -1;
      function* inOrder() {
        for (const i of indexes) {
          // An amendment naming no fill: the projection skips it as well; its row is still stored.
          if (refusedByFold(events[i])) { opts.onRefused?.(events[i]); continue; }
          current = i;
          yield events[i];
        }
      }
      const after = evolveEach(before, inOrder(), (s) => {
        out[current] = { realized: s.realizedPnl - realized, fees: s.fees - fees, quantity: s.quantity, avgPrice: s.avgPrice };
        realized = s.realizedPnl;
        fees = s.fees;
      });
      // Events that changed nothing carry the position as it stood; fill them in, in order.
      let standing: { quantity: number; avgPrice: number } | undefined = before;
      for (const i of indexes) {
        if (out[i]) standing = { quantity: out[i].quantity!, avgPrice: out[i].avgPrice! };
        else out[i] = unchanged(standing as PositionState | undefined);
      }
      if (after) states.set(key, after);
    }
    return out;
  }

  return {
    applyBatch,
    apply: (e) => applyBatch([e])[0],
    states: () => states,
  };
}
