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
import type { ExecutionReport, Order, Quote, RiskDecision, Side } from '../../schemas/types.ts';
import { DEFAULT_COST_MODEL_DESK, quoteTime } from '../router/costModel.ts';
import { foldExecution, newAccountBook, startDay, symbolBook, type AccountBook, type Mark, type StrategyBook } from './books.ts';
import { notePeak } from './drawdown.ts';

export type { AccountBook, Mark, StrategyBook, SymbolBook } from './books.ts';
export { averageCost, dayPnl, equity } from './books.ts';

export const RATE_WINDOW_MS = 60_000;
const EPSILON = 1e-9;

export interface FillQuality {
  /** EWMA of fill slippage in bps against the arrival mid; positive = paid more than the mid. */
  ewmaBps: number;
  samples: number;
}

export interface OpenOrder {
  account: string;
  /** Whose order: a strategy's `cancel` alert cancels its own working orders only. */
  strategy: string;
  symbol: string;
  venue: string;
  side: Side;
  leaves: number;
  arrivalMid: number | null;
  /**
   * A bracket exit (placed by streams/brackets, not by a decision): working, so a `cancel` alert or an
   * `exit` cancels it, but never counted in the position + open orders that targets aim at: it only
   * ever closes what its entry's fill opened, and its OCO sibling would count the same quantity twice.
   */
  exit?: boolean;
}

/**
 * What arrived about an order before its decision did: the topics are read concurrently, so another
 * instance's fill or order record can overtake its decision. Applied when the decision arrives.
 */
export interface EarlyNews {
  filled: number;
  closed: boolean;
  arrivalMid: number | null;
}

export interface GateState {
  /** UTC day (YYYY-MM-DD) that today's P&L, de-duplication sets and early news belong to. */
  day: string | null;
  accounts: Map<string, AccountBook>;
  /** Canonical symbol → latest mid from any venue. */
  marks: Map<string, Mark>;
  /** venue → canonical symbol → latest quote. */
  quotes: Map<string, Map<string, Quote>>;
  /** venue → canonical symbol → learned slippage. */
  fillQuality: Map<string, Map<string, FillQuality>>;
  /** Approved orders with quantity still working, by orderId. */
  orders: Map<string, OpenOrder>;
  /** Signal ids decided today and the day before. Older repeats are caught by STALE_SIGNAL. */
  decided: Set<string>;
  previouslyDecided: Set<string>;
  /** By orderId, today and the day before. */
  early: Map<string, EarlyNews>;
  previousEarly: Map<string, EarlyNews>;
}

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

const DAY_MS = 86_400_000;
let lastDayNumber = Number.NaN;
let lastDay = '';

/** YYYY-MM-DD in UTC. Remembers the last answer: formatting a date costs more than a whole risk check. */
export function utcDay(epochMs: number): string {
  const dayNumber = Math.floor(epochMs / DAY_MS);
  if (dayNumber !== lastDayNumber) {
    lastDay = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
    lastDayNumber = dayNumber;
  }
  return lastDay;
}

/** The shell may skip a repeated signal outright; decide answers NO_ACTION DUPLICATE_SIGNAL. */
export function hasDecided(state: GateState, signalId: string): boolean {
  return state.decided.has(signalId) || state.previouslyDecided.has(signalId);
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

function accountBook(state: GateState, account: string): AccountBook {
  let book = state.accounts.get(account);
  if (book === undefined) {
    book = newAccountBook();
    state.accounts.set(account, book);
  }
  return book;
}

const signed = (side: Side, qty: number): number => (side === 'BUY' ? qty : -qty);

function earlyNews(state: GateState, orderId: string): EarlyNews {
  let news = state.early.get(orderId) ?? state.previousEarly.get(orderId);
  if (news === undefined) {
    news = { filled: 0, closed: false, arrivalMid: null };
    state.early.set(orderId, news);
  }
  return news;
}

function takeEarlyNews(state: GateState, orderId: string): EarlyNews | undefined {
  const news = state.early.get(orderId) ?? state.previousEarly.get(orderId);
  if (news !== undefined) {
    state.early.delete(orderId);
    state.previousEarly.delete(orderId);
  }
  return news;
}

/** Sorted insert: decisions read back from several partitions arrive out of time order. */
function insertTime(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1] > t) i--;
  if (i === times.length) times.push(t);
  else times.splice(i, 0, t);
  // Times that left the window are dropped in bulk: shifting the array on every order would cost
  // more than the search that skips them.
  const from = times[times.length - 1] - RATE_WINDOW_MS;
  if (times[0] > from) return;
  let drop = 0;
  while (drop < times.length && times[drop] <= from) drop++;
  if (drop >= 64 || drop * 2 >= times.length) times.splice(0, drop);
}

function onDecided(state: GateState, decision: RiskDecision, order: Order | null, alertTime: number | null): void {
  // Applying the same decision twice (ours, then read back from the topic) must change nothing.
  if (hasDecided(state, decision.signalId)) return;
  rollTo(state, utcDay(decision.decidedAt));
  state.decided.add(decision.signalId);
  const account = accountBook(state, decision.account);
  let strategy = account.strategies.get(decision.strategy);
  if (strategy === undefined) {
    strategy = { orderTimes: [], lastAlertTime: null };
    account.strategies.set(decision.strategy, strategy);
  }
  // Every verdict advances the clock: a newer intent supersedes older ones even if it was denied.
  if (alertTime !== null && (strategy.lastAlertTime === null || alertTime > strategy.lastAlertTime)) {
    strategy.lastAlertTime = alertTime;
  }
  if (decision.verdict !== 'APPROVED' || decision.orderId === null || decision.side === null || decision.venue === null) return;
  insertTime(strategy.orderTimes, decision.decidedAt);
  // The decision carries everything the books need; the order adds only the arrival mid.
  const early = takeEarlyNews(state, decision.orderId);
  const leaves = decision.quantity - (early?.filled ?? 0);
  if (early?.closed === true || leaves <= EPSILON) return;
  symbolBook(account, decision.symbol).open += signed(decision.side, leaves);
  state.orders.set(decision.orderId, {
    account: decision.account,
    strategy: decision.strategy,
    symbol: decision.symbol,
    venue: decision.venue,
    side: decision.side,
    leaves,
    arrivalMid: order?.arrivalMid ?? early?.arrivalMid ?? null,
  });
}

function onOrder(state: GateState, order: Order): void {
  if (order.parentOrderId !== null) {
    if (state.orders.has(order.orderId)) return;
    const early = takeEarlyNews(state, order.orderId);
    const leaves = order.quantity - (early?.filled ?? 0);
    if (early?.closed === true || leaves <= EPSILON) return;
    state.orders.set(order.orderId, {
      account: order.account, strategy: order.strategy, symbol: order.symbol, venue: order.venue, side: order.side, leaves, arrivalMid: null, exit: true,
    });
    return;
  }
  const working = state.orders.get(order.orderId);
  if (working !== undefined) working.arrivalMid ??= order.arrivalMid;
  else if (!hasDecided(state, order.signalId)) earlyNews(state, order.orderId).arrivalMid = order.arrivalMid;
}

function onExecution(state: GateState, report: ExecutionReport, order: Order | undefined, alpha: number): void {
  const day = utcDay(report.recordedAt);
  rollTo(state, day);
  const earlier = day < state.day!;
  switch (report.type) {
    case 'ACK':
      return;
    case 'PARTIAL_FILL':
    case 'FILL': {
      const account = accountBook(state, report.account);
      const fresh = foldExecution(symbolBook(account, report.symbol), report, state.marks.get(report.symbol), earlier);
      const working = state.orders.get(report.orderId);
      if (fresh && !earlier) notePeak(account, state.day!, state.marks);
      if (fresh) {
        if (working !== undefined) {
          const filled = Math.min(report.lastQty, working.leaves);
          working.leaves -= filled;
          if (working.exit !== true) symbolBook(account, working.symbol).open -= signed(working.side, filled);
        } else {
          earlyNews(state, report.orderId).filled += report.lastQty;
        }
        learnSlippage(state, report, working?.arrivalMid ?? order?.arrivalMid ?? state.early.get(report.orderId)?.arrivalMid ?? null, alpha);
      }
      const done = report.type === 'FILL' || report.leavesQty <= 0;
      if (working !== undefined && (done || working.leaves <= EPSILON)) closeOrder(state, report.orderId, working);
      else if (working === undefined && done) earlyNews(state, report.orderId).closed = true;
      return;
    }
    case 'CANCEL':
    case 'REJECT': {
      const working = state.orders.get(report.orderId);
      if (working !== undefined) closeOrder(state, report.orderId, working);
      else earlyNews(state, report.orderId).closed = true;
      return;
    }
    case 'CORRECTION':
    case 'BUST':
      // The fold finds the amended fill however old it is, or parks the amendment until it arrives.
      foldExecution(symbolBook(accountBook(state, report.account), report.symbol), report, state.marks.get(report.symbol), earlier);
      return;
    default: {
      const unknown: never = report.type;
      throw new Error(`unhandled execution type ${String(unknown)}`);
    }
  }
}

function closeOrder(state: GateState, orderId: string, working: OpenOrder): void {
  const account = state.accounts.get(working.account);
  if (account !== undefined && working.exit !== true) symbolBook(account, working.symbol).open -= signed(working.side, working.leaves);
  working.leaves = 0;
  state.orders.delete(orderId);
}

function learnSlippage(state: GateState, report: ExecutionReport, arrivalMid: number | null, alpha: number): void {
  if (arrivalMid === null || !(arrivalMid > 0) || !(report.lastQty > 0)) return;
  const bps = (signed(report.side, report.lastPrice - arrivalMid) / arrivalMid) * 1e4;
  let perVenue = state.fillQuality.get(report.venue);
  if (perVenue === undefined) {
    perVenue = new Map();
    state.fillQuality.set(report.venue, perVenue);
  }
  const quality = perVenue.get(report.symbol);
  if (quality === undefined) {
    perVenue.set(report.symbol, { ewmaBps: bps, samples: 1 });
  } else {
    quality.ewmaBps += alpha * (bps - quality.ewmaBps);
    quality.samples += 1;
  }
}

function onQuote(state: GateState, quote: Quote): void {
  let perVenue = state.quotes.get(quote.venue);
  if (perVenue === undefined) {
    perVenue = new Map();
    state.quotes.set(quote.venue, perVenue);
  }
  perVenue.set(quote.symbol, quote);
  if (!(quote.bid > 0) || !(quote.ask >= quote.bid)) return;
  const at = quoteTime(quote);
  const mid = (quote.bid + quote.ask) / 2;
  const mark = state.marks.get(quote.symbol);
  if (mark === undefined) state.marks.set(quote.symbol, { mid, at });
  else if (at >= mark.at) {
    mark.mid = mid;
    mark.at = at;
  } else return;
  if (state.day === null) return;
  for (const account of state.accounts.values()) if (account.symbols.has(quote.symbol)) notePeak(account, state.day, state.marks);
}

/** Forward only. Today's P&L restarts from the equity at the current marks; positions carry over. */
function rollTo(state: GateState, day: string): void {
  if (state.day !== null && day <= state.day) return;
  state.day = day;
  for (const account of state.accounts.values()) {
    startDay(account, state.marks);
    notePeak(account, day, state.marks);
  }
  state.previouslyDecided = state.decided;
  state.decided = new Set();
  state.previousEarly = state.early;
  state.early = new Map();
}
