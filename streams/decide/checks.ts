// Risk checks: each a small pure function over the proposed order and a read-only context, returning
// a denial with a stable reason code and the values it compared, or null. They run in the fixed
// order of CHECKS and the first denial wins. To add a check: write checkX, add its code to
// GateReason, place it in CHECKS, and give it a boundary test in test/unit/riskChecks.test.ts.
import type { OrderType, Scope, Side, Signal, TradingState } from '../../schemas/types.ts';
import { severity, type ControlConfig } from './config.ts';
import type { Limits } from './limits.ts';
import type { Drawdowns } from './drawdown.ts';

export type GateReason =
  | 'TRADING_HALTED'
  | 'TRADING_REDUCING'
  | 'UNKNOWN_SYMBOL'
  | 'STALE_SIGNAL'
  | 'OUT_OF_ORDER_SIGNAL'
  | 'MAX_ORDER_QTY'
  | 'MAX_ORDER_NOTIONAL'
  /** No price to value the order, or no fresh mid to collar a limit order: fail closed. */
  | 'NO_PRICE'
  | 'MAX_POSITION'
  | 'MAX_GROSS_EXPOSURE'
  | 'DAILY_LOSS_LIMIT'
  | 'ORDER_RATE'
  | 'PRICE_COLLAR'
  /** Equity fell more than maxIntradayDrawdown below today's peak, or maxDrawdown below its peak since drawdownSince. */
  | 'MAX_DRAWDOWN'
  /** The position after the order would be worth more than maxPositionPctEquity of the account's equity. */
  | 'MAX_POSITION_PCT_EQUITY';

export type DetailValue = string | number | boolean | null;

export interface Denial {
  readonly reason: GateReason;
  readonly detail: Readonly<Record<string, DetailValue>>;
}

/** The order as the router shaped it (rounded to lot and tick), or as sized when it could not route. */
export interface ProposedOrder {
  readonly side: Side;
  readonly quantity: number;
  readonly orderType: OrderType;
  readonly limitPrice: number | null;
}

export interface CheckContext {
  readonly signal: Signal;
  readonly now: number;
  readonly config: ControlConfig;
  readonly limits: Limits;
  /** Position + signed open orders in this symbol, before the order. */
  readonly positionBefore: number;
  /** Price that values the order: limit, else the routed venue's mid, else the mark or signal price. */
  readonly price: number | null;
  /** A fresh mid for the price collar: the routed venue's, else the mark if fresh. */
  readonly mid: number | null;
  /** Σ |(position + open) × mark| over the account's other symbols. */
  readonly grossOthers: number;
  /** Realized today + unrealized at the marks. */
  readonly dayPnl: number;
  /** Approved orders of this strategy in the last minute. */
  readonly ordersInWindow: number;
  readonly lastAlertTime: number | null;
  /** Below today's peak, and below the peak since limits.drawdownSince. */
  readonly drawdown: Drawdowns;
  /** The account's equity: limits.accountCash + every symbol's cash flow and position at the marks. */
  readonly equity: number;
}

export type Check = (order: ProposedOrder, ctx: CheckContext) => Denial | null;

/** Just at the limit passes; float noise (0.1 × 3) must not turn "at" into "over". */
function exceeds(value: number, limit: number): boolean {
  return value > limit + 1e-9 * Math.max(1, Math.abs(limit));
}

const signedQty = (order: ProposedOrder): number => (order.side === 'BUY' ? order.quantity : -order.quantity);

/** True when the order brings |position| toward zero without crossing it. */
export function reduces(positionBefore: number, side: Side, quantity: number): boolean {
  if (positionBefore === 0 || (side === 'SELL') !== positionBefore > 0) return false;
  return !exceeds(quantity, Math.abs(positionBefore));
}

export function checkTradingState(order: ProposedOrder, ctx: CheckContext): Denial | null {
  const states = ctx.config.states;
  const { account, strategy, symbol } = ctx.signal;
  let worst: TradingState = states.desk;
  let scope: Scope = 'DESK';
  let target = '*';
  const byAccount = states.account.get(account);
  if (byAccount !== undefined && severity(byAccount) > severity(worst)) { worst = byAccount; scope = 'ACCOUNT'; target = account; }
  const byStrategy = states.strategy.get(strategy);
  if (byStrategy !== undefined && severity(byStrategy) > severity(worst)) { worst = byStrategy; scope = 'STRATEGY'; target = strategy; }
  const bySymbol = states.symbol.get(symbol);
  if (bySymbol !== undefined && severity(bySymbol) > severity(worst)) { worst = bySymbol; scope = 'SYMBOL'; target = symbol; }
  if (worst === 'ACTIVE') return null;
  if (worst === 'REDUCING' && reduces(ctx.positionBefore, order.side, order.quantity)) return null;
  return {
    reason: worst === 'HALTED' ? 'TRADING_HALTED' : 'TRADING_REDUCING',
    detail: { scope, target, state: worst, positionBefore: ctx.positionBefore, side: order.side, quantity: order.quantity },
  };
}

export function checkUnknownSymbol(_order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (ctx.config.symbols.has(ctx.signal.symbol)) return null;
  return { reason: 'UNKNOWN_SYMBOL', detail: { symbol: ctx.signal.symbol } };
}

/**
 * Two ages, each against its own limit, because they have different causes:
 * - at receipt, the edge's receipt time minus the sender's alert time (`maxSignalAgeMs`): the alert was
 *   already old when it reached us (a slow sender, TradingView's queue, a skewed clock). Unknown, and
 *   not checked, when the alert carries no time.
 * - in the pipeline, now minus the edge's receipt time (`maxPipelineDelayMs`): how long an alert the
 *   edge accepted then waited inside the pipeline (a processor restarting, a backlog). A restart of a
 *   few seconds must not deny what the edge answered 202 to; an outage of minutes must not trade late.
 * Adding the two, as this check once did, denied alerts that were fresh at receipt merely because a
 * processor was restarting (754 of 1,000 in a run with five kills).
 */
export function checkStaleSignal(_order: ProposedOrder, ctx: CheckContext): Denial | null {
  const { alertTime, receivedAt } = ctx.signal;
  if (alertTime !== null && exceeds(receivedAt - alertTime, ctx.limits.maxSignalAgeMs)) {
    return { reason: 'STALE_SIGNAL', detail: { measured: 'atReceipt', alertTime, receivedAt, ageMs: receivedAt - alertTime, maxSignalAgeMs: ctx.limits.maxSignalAgeMs } };
  }
  if (exceeds(ctx.now - receivedAt, ctx.limits.maxPipelineDelayMs)) {
    return { reason: 'STALE_SIGNAL', detail: { measured: 'inPipeline', receivedAt, now: ctx.now, delayMs: ctx.now - receivedAt, maxPipelineDelayMs: ctx.limits.maxPipelineDelayMs } };
  }
  return null;
}

export function checkOutOfOrder(_order: ProposedOrder, ctx: CheckContext): Denial | null {
  const alertTime = ctx.signal.alertTime;
  if (alertTime === null || ctx.lastAlertTime === null || alertTime >= ctx.lastAlertTime) return null;
  return { reason: 'OUT_OF_ORDER_SIGNAL', detail: { alertTime, lastAlertTime: ctx.lastAlertTime } };
}

export function checkMaxOrderQty(order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (!exceeds(order.quantity, ctx.limits.maxOrderQty)) return null;
  return { reason: 'MAX_ORDER_QTY', detail: { quantity: order.quantity, maxOrderQty: ctx.limits.maxOrderQty } };
}

export function checkMaxOrderNotional(order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (ctx.price === null) return { reason: 'NO_PRICE', detail: { symbol: ctx.signal.symbol, purpose: 'notional' } };
  const notional = order.quantity * ctx.price;
  if (!exceeds(notional, ctx.limits.maxOrderNotional)) return null;
  return {
    reason: 'MAX_ORDER_NOTIONAL',
    detail: { quantity: order.quantity, price: ctx.price, notional, maxOrderNotional: ctx.limits.maxOrderNotional },
  };
}

/** An order that leaves |position| no larger is always allowed: a lowered limit must not trap a position. */
export function checkMaxPosition(order: ProposedOrder, ctx: CheckContext): Denial | null {
  const before = ctx.positionBefore;
  const after = before + signedQty(order);
  if (!exceeds(Math.abs(after), ctx.limits.maxPosition) || Math.abs(after) <= Math.abs(before)) return null;
  return { reason: 'MAX_POSITION', detail: { positionBefore: before, positionAfter: after, maxPosition: ctx.limits.maxPosition } };
}

export function checkMaxGrossExposure(order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (ctx.price === null) return null; // already denied NO_PRICE by the notional check
  const before = ctx.grossOthers + Math.abs(ctx.positionBefore * ctx.price);
  const after = ctx.grossOthers + Math.abs((ctx.positionBefore + signedQty(order)) * ctx.price);
  if (!exceeds(after, ctx.limits.maxGrossExposure) || after <= before) return null;
  return { reason: 'MAX_GROSS_EXPOSURE', detail: { grossBefore: before, grossAfter: after, maxGrossExposure: ctx.limits.maxGrossExposure } };
}

/** Breach when today's P&L is at or below −dailyLossLimit; REDUCING still lets a position shrink. */
export function isLossBreached(dayPnl: number, limits: Limits): boolean {
  return !exceeds(dayPnl, -limits.dailyLossLimit);
}

export function checkDailyLoss(order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (!isLossBreached(ctx.dayPnl, ctx.limits)) return null;
  if (ctx.limits.lossBreachState === 'REDUCING' && reduces(ctx.positionBefore, order.side, order.quantity)) return null;
  return {
    reason: 'DAILY_LOSS_LIMIT',
    detail: { pnl: ctx.dayPnl, dailyLossLimit: ctx.limits.dailyLossLimit, lossBreachState: ctx.limits.lossBreachState },
  };
}

/** Breach on either drawdown; which one is named. The same breach behaviour as the daily loss limit. */
export function drawdownBreach(drawdown: Drawdowns, limits: Limits): Record<string, DetailValue> | null {
  if (limits.maxIntradayDrawdown !== null && !exceeds(limits.maxIntradayDrawdown, drawdown.intraday)) {
    return { measured: 'intraday', drawdown: drawdown.intraday, maxIntradayDrawdown: limits.maxIntradayDrawdown };
  }
  if (limits.maxDrawdown !== null && drawdown.sinceDate !== null && limits.drawdownSince !== null && !exceeds(limits.maxDrawdown, drawdown.sinceDate)) {
    return { measured: 'sinceDate', drawdown: drawdown.sinceDate, maxDrawdown: limits.maxDrawdown, drawdownSince: limits.drawdownSince };
  }
  return null;
}

export function checkDrawdown(order: ProposedOrder, ctx: CheckContext): Denial | null {
  const breach = drawdownBreach(ctx.drawdown, ctx.limits);
  if (breach === null) return null;
  if (ctx.limits.lossBreachState === 'REDUCING' && reduces(ctx.positionBefore, order.side, order.quantity)) return null;
  return { reason: 'MAX_DRAWDOWN', detail: { ...breach, lossBreachState: ctx.limits.lossBreachState } };
}

/** Like MAX_POSITION, an order that leaves |position| no larger is always allowed. */
export function checkPositionPctEquity(order: ProposedOrder, ctx: CheckContext): Denial | null {
  const pct = ctx.limits.maxPositionPctEquity;
  if (pct === null) return null;
  if (ctx.price === null) return null; // already denied NO_PRICE by the notional check
  const before = ctx.positionBefore;
  const after = before + signedQty(order);
  if (Math.abs(after) <= Math.abs(before)) return null;
  const value = Math.abs(after * ctx.price);
  const cap = (Math.max(0, ctx.equity) * pct) / 100;
  if (!exceeds(value, cap)) return null;
  return { reason: 'MAX_POSITION_PCT_EQUITY', detail: { positionAfter: after, price: ctx.price, value, equity: ctx.equity, maxPositionPctEquity: pct } };
}

export function checkOrderRate(_order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (ctx.ordersInWindow + 1 <= ctx.limits.maxOrdersPerMinute) return null;
  return { reason: 'ORDER_RATE', detail: { ordersLastMinute: ctx.ordersInWindow, maxOrdersPerMinute: ctx.limits.maxOrdersPerMinute } };
}

export function checkPriceCollar(order: ProposedOrder, ctx: CheckContext): Denial | null {
  if (order.orderType !== 'LIMIT' || order.limitPrice === null) return null;
  if (ctx.mid === null) return { reason: 'NO_PRICE', detail: { symbol: ctx.signal.symbol, purpose: 'collar' } };
  const deviationBps = (Math.abs(order.limitPrice - ctx.mid) / ctx.mid) * 1e4;
  if (!exceeds(deviationBps, ctx.limits.priceCollarBps)) return null;
  return {
    reason: 'PRICE_COLLAR',
    detail: { limitPrice: order.limitPrice, mid: ctx.mid, deviationBps, priceCollarBps: ctx.limits.priceCollarBps },
  };
}

export const CHECKS: readonly Check[] = [
  checkTradingState,
  checkUnknownSymbol,
  checkStaleSignal,
  checkOutOfOrder,
  checkMaxOrderQty,
  checkMaxOrderNotional,
  checkMaxPosition,
  checkPositionPctEquity,
  checkMaxGrossExposure,
  checkDailyLoss,
  checkDrawdown,
  checkOrderRate,
  checkPriceCollar,
];

export function runChecks(order: ProposedOrder, ctx: CheckContext): Denial | null {
  for (let i = 0; i < CHECKS.length; i++) {
    const denial = CHECKS[i](order, ctx);
    if (denial !== null) return denial;
  }
  return null;
}
