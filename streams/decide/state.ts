// What the risk gate remembers between decisions, and how events change it.
//
// evolveGate MUTATES the state in place and returns it: it runs once per record on the hot path,
// and copying maps per event would cost more than the decision itself. `decide` only reads.
// State is per account (the signals topic is partitioned by account, so one instance decides for
// each account); every instance folds every decision, order, fill and quote it reads from the
// topics, so a partition handed over in a rebalance arrives with its books already current.
//
// Days roll forward only, by event time (an execution's recordedAt, a decision's decidedAt) or by the
// shell's clock: a record from an earlier day, seen late, never counts in today's P&L (see books.ts).
// The fold itself lives in evolveOrders.ts (decisions, orders), evolveFills.ts (executions, quotes) and
// gateFold.ts (the helpers both share); this file holds the state's shape and the dispatch.
import type { ExecutionReport, Order, Quote, RiskDecision, Side } from '../../schemas/types.ts';
import { DEFAULT_COST_MODEL_DESK } from '../router/costModel.ts';
import type { StrategyBook } from './books.ts';
import type { GateState } from './gateTypes.ts';
import { onExecution, onQuote } from './evolveFills.ts';
import { onDecided, onOrder } from './evolveOrders.ts';
import { RATE_WINDOW_MS, rollTo } from './gateFold.ts';

export type { AccountBook, Mark, StrategyBook, SymbolBook } from './books.ts';
export { averageCost, dayPnl, equity } from './books.ts';
export { RATE_WINDOW_MS, hasDecided, utcDay } from './gateFold.ts';

export type { EarlyNews, FillQuality, GateState, OpenOrder } from './gateTypes.ts';

export type GateEvent =
  /** A decision (ours just made, or any instance's read back from `risk-decisions`). */
  | { kind: 'decided'; decision: RiskDecision; order: Order | null; alertTime: number | null }
  /** An order read back from `orders`: only its arrival mid is news. */
  | { kind: 'order'; order: Order }
  | { kind: 'execution'; report: ExecutionReport; order?: Order }
  | { kind: 'quote'; quote: Quote }
  | { kind: 'dayRoll'; day: string };

export function initialGateState(): GateState {
  return {
    day: null,
    accounts: new Map(),
    marks: new Map(),
    quotes: new Map(),
    fillQuality: new Map(),
    orders: new Map(),
    decided: new Set(),
    previouslyDecided: new Set(),
    early: new Map(),
    previousEarly: new Map(),
  };
}

/** Approved orders of a strategy inside the window ending at `now`. */
export function ordersInWindow(book: StrategyBook | undefined, now: number): number {
  if (book === undefined) return 0;
  const times = book.orderTimes;
  const from = now - RATE_WINDOW_MS;
  // Binary search for the first time inside the window: the list may hold a busy minute.
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] > from) hi = mid;
    else lo = mid + 1;
  }
  return times.length - lo;
}

/** Mutates and returns `state`. `ewmaAlpha` is the cost model's; pass config.costModel.ewmaAlpha. */
export function evolveGate(state: GateState, event: GateEvent, ewmaAlpha: number = DEFAULT_COST_MODEL_DESK.ewmaAlpha): GateState {
  switch (event.kind) {
    case 'decided':
      onDecided(state, event.decision, event.order, event.alertTime);
      return state;
    case 'order':
      onOrder(state, event.order);
      return state;
    case 'execution':
      onExecution(state, event.report, event.order, ewmaAlpha);
      return state;
    case 'quote':
      onQuote(state, event.quote);
      return state;
    case 'dayRoll':
      rollTo(state, event.day);
      return state;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}
