// The fold helpers the risk gate's evolve parts share (evolveOrders.ts, evolveFills.ts): the UTC day,
// the de-duplication of decisions, an account's book, early news about orders whose decision has not
// arrived yet, closing a working order, and the forward-only day roll. They MUTATE the state given,
// as evolveGate does (see state.ts for why).
import type { Side } from '../../schemas/types.ts';
import { newAccountBook, startDay, symbolBook, type AccountBook } from './books.ts';
import { notePeak } from './drawdown.ts';
import type { EarlyNews, GateState, OpenOrder } from './gateTypes.ts';

export const RATE_WINDOW_MS = 60_000;
export const EPSILON = 1e-9;

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

export function accountBook(state: GateState, account: string): AccountBook {
  let book = state.accounts.get(account);
  if (book === undefined) {
    book = newAccountBook();
    state.accounts.set(account, book);
  }
  return book;
}

export const signed = (side: Side, qty: number): number => (side === 'BUY' ? qty : -qty);

export function earlyNews(state: GateState, orderId: string): EarlyNews {
  let news = state.early.get(orderId) ?? state.previousEarly.get(orderId);
  if (news === undefined) {
    news = { filled: 0, closed: false, arrivalMid: null };
    state.early.set(orderId, news);
  }
  return news;
}

export function takeEarlyNews(state: GateState, orderId: string): EarlyNews | undefined {
  const news = state.early.get(orderId) ?? state.previousEarly.get(orderId);
  if (news !== undefined) {
    state.early.delete(orderId);
    state.previousEarly.delete(orderId);
  }
  return news;
}

export function closeOrder(state: GateState, orderId: string, working: OpenOrder): void {
  const account = state.accounts.get(working.account);
  if (account !== undefined && working.exit !== true) symbolBook(account, working.symbol).open -= signed(working.side, working.leaves);
  working.leaves = 0;
  state.orders.delete(orderId);
}

/** Forward only. Today's P&L restarts from the equity at the current marks; positions carry over. */
export function rollTo(state: GateState, day: string): void {
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
