// Risk limits: their zod schemas (desk defaults, per-scope overrides) and how the limits that apply to
// one order are resolved from the desk default and the account, strategy and symbol overrides.
// The control fold (controlFold.ts) validates LIMITS payloads with these schemas.
import { z } from 'zod';

const limitFields = {
  maxPosition: z.number().min(0),
  maxOrderQty: z.number().min(0),
  maxOrderNotional: z.number().min(0),
  maxGrossExposure: z.number().min(0),
  dailyLossLimit: z.number().positive(),
  lossBreachState: z.enum(['HALTED', 'REDUCING']),
  maxOrdersPerMinute: z.number().int().min(0),
  priceCollarBps: z.number().min(0),
  maxSignalAgeMs: z.number().int().positive(),
  maxPipelineDelayMs: z.number().int().positive(),
  accountCash: z.number().min(0),
  maxIntradayDrawdown: z.number().positive().nullable(),
  maxDrawdown: z.number().positive().nullable(),
  drawdownSince: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date YYYY-MM-DD' }).refine((d) => !Number.isNaN(Date.parse(d)), { error: 'not a date' }).nullable(),
  maxPositionPctEquity: z.number().gt(0).lte(100).nullable(),
};

/** LIMITS at DESK scope: the defaults every account, strategy and symbol starts from. */
export const deskLimitsSchema = z.strictObject({
  maxPosition: limitFields.maxPosition.default(1_000),
  maxOrderQty: limitFields.maxOrderQty.default(1_000),
  maxOrderNotional: limitFields.maxOrderNotional.default(250_000),
  maxGrossExposure: limitFields.maxGrossExposure.default(10_000_000),
  dailyLossLimit: limitFields.dailyLossLimit.default(50_000),
  lossBreachState: limitFields.lossBreachState.default('HALTED'),
  maxOrdersPerMinute: limitFields.maxOrdersPerMinute.default(60),
  priceCollarBps: limitFields.priceCollarBps.default(200),
  /** The alert's age when the edge received it (sender's time → edge's receipt). */
  maxSignalAgeMs: limitFields.maxSignalAgeMs.default(15_000),
  /** How long an accepted alert may wait inside the pipeline (edge's receipt → decision): restarts take seconds. */
  maxPipelineDelayMs: limitFields.maxPipelineDelayMs.default(60_000),
  /** The account's cash besides its positions: equity = accountCash + positions at the marks (percent_of_equity sizing). */
  accountCash: limitFields.accountCash.default(0),
  /** Equity may fall this much below today's peak (money; null: no limit). Breach as dailyLossLimit. */
  maxIntradayDrawdown: limitFields.maxIntradayDrawdown.default(null),
  /** Equity may fall this much below its peak since drawdownSince (money; null: no limit). */
  maxDrawdown: limitFields.maxDrawdown.default(null),
  /** UTC day the maxDrawdown peak is measured from (null: maxDrawdown is not checked). */
  drawdownSince: limitFields.drawdownSince.default(null),
  /** One position at most this percent of the account's equity (set per strategy; null: no limit). */
  maxPositionPctEquity: limitFields.maxPositionPctEquity.default(null),
});
/** LIMITS at ACCOUNT / STRATEGY / SYMBOL scope: any subset of the desk fields. */
export const limitOverridesSchema = z.strictObject(limitFields).partial();

export type Limits = z.output<typeof deskLimitsSchema>;
export type LimitOverrides = z.output<typeof limitOverridesSchema>;
export type BreachState = Limits['lossBreachState'];

/** The desk's limits and the overrides per account, strategy and symbol (ControlConfig's `limits`). */
export interface LimitTiers {
  readonly desk: Limits;
  readonly account: ReadonlyMap<string, LimitOverrides>;
  readonly strategy: ReadonlyMap<string, LimitOverrides>;
  readonly symbol: ReadonlyMap<string, LimitOverrides>;
}

/**
 * Per field: an account, strategy or symbol override replaces the desk default; where several
 * apply, the tightest wins. Tightest-wins is what keeps units honest: a BTCUSD maxPosition of 10
 * must not be loosened by an account override written with share counts in mind.
 */
export function resolveLimits(config: { readonly limits: LimitTiers }, account: string, strategy: string, symbol: string): Limits {
  const desk = config.limits.desk;
  const a = config.limits.account.get(account);
  const s = config.limits.strategy.get(strategy);
  const y = config.limits.symbol.get(symbol);
  if (a === undefined && s === undefined && y === undefined) return desk;
  return {
    maxPosition: tightest(a?.maxPosition, s?.maxPosition, y?.maxPosition, desk.maxPosition),
    maxOrderQty: tightest(a?.maxOrderQty, s?.maxOrderQty, y?.maxOrderQty, desk.maxOrderQty),
    maxOrderNotional: tightest(a?.maxOrderNotional, s?.maxOrderNotional, y?.maxOrderNotional, desk.maxOrderNotional),
    maxGrossExposure: tightest(a?.maxGrossExposure, s?.maxGrossExposure, y?.maxGrossExposure, desk.maxGrossExposure),
    dailyLossLimit: tightest(a?.dailyLossLimit, s?.dailyLossLimit, y?.dailyLossLimit, desk.dailyLossLimit),
    lossBreachState: strictest(a?.lossBreachState, s?.lossBreachState, y?.lossBreachState, desk.lossBreachState),
    maxOrdersPerMinute: tightest(a?.maxOrdersPerMinute, s?.maxOrdersPerMinute, y?.maxOrdersPerMinute, desk.maxOrdersPerMinute),
    priceCollarBps: tightest(a?.priceCollarBps, s?.priceCollarBps, y?.priceCollarBps, desk.priceCollarBps),
    maxSignalAgeMs: tightest(a?.maxSignalAgeMs, s?.maxSignalAgeMs, y?.maxSignalAgeMs, desk.maxSignalAgeMs),
    maxPipelineDelayMs: tightest(a?.maxPipelineDelayMs, s?.maxPipelineDelayMs, y?.maxPipelineDelayMs, desk.maxPipelineDelayMs),
    accountCash: tightest(a?.accountCash, s?.accountCash, y?.accountCash, desk.accountCash),
    maxIntradayDrawdown: tightestOrOff(desk.maxIntradayDrawdown, a?.maxIntradayDrawdown, s?.maxIntradayDrawdown, y?.maxIntradayDrawdown),
    maxDrawdown: tightestOrOff(desk.maxDrawdown, a?.maxDrawdown, s?.maxDrawdown, y?.maxDrawdown),
    // The earliest date is the strictest: its peak is over more days.
    drawdownSince: tightestOrOff(desk.drawdownSince, a?.drawdownSince, s?.drawdownSince, y?.drawdownSince),
    maxPositionPctEquity: tightestOrOff(desk.maxPositionPctEquity, a?.maxPositionPctEquity, s?.maxPositionPctEquity, y?.maxPositionPctEquity),
  };
}

function tightest(a: number | undefined, b: number | undefined, c: number | undefined, fallback: number): number {
  let v = a;
  if (b !== undefined && (v === undefined || b < v)) v = b;
  if (c !== undefined && (v === undefined || c < v)) v = c;
  return v ?? fallback;
}

/**
 * For a limit that may be off (null): an override replaces the desk's value, as for every limit (an
 * override of null turns it off for that scope, as a very large number would); of several overrides the
 * smallest set one wins, so a null never loosens what another scope sets.
 */
function tightestOrOff<T extends number | string>(desk: T | null, ...overrides: (T | null | undefined)[]): T | null {
  let v: T | null = null;
  let overridden = false;
  for (const o of overrides) {
    if (o === undefined) continue;
    overridden = true;
    if (o !== null && (v === null || o < v)) v = o;
  }
  return overridden ? v : desk;
}

function strictest(a: BreachState | undefined, b: BreachState | undefined, c: BreachState | undefined, fallback: BreachState): BreachState {
  if (a === undefined && b === undefined && c === undefined) return fallback;
  return a === 'HALTED' || b === 'HALTED' || c === 'HALTED' ? 'HALTED' : 'REDUCING';
}
