// What the risk gate remembers between decisions, and how events change it.
//
// evolveGate MUTATES the state in place and returns it: it runs once per record on the hot path,
// and copying maps per event would cost more than the decision itself. `decide` only reads.
// State is per account (the signals topic is partitioned by account, so one instance owns each
// account's books); market data and fill quality are shared by the accounts an instance owns.
//
// Positions here are the gate's own signed quantity per account and symbol (all venues together).
// Corrections and busts are honoured for fills of today and yesterday; P&L after an amendment is
// approximate (average-price accounting is order dependent). The authoritative fold is
// streams/positions/fold.ts; the gate will take its positions from there.
import type { ExecutionReport, Order, Quote, RiskDecision, Side } from '../../schemas/types.ts';
import { DEFAULT_COST_MODEL_DESK, quoteTime } from '../router/costModel.ts';

export const RATE_WINDOW_MS = 60_000;
const EPSILON = 1e-9;

export interface SymbolBook {
  /** Signed filled quantity: long > 0. */
  position: number;
  /** Signed quantity of approved orders not yet filled, cancelled or rejected: buys > 0. */
  open: number;
  /** Average price of the position for today's P&L; re-marked at the day roll. */
  avgPrice: number;
}

export interface StrategyBook {
  /** Times of approved orders inside the rate window, oldest first. */
  orderTimes: number[];
  /** Latest alert time decided for this strategy: an older alert is out of order. */
  lastAlertTime: number | null;
}

export interface AccountBook {
  symbols: Map<string, SymbolBook>;
  strategies: Map<string, StrategyBook>;
  /** Realized P&L since the day roll, net of fees. */
  realizedToday: number;
}

export interface Mark {
  mid: number;
  /** Our clock (ms) when the quote was recorded. */
  at: number;
}

export interface FillQuality {
  /** EWMA of fill slippage in bps against the arrival mid; positive = paid more than the mid. */
  ewmaBps: number;
  samples: number;
}

export interface OpenOrder {
  account: string;
  symbol: string;
  venue: string;
  side: Side;
  leaves: number;
  arrivalMid: number | null;
}

interface FillRecord {
  account: string;
  symbol: string;
  side: Side;
  qty: number;
  price: number;
  fee: number;
}

export interface GateState {
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
  /** Fills (and amendments) by executionId, today and the day before: de-duplication and corrections. */
  fills: Map<string, FillRecord>;
  previousFills: Map<string, FillRecord>;
  /** Signal ids decided today and the day before. Older repeats are caught by STALE_SIGNAL. */
  decided: Set<string>;
  previouslyDecided: Set<string>;
}

export type GateEvent =
  | { kind: 'decided'; decision: RiskDecision; order: Order | null; alertTime: number | null }
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
    fills: new Map(),
    previousFills: new Map(),
    decided: new Set(),
    previouslyDecided: new Set(),
  };
}

/** The shell may skip a repeated signal outright; decide answers NO_ACTION DUPLICATE_SIGNAL. */
export function hasDecided(state: GateState, signalId: string): boolean {
  return state.decided.has(signalId) || state.previouslyDecided.has(signalId);
}

/** Approved orders of a strategy inside the window ending at `now`. */
export function ordersInWindow(book: StrategyBook | undefined, now: number): number {
  if (book === undefined) return 0;
  const times = book.orderTimes;
  let i = times.length;
  while (i > 0 && times[i - 1] > now - RATE_WINDOW_MS) i--;
  return times.length - i;
}

/** Mutates and returns `state`. `ewmaAlpha` is the cost model's; pass config.costModel.ewmaAlpha. */
export function evolveGate(state: GateState, event: GateEvent, ewmaAlpha: number = DEFAULT_COST_MODEL_DESK.ewmaAlpha): GateState {
  switch (event.kind) {
    case 'decided':
      onDecided(state, event.decision, event.order, event.alertTime);
      return state;
    case 'execution':
      onExecution(state, event.report, event.order, ewmaAlpha);
      return state;
    case 'quote':
      onQuote(state, event.quote);
      return state;
    case 'dayRoll':
      onDayRoll(state, event.day);
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
    book = { symbols: new Map(), strategies: new Map(), realizedToday: 0 };
    state.accounts.set(account, book);
  }
  return book;
}

function symbolBook(account: AccountBook, symbol: string): SymbolBook {
  let book = account.symbols.get(symbol);
  if (book === undefined) {
    book = { position: 0, open: 0, avgPrice: 0 };
    account.symbols.set(symbol, book);
  }
  return book;
}

const signed = (side: Side, qty: number): number => (side === 'BUY' ? qty : -qty);

function onDecided(state: GateState, decision: RiskDecision, order: Order | null, alertTime: number | null): void {
  // Applying the same decision twice (or a DUPLICATE_SIGNAL decision) must change nothing.
  if (hasDecided(state, decision.signalId)) return;
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
  if (decision.verdict !== 'APPROVED' || order === null) return;
  const times = strategy.orderTimes;
  times.push(decision.decidedAt);
  while (times.length > 0 && times[0] <= decision.decidedAt - RATE_WINDOW_MS) times.shift();
  symbolBook(account, order.symbol).open += signed(order.side, order.quantity);
  state.orders.set(order.orderId, {
    account: order.account,
    symbol: order.symbol,
    venue: order.venue,
    side: order.side,
    leaves: order.quantity,
    arrivalMid: order.arrivalMid,
  });
}

function onExecution(state: GateState, report: ExecutionReport, order: Order | undefined, alpha: number): void {
  switch (report.type) {
    case 'ACK':
      return;
    case 'PARTIAL_FILL':
    case 'FILL': {
      if (state.fills.has(report.executionId) || state.previousFills.has(report.executionId)) return;
      const account = accountBook(state, report.account);
      applyFill(account, symbolBook(account, report.symbol), signed(report.side, report.lastQty), report.lastPrice, report.fee);
      state.fills.set(report.executionId, {
        account: report.account, symbol: report.symbol, side: report.side, qty: report.lastQty, price: report.lastPrice, fee: report.fee,
      });
      const working = state.orders.get(report.orderId);
      if (working !== undefined) {
        const filled = Math.min(report.lastQty, working.leaves);
        working.leaves -= filled;
        symbolBook(account, working.symbol).open -= signed(working.side, filled);
        if (report.type === 'FILL' || report.leavesQty <= 0 || working.leaves <= EPSILON) closeOrder(state, report.orderId, working);
      }
      learnSlippage(state, report, working?.arrivalMid ?? order?.arrivalMid ?? null, alpha);
      return;
    }
    case 'CANCEL':
    case 'REJECT': {
      const working = state.orders.get(report.orderId);
      if (working !== undefined) closeOrder(state, report.orderId, working);
      return;
    }
    case 'CORRECTION':
    case 'BUST': {
      if (state.fills.has(report.executionId) || state.previousFills.has(report.executionId)) return;
      const ref = report.refExecutionId === null
        ? undefined
        : state.fills.get(report.refExecutionId) ?? state.previousFills.get(report.refExecutionId);
      // An amendment of a fill older than yesterday is left to the positions fold.
      if (ref === undefined) return;
      const account = accountBook(state, ref.account);
      const book = symbolBook(account, ref.symbol);
      applyFill(account, book, -signed(ref.side, ref.qty), ref.price, -ref.fee);
      const bust = report.type === 'BUST';
      ref.qty = bust ? 0 : report.lastQty;
      ref.price = bust ? ref.price : report.lastPrice;
      ref.fee = bust ? 0 : report.fee;
      applyFill(account, book, signed(ref.side, ref.qty), ref.price, ref.fee);
      state.fills.set(report.executionId, { ...ref, qty: 0, fee: 0 });
      return;
    }
    default: {
      const unknown: never = report.type;
      throw new Error(`unhandled execution type ${String(unknown)}`);
    }
  }
}

function closeOrder(state: GateState, orderId: string, working: OpenOrder): void {
  const account = state.accounts.get(working.account);
  if (account !== undefined) symbolBook(account, working.symbol).open -= signed(working.side, working.leaves);
  working.leaves = 0;
  state.orders.delete(orderId);
}

/** Average-price accounting; `qty` signed. Realized P&L is booked on the closed part. */
function applyFill(account: AccountBook, book: SymbolBook, qty: number, price: number, fee: number): void {
  account.realizedToday -= fee;
  if (qty === 0) return;
  const pos = book.position;
  let next = pos + qty;
  if (Math.abs(next) < EPSILON) next = 0;
  if (pos === 0 || pos > 0 === qty > 0) {
    book.avgPrice = (book.avgPrice * Math.abs(pos) + price * Math.abs(qty)) / Math.abs(next);
  } else {
    const closed = Math.min(Math.abs(qty), Math.abs(pos));
    account.realizedToday += (price - book.avgPrice) * closed * Math.sign(pos);
    if (next === 0) book.avgPrice = 0;
    else if (next > 0 !== pos > 0) book.avgPrice = price;
  }
  book.position = next;
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
  }
}

/** Today's P&L restarts: positions carry into the new day at the mark. */
function onDayRoll(state: GateState, day: string): void {
  if (state.day === day) return;
  state.day = day;
  for (const account of state.accounts.values()) {
    account.realizedToday = 0;
    for (const [symbol, book] of account.symbols) {
      const mark = state.marks.get(symbol);
      if (book.position !== 0 && mark !== undefined) book.avgPrice = mark.mid;
    }
  }
  state.previousFills = state.fills;
  state.fills = new Map();
  state.previouslyDecided = state.decided;
  state.decided = new Set();
}
