// LIMITS controls as the risk gate folds them: per-scope resolution (tightest override wins),
// compaction-safe replacement and removal, purity of applyControl, and the refusals that name the field.
// The checks these limits feed are tested at their boundaries in riskChecks.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Control, ControlKind, Scope, TradingState } from '../../schemas/types.ts';
import { InvalidControlError, applyControl, defaultControlConfig, validateControl } from '../../streams/decide/controlFold.ts';
import { resolveLimits } from '../../streams/decide/limits.ts';

const NOW = 1_700_000_000_000;

function control(kind: ControlKind, scope: Scope, target: string, more: { state?: TradingState; payload?: unknown } = {}): Control {
  return {
    controlId: `c-${kind}-${scope}-${target}`, kind, scope, target, state: more.state ?? null,
    payload: more.payload === undefined ? null : typeof more.payload === 'string' ? more.payload : JSON.stringify(more.payload),
    actor: 'test', reason: null, at: NOW, hlc: 1,
  };
}

describe('LIMITS controls', () => {
  it('resolve per account, strategy and symbol over the desk defaults, tightest override winning', () => {
    let config = applyControl(defaultControlConfig(), control('LIMITS', 'DESK', '*', { payload: { maxOrderQty: 300, maxOrdersPerMinute: 10 } }));
    config = applyControl(config, control('LIMITS', 'ACCOUNT', 'acc1', { payload: { maxOrderQty: 800, maxGrossExposure: 1_000 } }));
    config = applyControl(config, control('LIMITS', 'STRATEGY', 'trend', { payload: { maxOrdersPerMinute: 3 } }));
    const aapl = resolveLimits(config, 'acc1', 'trend', 'AAPL');
    assert.equal(aapl.maxOrderQty, 800, 'the account override loosens the desk default');
    assert.equal(aapl.maxOrdersPerMinute, 3);
    assert.equal(aapl.maxGrossExposure, 1_000);
    assert.equal(resolveLimits(config, 'acc1', 'trend', 'BTCUSD').maxOrderQty, 5, 'BTCUSD symbol limit is tighter than the account');
    assert.equal(resolveLimits(config, 'acc2', 'other', 'XYZ').maxOrderQty, 300, 'desk default where nothing overrides');
    assert.equal(resolveLimits(config, 'acc2', 'other', 'AAPL').maxOrderQty, 5_000, 'a symbol override replaces the desk default');
  });

  it('a later record for the same key replaces the earlier one (compaction-safe), and a null payload removes it', () => {
    let config = applyControl(defaultControlConfig(), control('LIMITS', 'ACCOUNT', 'acc1', { payload: { maxOrderQty: 7, maxPosition: 9 } }));
    config = applyControl(config, control('LIMITS', 'ACCOUNT', 'acc1', { payload: { maxOrderQty: 8 } }));
    assert.equal(resolveLimits(config, 'acc1', 's', 'XYZ').maxOrderQty, 8);
    assert.equal(resolveLimits(config, 'acc1', 's', 'XYZ').maxPosition, 1_000, 'maxPosition 9 went with the replaced record');
    config = applyControl(config, control('LIMITS', 'ACCOUNT', 'acc1'));
    assert.equal(resolveLimits(config, 'acc1', 's', 'XYZ').maxOrderQty, 1_000);
  });

  it('applyControl is pure: the config given is unchanged', () => {
    const before = defaultControlConfig();
    applyControl(before, control('TRADING_STATE', 'ACCOUNT', 'acc1', { state: 'HALTED' }));
    assert.equal(before.states.account.size, 0);
  });

  const bad: [string, Control, string][] = [
    ['a negative limit', control('LIMITS', 'ACCOUNT', 'acc1', { payload: { maxPosition: -1 } }), 'payload.maxPosition'],
    ['a misspelt field', control('LIMITS', 'DESK', '*', { payload: { maxPositon: 5 } }), 'payload.maxPositon'],
    ['an unknown breach state', control('LIMITS', 'DESK', '*', { payload: { lossBreachState: 'PANIC' } }), 'payload.lossBreachState'],
    ['a zero daily loss limit', control('LIMITS', 'STRATEGY', 's', { payload: { dailyLossLimit: 0 } }), 'payload.dailyLossLimit'],
    ['text that is not JSON', control('LIMITS', 'SYMBOL', 'AAPL', { payload: '{maxPosition: 1' }), 'payload'],
    ['limits on a venue', control('LIMITS', 'VENUE', 'paper', { payload: {} }), 'scope'],
    ['a desk record with a named target', control('LIMITS', 'DESK', 'acc1', { payload: {} }), 'target'],
    ['a venue lot size of zero', control('COST_MODEL', 'VENUE', 'x', { payload: { instruments: { AAPL: { venueSymbol: 'A', lotSize: 0, tickSize: 0.01 } } } }), 'payload.instruments.AAPL.lotSize'],
  ];
  for (const [name, c, field] of bad) {
    it(`refuses ${name}, naming ${field}`, () => {
      assert.equal(validateControl(c)?.field, field);
      assert.throws(() => applyControl(defaultControlConfig(), c), (e: unknown) => {
        assert.ok(e instanceof InvalidControlError);
        assert.equal(e.code, 'INVALID_CONTROL');
        assert.equal(e.retriable, false);
        assert.equal(e.field, field);
        return true;
      });
    });
  }
});
