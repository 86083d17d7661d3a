// The pure planner of bracket exits (streams/decide/brackets.ts; not wired yet): exits per fill, sized to
// what filled, priced from the fill, rounded away from it, with ids a replay derives again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BracketExit } from '../../schemas/types.ts';
import { exitOrderId, exitsForFill, siblingOf, type ExitLeg } from '../../streams/decide/brackets.ts';

const exit = (over: Partial<BracketExit>): BracketExit => ({ orderType: 'LIMIT', price: null, percent: null, amount: null, limitPrice: null, ...over });
const fill = { parentOrderId: '0190a1b2-c3d4-7e5f-8a9b-000000000001', executionId: 'paper:T-1', entrySide: 'BUY' as const, quantity: 4, price: 100 };

describe('bracket exits per fill', () => {
  it('a long entry\'s partial fill gets a sell take-profit and a sell stop for what filled', () => {
    const legs = exitsForFill(fill, exit({ percent: 3 }), exit({ orderType: 'STOP', amount: 2.005 }), 0.01) as ExitLeg[];
    assert.deepEqual(legs.map((l) => [l.role, l.side, l.quantity, l.orderType, l.limitPrice, l.stopPrice]), [
      ['TAKE_PROFIT', 'SELL', 4, 'LIMIT', 103, null],
      ['STOP_LOSS', 'SELL', 4, 'STOP', null, 97.99],
    ]);
    assert.ok(legs.every((l) => l.parentOrderId === fill.parentOrderId));
  });

  it('a short entry mirrors it; a stop-limit keeps its limit; a trailing stop its trail', () => {
    const short = { ...fill, entrySide: 'SELL' as const };
    const legs = exitsForFill(short, exit({ price: 95 }), exit({ orderType: 'STOP_LIMIT', percent: 1, limitPrice: 101.5 }), 0.01) as ExitLeg[];
    assert.deepEqual(legs.map((l) => [l.role, l.side, l.limitPrice, l.stopPrice]), [['TAKE_PROFIT', 'BUY', 95, null], ['STOP_LOSS', 'BUY', 101.5, 101]]);
    const trailing = exitsForFill(fill, null, exit({ orderType: 'TRAILING_STOP', percent: 2 }), 0.01) as ExitLeg[];
    assert.deepEqual(trailing.map((l) => [l.orderType, l.trailPercent, l.stopPrice]), [['TRAILING_STOP', 2, null]]);
  });

  it('refuses exits on the wrong side of the fill', () => {
    assert.deepEqual(exitsForFill(fill, exit({ price: 99 }), null, 0.01), { problem: 'TAKE_PROFIT_WRONG_SIDE' });
    assert.deepEqual(exitsForFill(fill, null, exit({ orderType: 'STOP', price: 101 }), 0.01), { problem: 'STOP_LOSS_WRONG_SIDE' });
    assert.deepEqual(exitsForFill(fill, null, exit({ orderType: 'STOP', amount: 150 }), 0.01), { problem: 'STOP_LOSS_WRONG_SIDE' });
  });

  it('derives the same ids from the same fill (a replay), distinct ones per fill and per role', () => {
    const a = exitsForFill(fill, exit({ percent: 3 }), exit({ orderType: 'STOP', percent: 2 }), 0.01) as ExitLeg[];
    const again = exitsForFill(fill, exit({ percent: 3 }), exit({ orderType: 'STOP', percent: 2 }), 0.01) as ExitLeg[];
    const next = exitsForFill({ ...fill, executionId: 'paper:T-2' }, exit({ percent: 3 }), exit({ orderType: 'STOP', percent: 2 }), 0.01) as ExitLeg[];
    assert.deepEqual(a.map((l) => l.orderId), again.map((l) => l.orderId));
    assert.equal(new Set([...a, ...next].map((l) => l.orderId)).size, 4);
    assert.match(exitOrderId('p', 'e', 'TAKE_PROFIT'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(siblingOf('TAKE_PROFIT'), 'STOP_LOSS');
  });
});
