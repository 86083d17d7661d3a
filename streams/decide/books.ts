// What the gate holds per account and symbol: the position, taken from the one position fold
// (streams/positions/fold.ts, so corrections and busts of any age count exactly as they do in the
// Postgres projection and the audit rebuild), the quantity still working, and today's P&L.
//
// Today's P&L is a difference of equities, not a running sum of fills: equity = cash flow + position
// valued at the mark, where cash flow = realized − fees − quantity × average cost (the cash spent,
// whatever the accounting order). At the day roll `startEquity` takes the equity at the marks of
// that moment, so dayPnl = equity now − startEquity holds both realized and marked-to-market P&L of
// today. A fill recorded on an earlier day (a replay, a late report) moves `startEquity` by its own
// effect, so it never counts in today's P&L.
import type { ExecutionReport } from '../../schemas/types.ts';
import { evolveInPlace, type PositionState } from '../positions/fold.ts';

export interface SymbolBook {
  /** Σ over venues of the fold's signed quantity: long > 0. */
  position: number;
  /** Signed quantity of approved orders not yet filled, cancelled or rejected: buys > 0. */
  open: number;
  /** venue → the position fold's state for this account and symbol. */
  venues: Map<string, PositionState>;
  /** Σ over venues of realizedPnl − fees − quantity × avgPrice. */
  cash: number;
  /** Σ over venues of quantity × avgPrice: the position at cost, its value when there is no mark. */
  cost: number;
  /** Equity when today began, at the marks of the day roll (at cost where there was none). */
  startEquity: number;
}

export interface StrategyBook {
  /** Times of approved orders inside the rate window, ascending. */
  orderTimes: number[];
  /** Latest alert time decided for this strategy: an older alert is out of order. */
  lastAlertTime: number | null;
}

export interface AccountBook {
  symbols: Map<string, SymbolBook>;
  strategies: Map<string, StrategyBook>;
  /** UTC day → the highest book equity seen that day (drawdown.ts). */
  peaks: Map<string, number>;
}

export interface Mark {
  mid: number;
  /** Our clock (ms) when the quote was recorded. */
  at: number;
}

export function newAccountBook(): AccountBook {
  return { symbols: new Map(), strategies: new Map(), peaks: new Map() };
}

export function symbolBook(account: AccountBook, symbol: string): SymbolBook {
  let book = account.symbols.get(symbol);
  if (book === undefined) {
    book = { position: 0, open: 0, venues: new Map(), cash: 0, cost: 0, startEquity: 0 };
    account.symbols.set(symbol, book);
  }
  return book;
}

/** Cash flow plus the position at the mark; at cost (so realized − fees) without one. */
export function equity(book: SymbolBook, mark: Mark | undefined): number {
  return book.cash + (mark === undefined ? book.cost : book.position * mark.mid);
}

/** Today's realized and unrealized P&L of one account, at the marks given. */
export function dayPnl(account: AccountBook, marks: ReadonlyMap<string, Mark>): number {
  let pnl = 0;
  for (const [symbol, book] of account.symbols) pnl += equity(book, marks.get(symbol)) - book.startEquity;
  return pnl;
}

/** The average cost of the whole position (all venues), 0 when flat. */
export function averageCost(book: SymbolBook): number {
  return book.position === 0 ? 0 : book.cost / book.position;
}

/** Recomputed from the venue states (a handful) rather than accumulated, so no float drift builds up. */
function resum(book: SymbolBook): void {
  let position = 0;
  let cash = 0;
  let cost = 0;
  for (const s of book.venues.values()) {
    position += s.quantity;
    cash += s.realizedPnl - s.fees - s.quantity * s.avgPrice;
    cost += s.quantity * s.avgPrice;
  }
  book.position = Math.abs(position) < 1e-9 ? 0 : position;
  book.cash = cash;
  book.cost = cost;
}

/**
 * Folds one fill, correction or bust into the book through the position fold. Returns false when the
 * fold ignored it (a duplicate, a zero-quantity fill). `earlier`: recorded before today, so its effect
 * goes into the day's starting equity instead of today's P&L. Throws the fold's RouterError for an
 * amendment without a reference.
 */
export function foldExecution(book: SymbolBook, report: ExecutionReport, mark: Mark | undefined, earlier: boolean): boolean {
  // Equity is read before the fold changes the venue's state in place (the book owns its states).
  const equityBefore = earlier ? equity(book, mark) : 0;
  const { state, changed } = evolveInPlace(book.venues.get(report.venue), report);
  if (!changed || state === undefined) return false;
  book.venues.set(report.venue, state);
  resum(book);
  if (earlier) book.startEquity += equity(book, mark) - equityBefore;
  return true;
}

/** The day roll: today's P&L restarts from the equity at the marks of this moment. */
export function startDay(account: AccountBook, marks: ReadonlyMap<string, Mark>): void {
  for (const [symbol, book] of account.symbols) book.startEquity = equity(book, marks.get(symbol));
}
