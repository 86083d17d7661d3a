// How `control` records fold into the control plane (config.ts), and the desk setup the demo and
// tests start from.
//
// Compaction shapes the semantics: the topic keeps only the latest record per kind|scope|target, so
// a record REPLACES what its key held (missing fields take the schema defaults, never the previous
// record's values) and `payload: null` / `state: null` removes the override. Replaying a compacted
// topic therefore gives the same config as replaying the full history.
import type { z } from 'zod';
import type { Control, Scope, TradingState } from '../../schemas/types.ts';
import { RouterError } from '../../schemas/errors.ts';
import {
  buildCostModel,
  costModelDeskSchema,
  symbolModelSchema,
  toVenueModel,
  venueModelSchema,
  withPublished,
  type AssetClass,
  type CostModelDesk,
  type VenueModel,
} from '../router/costModel.ts';
import { emptyControlConfig, type ControlConfig } from './config.ts';
import { DEFAULT_SYMBOL_LIMITS, DEFAULT_SYMBOLS, DEFAULT_VENUES } from './demoVenues.ts';
import { deskLimitsSchema, limitOverridesSchema, type LimitOverrides, type Limits } from './limits.ts';

/** A validated control, ready to fold. */
type Change =
  | { kind: 'deskState'; state: TradingState }
  | { kind: 'state'; scope: 'account' | 'strategy' | 'venue' | 'symbol'; target: string; state: TradingState | null }
  | { kind: 'deskLimits'; limits: Limits }
  | { kind: 'limitOverride'; scope: 'account' | 'strategy' | 'symbol'; target: string; overrides: LimitOverrides | null }
  | { kind: 'deskCost'; desk: CostModelDesk }
  | { kind: 'venueCost'; venue: string; model: VenueModel | null }
  | { kind: 'symbolClass'; symbol: string; assetClass: AssetClass | null }
  /** A record the gate has no use for (ORDER_OUTCOME: the connectors' orders of unknown outcome). */
  | { kind: 'none' };

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
    case 'ORDER_OUTCOME':
      return { ok: true, change: { kind: 'none' } };
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
    case 'venueCost': {
      // The venue's published rules stay the base under whatever entries the new document types.
      const model = change.model === null ? null : withPublished(change.model, config.instrumentRules.get(change.venue));
      return { ...config, costModel: buildCostModel(config.costModel, withEntry(config.costModel.venues, change.venue, model)) };
    }
    case 'symbolClass':
      return { ...config, symbols: withEntry(config.symbols, change.symbol, change.assetClass) };
    case 'none':
      return config;
    default: {
      const unknownChange: never = change;
      return unknownChange;
    }
  }
}

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
