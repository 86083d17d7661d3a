// The control plane as plain data: trading states per scope, limits, symbols and the cost model, as
// the risk gate and the router read them. Its parts live beside it: limits.ts (limit schemas and
// resolution), controlFold.ts (how `control` records fold into it, the demo desk's defaults),
// instrumentFold.ts (how `instruments` records fold into it) and demoVenues.ts (the demo desk's
// instruments and venues).
import type { TradingState } from '../../schemas/types.ts';
import { DEFAULT_COST_MODEL_DESK, buildCostModel, type AssetClass, type CostModel } from '../router/costModel.ts';
import type { PublishedRules } from '../router/listing.ts';
import { deskLimitsSchema, type LimitTiers } from './limits.ts';

export type { AssetClass, CostModel } from '../router/costModel.ts';

export interface ScopedStates {
  readonly desk: TradingState;
  readonly account: ReadonlyMap<string, TradingState>;
  readonly strategy: ReadonlyMap<string, TradingState>;
  readonly venue: ReadonlyMap<string, TradingState>;
  readonly symbol: ReadonlyMap<string, TradingState>;
}

export interface ControlConfig {
  readonly states: ScopedStates;
  readonly limits: LimitTiers;
  /** Canonical symbol → asset class; a symbol missing here is UNKNOWN_SYMBOL. */
  readonly symbols: ReadonlyMap<string, AssetClass>;
  /** Its venues' listings merge the cost model's entries with `instrumentRules` (streams/router/listing.ts). */
  readonly costModel: CostModel;
  /** The venues' own rules from the `instruments` topic (instrumentFold.ts); empty where nothing is read (the backtest). */
  readonly instrumentRules: PublishedRules;
}

const SEVERITY: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
export function severity(state: TradingState): number {
  return SEVERITY[state];
}

/** Nothing tradable: no symbols, no venues, desk limits from the schema defaults. */
export function emptyControlConfig(): ControlConfig {
  return {
    states: { desk: 'ACTIVE', account: new Map(), strategy: new Map(), venue: new Map(), symbol: new Map() },
    limits: { desk: deskLimitsSchema.parse({}), account: new Map(), strategy: new Map(), symbol: new Map() },
    symbols: new Map(),
    costModel: buildCostModel(DEFAULT_COST_MODEL_DESK, new Map()),
    instrumentRules: new Map(),
  };
}
