// The shape of a decision: the RiskDecision record every verdict writes (verdict), its detail string,
// and the account halt a loss or drawdown breach publishes with it. Pure, used by decide.ts.
import type { Control, Order, Side, VenueCost, Verdict } from '../../schemas/types.ts';
import { drawdownBreach, isLossBreached, type DetailValue } from './checks.ts';
import { severity, type ControlConfig } from './config.ts';
import type { DecideInput, DecideResult, DecisionReason } from './decideTypes.ts';
import type { Drawdowns } from './drawdown.ts';
import type { Limits } from './limits.ts';

/** Drop nulls so a detail shows only what was compared or noted. */
export function stringify(detail: Record<string, DetailValue>): string {
  const kept: Record<string, DetailValue> = {};
  for (const key in detail) if (detail[key] !== null) kept[key] = detail[key];
  return JSON.stringify(kept);
}

/** A breach of the daily loss limit or of a drawdown limit moves the account to limits.lossBreachState. */
export function lossBreachControls(input: DecideInput, config: ControlConfig, limits: Limits, dayPnl: number, drawdown: Drawdowns): Control[] {
  const loss = isLossBreached(dayPnl, limits);
  const dd = loss ? null : drawdownBreach(drawdown, limits);
  if (!loss && dd === null) return [];
  const account = input.signal.account;
  const current = config.states.account.get(account) ?? 'ACTIVE';
  // Already there: re-publishing would be harmless (compacted, same value) but noisy.
  if (severity(current) >= severity(limits.lossBreachState)) return [];
  return [
    {
      controlId: `${input.decisionId}:loss-breach`,
      kind: 'TRADING_STATE',
      scope: 'ACCOUNT',
      target: account,
      state: limits.lossBreachState,
      payload: null,
      actor: 'risk-gate',
      reason: loss ? `DAILY_LOSS_LIMIT: pnl ${dayPnl} <= -${limits.dailyLossLimit}` : `MAX_DRAWDOWN: ${JSON.stringify(dd)}`,
      at: input.now,
      hlc: input.hlc,
    },
  ];
}

/**
 * `side` is the sized side even on a denial, so the log shows which way the signal would have traded;
 * `quantity` stays 0 unless an order exists (the RiskDecision schema's rule).
 */
export function verdict(
  input: DecideInput,
  outcome: Verdict,
  reason: DecisionReason | null,
  detail: string | null,
  positionBefore: number,
  side: Side | null,
  quantity: number,
  candidates: VenueCost[],
  order: Order | null,
  controls: Control[],
): DecideResult {
  const signal = input.signal;
  return {
    decision: {
      decisionId: input.decisionId,
      signalId: signal.signalId,
      account: signal.account,
      strategy: signal.strategy,
      symbol: signal.symbol,
      verdict: outcome,
      reason,
      detail,
      orderId: order === null ? null : order.orderId,
      venue: order === null ? null : order.venue,
      side,
      quantity,
      positionBefore,
      candidates,
      alertTime: signal.alertTime,
      signalHlc: signal.hlc,
      decidedAt: input.now,
      hlc: input.hlc,
    },
    order,
    controls,
    shadows: [],
    cancels: [],
  };
}
