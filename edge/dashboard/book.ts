// The dashboard's P&L core, pure: positions as the Postgres projection holds them, marked to the
// latest quote mid (the same mark the risk gate uses), rolled up per account and per strategy, and the
// day's P&L curve rebuilt from `position_history`. No I/O: the shell passes rows and marks in.

/** One row of the `positions` table, as read. */
export interface PositionRow {
  account: string; symbol: string; venue: string;
  quantity: number; avgPrice: number; realizedPnl: number; fees: number; fillCount: number; updatedAt: string;
}

/** A strategy's booked P&L today, from `position_history` (realized and fees are booked per fill's strategy). */
export interface StrategyDayRow { strategy: string; account: string; realizedToday: number; feesToday: number; fillsToday: number }

export interface PositionView extends PositionRow {
  mark: number | null;
  /** null when the position is open and no mark is known yet. */
  unrealizedPnl: number | null;
  netPnl: number | null;
}

export interface Totals { realized: number; unrealized: number; fees: number; net: number; unmarked: number; open: number; gross: number }

export interface AccountView extends Totals { account: string; strategies: string[] }

export interface StrategyView {
  strategy: string; account: string;
  realizedToday: number; feesToday: number; fillsToday: number;
  /**
   * The account's open P&L when the strategy is the account's only strategy; null when several
   * strategies share the account, since positions are kept per account and cannot be split honestly.
   */
  unrealized: number | null;
}

export interface Book { positions: PositionView[]; accounts: AccountView[]; strategies: StrategyView[]; totals: Totals }

/** `venue|symbol`, the key of the `quotes` topic. */
export const markKey = (venue: string, symbol: string): string => `${venue}|${symbol}`;

export const mid = (q: { bid: number; ask: number }): number => (q.bid + q.ask) / 2;

// Flat positions carry no open P&L whatever the mark, so a missing mark only matters when open.
const unrealized = (p: PositionRow, mark: number | null): number | null =>
  p.quantity === 0 ? 0 : mark === null ? null : (mark - p.avgPrice) * p.quantity;

const emptyTotals = (): Totals => ({ realized: 0, unrealized: 0, fees: 0, net: 0, unmarked: 0, open: 0, gross: 0 });

function add(t: Totals, p: PositionView): void {
  t.realized += p.realizedPnl;
  t.fees += p.fees;
  if (p.unrealizedPnl === null) t.unmarked += 1;
  else t.unrealized += p.unrealizedPnl;
  if (p.quantity !== 0) t.open += 1;
  t.gross += Math.abs(p.quantity * (p.mark ?? p.avgPrice));
  t.net = t.realized - t.fees + t.unrealized;
}

export function buildBook(o: {
  positions: readonly PositionRow[];
  strategyDay: readonly StrategyDayRow[];
  marks: ReadonlyMap<string, number>;
  /** Configured strategy → account (the edge's strategies), so an idle strategy still has a row. */
  strategyAccounts: readonly { id: string; account: string }[];
}): Book {
  const positions = o.positions.map((p): PositionView => {
    const mark = o.marks.get(markKey(p.venue, p.symbol)) ?? null;
    const u = unrealized(p, mark);
    return { ...p, mark, unrealizedPnl: u, netPnl: u === null ? null : p.realizedPnl - p.fees + u };
  });
  const strategyAccount = new Map<string, string>();
  for (const s of o.strategyAccounts) strategyAccount.set(s.id, s.account);
  for (const s of o.strategyDay) if (!strategyAccount.has(s.strategy)) strategyAccount.set(s.strategy, s.account);
  const byAccount = new Map<string, AccountView>();
  const account = (id: string): AccountView => {
    let a = byAccount.get(id);
    if (!a) byAccount.set(id, (a = { account: id, strategies: [], ...emptyTotals() }));
    return a;
  };
  for (const [strategy, acc] of strategyAccount) account(acc).strategies.push(strategy);
  const totals = emptyTotals();
  for (const p of positions) { add(account(p.account), p); add(totals, p); }
  const day = new Map(o.strategyDay.map((s) => [s.strategy, s]));
  const strategies = [...strategyAccount].map(([strategy, acc]): StrategyView => {
    const d = day.get(strategy);
    const a = byAccount.get(acc)!;
    const alone = a.strategies.length === 1 && a.unmarked === 0;
    return {
      strategy, account: acc, realizedToday: d?.realizedToday ?? 0, feesToday: d?.feesToday ?? 0, fillsToday: d?.fillsToday ?? 0,
      unrealized: alone ? a.unrealized : null,
    };
  });
  const byName = (a: { account: string }, b: { account: string }) => a.account.localeCompare(b.account);
  return {
    positions,
    accounts: [...byAccount.values()].map((a) => ({ ...a, strategies: a.strategies.sort() })).sort(byName),
    strategies: strategies.sort((a, b) => a.strategy.localeCompare(b.strategy)),
    totals,
  };
}

// ---- the day's curve ----

/** A point of the P&L curve; values are since the start of the day (UTC). */
export interface PnlPoint { t: number; realized: number; fees: number; unrealized: number }

/** A position's state after an event, as `position_history` stores it, with the fill's price as a mark. */
export interface HistoryRow {
  account: string; symbol: string; venue: string; at: number;
  quantity: number; avgPrice: number; realizedPnl: number; fees: number;
  /** The price of the fill (or corrected fill) that produced this row; null for a bust. */
  price: number | null;
}

interface Held { quantity: number; avgPrice: number; realizedPnl: number; fees: number; venue: string; symbol: string }

const openPnl = (held: Iterable<Held>, marks: ReadonlyMap<string, number>): number => {
  let sum = 0;
  for (const h of held) {
    const m = marks.get(markKey(h.venue, h.symbol));
    if (h.quantity !== 0 && m !== undefined) sum += (m - h.avgPrice) * h.quantity;
  }
  return sum;
};

const sums = (held: Iterable<Held>) => {
  let realized = 0, fees = 0;
  for (const h of held) { realized += h.realizedPnl; fees += h.fees; }
  return { realized, fees };
};

/**
 * The day's curve from the log: `start` is each position's last state before the day and `startMarks`
 * the last fill prices before it; each of today's events moves its position and marks its symbol at
 * the fill's price (the price the desk knew at that instant). Values are relative to the day's start,
 * so the curve begins at 0 and its last point is today's P&L.
 */
export function dayCurve(dayStart: number, start: readonly HistoryRow[], startMarks: ReadonlyMap<string, number>, events: readonly HistoryRow[]): {
  points: PnlPoint[]; base: { realized: number; fees: number; unrealized: number };
} {
  const held = new Map<string, Held>();
  const marks = new Map(startMarks);
  const keyOf = (r: HistoryRow) => `${r.account}|${r.symbol}|${r.venue}`;
  for (const r of start) held.set(keyOf(r), { ...r });
  const base = { ...sums(held.values()), unrealized: openPnl(held.values(), marks) };
  const points: PnlPoint[] = [{ t: dayStart, realized: 0, fees: 0, unrealized: 0 }];
  for (const e of events) {
    held.set(keyOf(e), { ...e });
    if (e.price !== null && e.price > 0) marks.set(markKey(e.venue, e.symbol), e.price);
    const s = sums(held.values());
    points.push({ t: e.at, realized: s.realized - base.realized, fees: s.fees - base.fees, unrealized: openPnl(held.values(), marks) - base.unrealized });
  }
  return { points, base };
}

/** The live point: the book's totals now, relative to the day's start. */
export const livePoint = (t: number, totals: Totals, base: { realized: number; fees: number; unrealized: number }): PnlPoint => ({
  t, realized: totals.realized - base.realized, fees: totals.fees - base.fees, unrealized: totals.unrealized - base.unrealized,
});

/** Keeps a curve bounded: past `max` points, every other point of the older half goes (the shape stays). */
export function boundCurve(points: PnlPoint[], max: number): PnlPoint[] {
  if (points.length <= max) return points;
  const half = Math.floor(points.length / 2);
  return [...points.slice(0, half).filter((_, i) => i % 2 === 0), ...points.slice(half)];
}

export const utcDayStart = (ms: number): number => ms - (ms % 86_400_000);
