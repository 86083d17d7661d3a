// The average-cost arithmetic of a position: how one effective fill moves quantity, average price,
// realised P&L and fees. Only the fold (streams/positions/fold.ts) calls it, on drafts it owns; the shapes
// here are the parts of its state and fills that the arithmetic reads, so this file imports nothing.

/** The running figures of a position; `PositionState` carries them. */
export interface Running {
  /** Signed: long > 0, short < 0. */
  quantity: number;
  avgPrice: number;
  realizedPnl: number;
  fees: number;
  fillCount: number;
}

/** What a fill contributes; `EffectiveFill` carries it. `qty` is signed: BUY > 0, SELL < 0. */
export interface Trade {
  qty: number;
  price: number;
  fee: number;
}

// Replays the effective fills from flat with the very operations `addTrade` uses incrementally, so an
// amended state and a never-amended one with the same effective fills are bit-identical.
export function recompute(s: Running & { fills: readonly (Trade & { busted: boolean })[] }): void {
  s.quantity = 0; s.avgPrice = 0; s.realizedPnl = 0; s.fees = 0; s.fillCount = 0;
  for (const f of s.fills) if (!f.busted) addTrade(s, f);
}

/**
 * Average cost. Adding to the open side moves avgPrice to the weighted average; reducing realises
 * (price − avgPrice) × closed × sign and keeps avgPrice; crossing zero closes the old side in full and
 * opens the rest at the trade price.
 */
export function addTrade(s: Running, f: Trade): void {
  s.fees += f.fee;
  s.fillCount += 1;
  const q = s.quantity;
  const t = f.qty;
  if (q === 0) {
    s.quantity = t; s.avgPrice = f.price;
    return;
  }
  if (Math.sign(q) === Math.sign(t)) {
    const next = q + t;
    s.avgPrice = (Math.abs(q) * s.avgPrice + Math.abs(t) * f.price) / Math.abs(next);
    s.quantity = next;
    return;
  }
  const closed = Math.min(Math.abs(t), Math.abs(q));
  s.realizedPnl += (f.price - s.avgPrice) * closed * Math.sign(q);
  const next = q + t;
  // 0.1 + 0.2 - 0.3 is not 0 in doubles; a residue that small is a flat position, not a tiny short.
  if (Math.abs(next) <= 1e-12 * Math.max(Math.abs(q), Math.abs(t))) {
    s.quantity = 0; s.avgPrice = 0;
  } else {
    s.quantity = next;
    if (Math.sign(next) !== Math.sign(q)) s.avgPrice = f.price;
  }
}
