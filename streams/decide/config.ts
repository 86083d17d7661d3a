// The control plane as plain data, and how `control` records fold into it.
//
// Compaction shapes the semantics: the topic keeps only the latest record per kind|scope|target, so
// a record REPLACES what its key held (missing fields take the schema defaults, never the previous
// record's values) and `payload: null` / `state: null` removes the override. Replaying a compacted
// topic therefore gives the same config as replaying the full history.
import { z } from 'zod';
import type { Control, Scope, TradingState } from '../../schemas/types.ts';
import { RouterError } from '../../schemas/errors.ts';
import {
  DEFAULT_COST_MODEL_DESK,
  buildCostModel,
  costModelDeskSchema,
  symbolModelSchema,
  toVenueModel,
  venueModelSchema,
  type AssetClass,
  type CostModel,
  type CostModelDesk,
  type VenueModel,
} from '../router/costModel.ts';

export type { AssetClass, CostModel } from '../router/costModel.ts';

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

export interface ScopedStates {
  readonly desk: TradingState;
  readonly account: ReadonlyMap<string, TradingState>;
  readonly strategy: ReadonlyMap<string, TradingState>;
  readonly venue: ReadonlyMap<string, TradingState>;
  readonly symbol: ReadonlyMap<string, TradingState>;
}

export interface ControlConfig {
  readonly states: ScopedStates;
  readonly limits: {
    readonly desk: Limits;
    readonly account: ReadonlyMap<string, LimitOverrides>;
    readonly strategy: ReadonlyMap<string, LimitOverrides>;
    readonly symbol: ReadonlyMap<string, LimitOverrides>;
  };
  /** Canonical symbol → asset class; a symbol missing here is UNKNOWN_SYMBOL. */
  readonly symbols: ReadonlyMap<string, AssetClass>;
  readonly costModel: CostModel;
}

const SEVERITY: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
export function severity(state: TradingState): number {
  return SEVERITY[state];
}

/**
 * Per field: an account, strategy or symbol override replaces the desk default; where several
 * apply, the tightest wins. Tightest-wins is what keeps units honest: a BTCUSD maxPosition of 10
 * must not be loosened by an account override written with share counts in mind.
 */
export function resolveLimits(config: ControlConfig, account: string, strategy: string, symbol: string): Limits {
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

/** A validated control, ready to fold. */
type Change =
  | { kind: 'deskState'; state: TradingState }
  | { kind: 'state'; scope: 'account' | 'strategy' | 'venue' | 'symbol'; target: string; state: TradingState | null }
  | { kind: 'deskLimits'; limits: Limits }
  | { kind: 'limitOverride'; scope: 'account' | 'strategy' | 'symbol'; target: string; overrides: LimitOverrides | null }
  | { kind: 'deskCost'; desk: CostModelDesk }
  | { kind: 'venueCost'; venue: string; model: VenueModel | null }
  | { kind: 'symbolClass'; symbol: string; assetClass: AssetClass | null };

export interface ControlIssue {
  /** The refused field, e.g. `payload.maxPosition`, `scope`, `target`. */
  readonly field: string;
  readonly message: string;
}

type Interpretation = { ok: true; change: Change } | { ok: false; issue: ControlIssue };

/** A control the fold refuses; the shell dead-letters it (not retriable: the payload will not improve). */
export class InvalidControlError extends RouterError {
  readonly controlId: string;
  readonly field: string;
  constructor(controlId: string, field: string, message: string) {
    super('INVALID_CONTROL', `control ${controlId}: ${field}: ${message}`, { retriable: false, context: { field } });
    this.controlId = controlId;
    this.field = field;
    this.name = 'InvalidControlError';
  }
}

/** For the ops API: refuse a bad control with a 400 before it ever reaches the topic. */
export function validateControl(control: Control): ControlIssue | null {
  const result = interpret(control);
  return result.ok ? null : result.issue;
}

/** Pure: returns a new config and never mutates the one given. Throws InvalidControlError. */
export function applyControl(config: ControlConfig, control: Control): ControlConfig {
  const result = interpret(control);
  if (!result.ok) throw new InvalidControlError(control.controlId, result.issue.field, result.issue.message);
  return applyChange(config, result.change);
}

function fail(field: string, message: string): Interpretation {
  return { ok: false, issue: { field, message } };
}

function parsePayload<T>(schema: z.ZodType<T>, payload: string): { ok: true; value: T } | { ok: false; issue: ControlIssue } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, issue: { field: 'payload', message: 'not valid JSON' } };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const first = parsed.error.issues[0];
  const path = first.path.map(String).join('.');
  const keys = first.code === 'unrecognized_keys' ? first.keys.join(',') : '';
  const field = ['payload', path, keys].filter((part) => part !== '').join('.');
  return { ok: false, issue: { field, message: first.message } };
}

const SCOPE_KEY = { ACCOUNT: 'account', STRATEGY: 'strategy', VENUE: 'venue', SYMBOL: 'symbol' } as const;

function interpret(control: Control): Interpretation {
  const { scope, target } = control;
  if (scope === 'DESK' ? target !== '*' : target === '' || target === '*') {
    return fail('target', scope === 'DESK' ? "DESK scope takes target '*'" : `${scope} scope needs a named target`);
  }
  switch (control.kind) {
    case 'TRADING_STATE':
      if (scope === 'DESK') return { ok: true, change: { kind: 'deskState', state: control.state ?? 'ACTIVE' } };
      return { ok: true, change: { kind: 'state', scope: SCOPE_KEY[scope], target, state: control.state } };
    case 'LIMITS': {
      if (scope === 'VENUE') return fail('scope', 'LIMITS apply to DESK, ACCOUNT, STRATEGY or SYMBOL');
      if (scope === 'DESK') {
        const parsed = parsePayload(deskLimitsSchema, control.payload ?? '{}');
        return parsed.ok ? { ok: true, change: { kind: 'deskLimits', limits: parsed.value } } : parsed;
      }
      if (control.payload === null) {
        return { ok: true, change: { kind: 'limitOverride', scope: SCOPE_KEY[scope], target, overrides: null } };
      }
      const parsed = parsePayload(limitOverridesSchema, control.payload);
      if (!parsed.ok) return parsed;
      return { ok: true, change: { kind: 'limitOverride', scope: SCOPE_KEY[scope], target, overrides: parsed.value } };
    }
    case 'COST_MODEL':
      return interpretCostModel(scope, target, control.payload);
    default: {
      const unknownKind: never = control.kind;
      return fail('kind', `unknown control kind ${String(unknownKind)}`);
    }
  }
}

function interpretCostModel(scope: Scope, target: string, payload: string | null): Interpretation {
  switch (scope) {
    case 'DESK': {
      const parsed = parsePayload(costModelDeskSchema, payload ?? '{}');
      return parsed.ok ? { ok: true, change: { kind: 'deskCost', desk: parsed.value } } : parsed;
    }
    case 'VENUE': {
      if (payload === null) return { ok: true, change: { kind: 'venueCost', venue: target, model: null } };
      const parsed = parsePayload(venueModelSchema, payload);
      return parsed.ok ? { ok: true, change: { kind: 'venueCost', venue: target, model: toVenueModel(parsed.value) } } : parsed;
    }
    case 'SYMBOL': {
      if (payload === null) return { ok: true, change: { kind: 'symbolClass', symbol: target, assetClass: null } };
      const parsed = parsePayload(symbolModelSchema, payload);
      return parsed.ok ? { ok: true, change: { kind: 'symbolClass', symbol: target, assetClass: parsed.value.assetClass } } : parsed;
    }
    case 'ACCOUNT':
    case 'STRATEGY':
      return fail('scope', 'COST_MODEL applies to DESK, VENUE or SYMBOL');
    default: {
      const unknownScope: never = scope;
      return fail('scope', `unknown scope ${String(unknownScope)}`);
    }
  }
}

function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V | null): Map<string, V> {
  const next = new Map(map);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

function applyChange(config: ControlConfig, change: Change): ControlConfig {
  switch (change.kind) {
    case 'deskState':
      return { ...config, states: { ...config.states, desk: change.state } };
    case 'state':
      return { ...config, states: { ...config.states, [change.scope]: withEntry(config.states[change.scope], change.target, change.state) } };
    case 'deskLimits':
      return { ...config, limits: { ...config.limits, desk: change.limits } };
    case 'limitOverride':
      return {
        ...config,
        limits: { ...config.limits, [change.scope]: withEntry(config.limits[change.scope], change.target, change.overrides) },
      };
    case 'deskCost':
      return { ...config, costModel: buildCostModel(change.desk, config.costModel.venues) };
    case 'venueCost':
      return { ...config, costModel: buildCostModel(config.costModel, withEntry(config.costModel.venues, change.venue, change.model)) };
    case 'symbolClass':
      return { ...config, symbols: withEntry(config.symbols, change.symbol, change.assetClass) };
    default: {
      const unknownChange: never = change;
      return unknownChange;
    }
  }
}

/** Nothing tradable: no symbols, no venues, desk limits from the schema defaults. */
export function emptyControlConfig(): ControlConfig {
  return {
    states: { desk: 'ACTIVE', account: new Map(), strategy: new Map(), venue: new Map(), symbol: new Map() },
    limits: { desk: deskLimitsSchema.parse({}), account: new Map(), strategy: new Map(), symbol: new Map() },
    symbols: new Map(),
    costModel: buildCostModel(DEFAULT_COST_MODEL_DESK, new Map()),
  };
}

const DEFAULT_SYMBOLS: Record<string, AssetClass> = { AAPL: 'equity', MSFT: 'equity', BTCUSD: 'crypto', ETHUSD: 'crypto', EURUSD: 'fx' };

// Quantity limits are in each instrument's own unit (shares, coins, euros), hence per symbol.
const DEFAULT_SYMBOL_LIMITS: Record<string, z.input<typeof limitOverridesSchema>> = {
  AAPL: { maxPosition: 10_000, maxOrderQty: 5_000 },
  MSFT: { maxPosition: 10_000, maxOrderQty: 5_000 },
  BTCUSD: { maxPosition: 10, maxOrderQty: 5 },
  ETHUSD: { maxPosition: 200, maxOrderQty: 100 },
  EURUSD: { maxPosition: 5_000_000, maxOrderQty: 2_000_000, maxOrderNotional: 2_500_000, priceCollarBps: 50 },
};

const equityListing = (symbol: string) => ({ venueSymbol: symbol, lotSize: 1, tickSize: 0.01, minNotional: 1 });
const DEFAULT_VENUES: Record<string, z.input<typeof venueModelSchema>> = {
  paper: {
    enabled: true,
    fees: { equity: { perUnit: 0.005, minimum: 1 }, crypto: { bps: 10 }, fx: { bps: 0.5 } },
    instruments: {
      AAPL: equityListing('AAPL'),
      MSFT: equityListing('MSFT'),
      BTCUSD: { venueSymbol: 'BTCUSD', lotSize: 0.0001, tickSize: 0.01, minNotional: 10 },
      ETHUSD: { venueSymbol: 'ETHUSD', lotSize: 0.001, tickSize: 0.01, minNotional: 10 },
      EURUSD: { venueSymbol: 'EURUSD', lotSize: 1_000, tickSize: 0.00001, minNotional: 1_000 },
    },
  },
  alpaca: { fees: { equity: {} }, instruments: { AAPL: equityListing('AAPL'), MSFT: equityListing('MSFT') } },
  binance: {
    fees: { crypto: { bps: 10 } },
    instruments: {
      BTCUSD: { venueSymbol: 'BTCUSDT', lotSize: 0.00001, tickSize: 0.01, minNotional: 5 },
      ETHUSD: { venueSymbol: 'ETHUSDT', lotSize: 0.0001, tickSize: 0.01, minNotional: 5 },
    },
  },
  ibkr: {
    fees: { equity: { perUnit: 0.005, minimum: 1 }, fx: { bps: 0.2, minimum: 2 } },
    instruments: {
      AAPL: equityListing('AAPL'),
      MSFT: equityListing('MSFT'),
      EURUSD: { venueSymbol: 'EUR.USD', lotSize: 1, tickSize: 0.00005, minNotional: 25_000 },
    },
  },
  mt5: {
    fees: { fx: { bps: 0.3 } },
    instruments: { EURUSD: { venueSymbol: 'EURUSD', lotSize: 1_000, tickSize: 0.00001, minNotional: 1_000 } },
  },
};

/**
 * The desk setup the demo and tests start from: five venues listed, only `paper` enabled (the others
 * need credentials and a deliberate COST_MODEL control), per-symbol limits in each instrument's own
 * units. Built through the same schemas as live controls, so a default is always something a control
 * could say.
 */
export function defaultControlConfig(): ControlConfig {
  let config = emptyControlConfig();
  for (const [symbol, assetClass] of Object.entries(DEFAULT_SYMBOLS)) {
    config = applyChange(config, { kind: 'symbolClass', symbol, assetClass: symbolModelSchema.parse({ assetClass }).assetClass });
  }
  for (const [symbol, overrides] of Object.entries(DEFAULT_SYMBOL_LIMITS)) {
    config = applyChange(config, { kind: 'limitOverride', scope: 'symbol', target: symbol, overrides: limitOverridesSchema.parse(overrides) });
  }
  const venues = new Map<string, VenueModel>();
  for (const [venue, doc] of Object.entries(DEFAULT_VENUES)) venues.set(venue, toVenueModel(venueModelSchema.parse(doc)));
  const desk = costModelDeskSchema.parse({ venuePreference: ['paper', 'ibkr', 'alpaca', 'binance', 'mt5'] });
  return { ...config, costModel: buildCostModel(desk, venues) };
}
