// How the risk gate's state follows decisions and orders: an approved decision opens a working order
// (minus whatever fills overtook it) and counts towards the strategy's order rate; an order read back
// adds its arrival mid, or opens a bracket exit. Called by evolveGate (state.ts); MUTATES the state.
import type { Order, RiskDecision } from '../../schemas/types.ts';
import { symbolBook } from './books.ts';
import { EPSILON, RATE_WINDOW_MS, accountBook, earlyNews, hasDecided, rollTo, signed, takeEarlyNews, utcDay } from './gateFold.ts';
import type { GateState } from './gateTypes.ts';

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

export function onDecided(state: GateState, decision: RiskDecision, order: Order | null, alertTime: number | null): void {
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

export function onOrder(state: GateState, order: Order): void {
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
