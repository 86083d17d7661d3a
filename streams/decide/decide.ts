// One signal in, one decision out: size the intent, route it, run the risk checks, and on approval
// shape the order. Pure and read-only over state and config; the clock, the ids and the hlc come in
// with the input, so a replay decides exactly as the live run did.
import type { Order, Side, Signal, Verdict } from '../../schemas/types.ts';
import { roundToStep, route, shadowRoutes, type RouteRefusal, type RouteRequest, type RouteResult } from '../router/route.ts';
import { shadowTwins } from '../shadow/twin.ts';
import { reduces, runChecks, type CheckContext, type DetailValue, type ProposedOrder } from './checks.ts';
import type { ControlConfig } from './config.ts';
import { resolveLimits } from './limits.ts';
import { entrySide, sizeIntent } from './intent.ts';
import { drawdowns } from './drawdown.ts';
import { exitsForFill } from './brackets.ts';
import { exitsLeftBehind, strategyOrdersToCancel, type CancelTarget } from './cancelTargets.ts';
import { accountEquity, quantityFor } from './sizing.ts';
import { averageCost, equity, hasDecided, ordersInWindow, type GateEvent, type GateState } from './state.ts';
import { lossBreachControls, stringify, verdict } from './verdict.ts';
import type { DecideInput, DecideResult, DecisionReason } from './decideTypes.ts';

export type { CancelTarget } from './cancelTargets.ts';

export type { DecideInput, DecideResult, DecisionReason } from './decideTypes.ts';

import { clientOrderIdFor } from '../../schemas/clientOrderId.ts';

export { clientOrderIdFor };

/** The event that folds a decision back into the gate state. */
export function decidedEvent(input: DecideInput, result: DecideResult): GateEvent {
  return { kind: 'decided', decision: result.decision, order: result.order, alertTime: input.signal.alertTime };
}

export function decide(input: DecideInput, state: GateState, config: ControlConfig): DecideResult {
  const { signal, now } = input;
  const account = state.accounts.get(signal.account);
  const book = account?.symbols.get(signal.symbol);
  const positionBefore = book === undefined ? 0 : book.position + book.open;
  if (hasDecided(state, signal.signalId)) {
    return verdict(input, 'NO_ACTION', 'DUPLICATE_SIGNAL', null, positionBefore, null, 0, [], null, []);
  }
  const limits = resolveLimits(config, signal.account, signal.strategy, signal.symbol);

  // Today's P&L and the account's exposure in other symbols, both at the marks.
  let dayPnl = 0;
  let grossOthers = 0;
  if (account !== undefined) {
    for (const [symbol, held] of account.symbols) {
      const mark = state.marks.get(symbol);
      dayPnl += equity(held, mark) - held.startEquity;
      if (symbol !== signal.symbol) grossOthers += Math.abs((held.position + held.open) * (mark?.mid ?? averageCost(held)));
    }
  }
  const drawdown = drawdowns(account, state.day, limits.drawdownSince, state.marks);
  const controls = lossBreachControls(input, config, limits, dayPnl, drawdown);

  if (signal.intent === 'CANCEL') {
    const cancels = strategyOrdersToCancel(state, signal);
    const reason = cancels.length > 0 ? 'CANCEL_REQUESTED' : 'NOTHING_TO_CANCEL';
    const detail = stringify({ orders: cancels.length, orderIds: cancels.map((c) => c.orderId).join(',') });
    return { ...verdict(input, 'NO_ACTION', reason, detail, positionBefore, null, 0, [], null, controls), cancels };
  }
  const costModel = config.costModel;
  const mark = state.marks.get(signal.symbol);
  const freshMark = mark !== undefined && now - mark.at <= costModel.maxQuoteAgeMs ? mark.mid : null;

  // Money or risk becomes a quantity here, unrounded: the router rounds it down to the venue's lot.
  let quantity = signal.quantity;
  let sizedBy: Readonly<Record<string, number>> | null = null;
  const side = signal.sizing === null ? null : entrySide(signal, positionBefore);
  if (side !== null) {
    const sized = quantityFor({ signal, side, freshMark, equity: accountEquity(limits.accountCash, account, state.marks) });
    if (!sized.ok) return verdict(input, 'DENIED', sized.reason, stringify(sized.detail), positionBefore, side, 0, [], null, controls);
    quantity = sized.quantity;
    sizedBy = sized.detail;
  }

  const sizing = sizeIntent(signal, positionBefore, quantity);
  if (sizing.kind === 'none') {
    const detail = sizing.reason === 'AT_TARGET'
      ? stringify({ targetPosition: sizing.target, positionBefore, drift: sizing.drift })
      : stringify({ problem: sizing.problem });
    const outcome: Verdict = sizing.reason === 'AT_TARGET' ? 'NO_ACTION' : 'DENIED';
    const flat = verdict(input, outcome, sizing.reason, detail, positionBefore, null, 0, [], null, controls);
    if (outcome === 'NO_ACTION') flat.cancels = exitsLeftBehind(state, signal);
    return flat;
  }

  // The order's own price where it names one; else a recent alert close is better evidence of price than a stale mark.
  const ownPrice = signal.limitPrice ?? signal.stopPrice;
  const refPrice = ownPrice ?? freshMark ?? signal.price ?? mark?.mid ?? null;
  const assetClass = config.symbols.get(signal.symbol);
  let routed: RouteResult | null = null;
  let request: RouteRequest | null = null;
  if (assetClass !== undefined && refPrice !== null) {
    request = {
      symbol: signal.symbol,
      assetClass,
      side: sizing.side,
      quantity: sizing.quantity,
      orderType: signal.orderType,
      limitPrice: signal.limitPrice,
      refPrice,
      reducing: reduces(positionBefore, sizing.side, sizing.quantity),
      now,
    };
    routed = route(request, state, costModel, config.states.venue);
  }

  const proposed: ProposedOrder = routed !== null && routed.ok
    ? { side: sizing.side, quantity: routed.quantity, orderType: signal.orderType, limitPrice: routed.limitPrice }
    : { side: sizing.side, quantity: sizing.quantity, orderType: signal.orderType, limitPrice: signal.limitPrice };
  const arrivalMid = routed !== null && routed.ok ? routed.arrivalMid : null;
  const ctx: CheckContext = {
    signal,
    now,
    config,
    limits,
    positionBefore,
    price: proposed.limitPrice ?? signal.stopPrice ?? arrivalMid ?? refPrice,
    mid: arrivalMid ?? freshMark,
    grossOthers,
    dayPnl,
    ordersInWindow: ordersInWindow(account?.strategies.get(signal.strategy), now),
    lastAlertTime: account?.strategies.get(signal.strategy)?.lastAlertTime ?? null,
    drawdown,
    equity: accountEquity(limits.accountCash, account, state.marks),
  };
  const candidates = routed === null ? [] : routed.candidates;

  const denial = runChecks(proposed, ctx);
  if (denial !== null) {
    const detail = stringify({ quantity: proposed.quantity, ...denial.detail, targetPosition: sizing.target, drift: sizing.drift });
    return verdict(input, 'DENIED', denial.reason, detail, positionBefore, proposed.side, 0, candidates, null, controls);
  }
  if (routed === null || !routed.ok) {
    const reason: RouteRefusal = routed === null ? 'NO_VENUE' : routed.reason;
    const detail = stringify({ ...(routed === null ? { symbol: signal.symbol } : routed.detail), targetPosition: sizing.target });
    return verdict(input, 'DENIED', reason, detail, positionBefore, proposed.side, 0, candidates, null, controls);
  }

  const bracketed = signal.takeProfit !== null || signal.stopLoss !== null;
  if (bracketed) {
    const refusal = bracketRefusal(config, routed.venue, signal, positionBefore, proposed, ctx.price!); // routed: refPrice was known
    if (refusal !== null) return verdict(input, 'DENIED', refusal.reason, stringify(refusal.detail), positionBefore, proposed.side, 0, candidates, null, controls);
  }

  const order: Order = {
    orderId: input.orderId,
    clientOrderId: clientOrderIdFor(input.orderId),
    signalId: signal.signalId,
    decisionId: input.decisionId,
    account: signal.account,
    strategy: signal.strategy,
    symbol: signal.symbol,
    venue: routed.venue,
    side: proposed.side,
    quantity: proposed.quantity,
    orderType: signal.orderType,
    limitPrice: proposed.limitPrice,
    // A market order must not rest at a venue after the moment it was priced for.
    timeInForce: signal.timeInForce ?? (signal.orderType === 'MARKET' ? 'IOC' : 'DAY'),
    signalPrice: signal.price,
    arrivalMid,
    createdAt: now,
    hlc: input.hlc,
    stopPrice: stopPriceAt(config, routed.venue, signal.symbol, proposed.side, signal.stopPrice),
    trailAmount: signal.trailAmount,
    trailPercent: signal.trailPercent,
    // The exits are placed per fill by the brackets processor (streams/brackets), which reads them here.
    takeProfit: signal.takeProfit,
    stopLoss: signal.stopLoss,
    parentOrderId: null,
    exitRole: null,
    ocoGroup: null,
  };
  // The happy path carries a detail only when there is something to explain.
  const rounded = proposed.quantity !== sizing.quantity;
  const detail = sizing.drift !== null || routed.missingQuotes !== null || rounded || sizedBy !== null
    ? stringify({ drift: sizing.drift, missingQuotes: routed.missingQuotes?.join(',') ?? null, sizedQuantity: rounded ? sizing.quantity : null, ...sizedBy })
    : null;
  const result = verdict(input, 'APPROVED', null, detail, positionBefore, order.side, order.quantity, candidates, order, controls);
  result.cancels = exitsLeftBehind(state, signal);
  const liveCost = candidates.find((c) => c.venue === order.venue)?.costBps ?? null;
  // A shadow twin is filled at once against the quote (connectors/paper/shadow/simulate.ts): a stop would be
  // simulated as the market order it is not, so stops get no twin.
  const instant = order.orderType === 'MARKET' || order.orderType === 'LIMIT';
  result.shadows = instant ? shadowTwins(order, shadowRoutes(request!, state, costModel, config.states.venue), liveCost) : [];
  return result;
}

/**
 * A stop's trigger on the routed venue's tick, rounded away from the market (a buy stop up, a sell
 * stop down) so it never triggers before the price the sender asked for.
 */
function stopPriceAt(config: ControlConfig, venue: string, symbol: string, side: Side, stop: number | null): number | null {
  if (stop === null) return null;
  const tick = tickAt(config, venue, symbol);
  return tick === undefined || !(tick > 0) ? stop : roundToStep(stop, tick, side === 'BUY' ? 'up' : 'down');
}

const tickAt = (config: ControlConfig, venue: string, symbol: string): number | undefined =>
  config.costModel.ranked.find((r) => r.name === venue)?.model.instruments.get(symbol)?.tickSize;

/**
 * A bracket protects the position its entry opens or grows: on an entry that reduces the position its
 * exits would trade the other way, so it is refused. Fixed exit prices are checked against the entry's
 * price (its limit or stop, else the arrival mid) with the same planner that places them at fill time.
 */
function bracketRefusal(
  config: ControlConfig, venue: string, signal: Signal, positionBefore: number, proposed: ProposedOrder, entryPrice: number,
): { reason: DecisionReason; detail: Record<string, DetailValue> } | null {
  if (reduces(positionBefore, proposed.side, proposed.quantity)) return { reason: 'BRACKET_REDUCES', detail: { positionBefore, quantity: proposed.quantity } };
  const fill = { parentOrderId: '', executionId: '', entrySide: proposed.side, quantity: proposed.quantity, price: entryPrice };
  const legs = exitsForFill(fill, signal.takeProfit, signal.stopLoss, tickAt(config, venue, signal.symbol) ?? 0);
  if (!('problem' in legs)) return null;
  const exit = legs.problem === 'TAKE_PROFIT_WRONG_SIDE' ? signal.takeProfit : signal.stopLoss;
  return { reason: legs.problem, detail: { entryPrice, exitPrice: exit?.price ?? null, amount: exit?.amount ?? null } };
}
