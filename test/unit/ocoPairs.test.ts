// Native OCO pairing (connectors/ocoPairs.ts) and Binance's OCO parameters (connectors/binance/orderParams.ts),
// both pure: which exits of one batch go to the venue as one OCO request, what happens after both legs
// were looked up, and how a pair becomes POST /api/v3/orderList/oco's above / below legs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterLookup, pairExits } from '../../connectors/ocoPairs.ts';
import { binanceOcoParams } from '../../connectors/binance/orderParams.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';
import type { Order } from '../../schemas/types.ts';

const T0 = 1_700_000_000_000;
function order(over: Partial<Order> = {}): Order {
  return {
    orderId: 'o', clientOrderId: 'c', signalId: 's', decisionId: 'd', account: 'acc1', strategy: 'trend', symbol: 'BTCUSD', venue: 'binance',
    side: 'SELL', quantity: 0.01, orderType: 'LIMIT', limitPrice: 66000, timeInForce: 'GTC', signalPrice: null, arrivalMid: null, createdAt: T0, hlc: T0 * 1000,
    stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: 'entry-1', exitRole: null, ocoGroup: 'entry-1|x1', ...over,
  };
}
const tp = (over: Partial<Order> = {}) => order({ orderId: 'tp', clientOrderId: 'tp', exitRole: 'TAKE_PROFIT', ...over });
const sl = (over: Partial<Order> = {}) => order({ orderId: 'sl', clientOrderId: 'sl', exitRole: 'STOP_LOSS', orderType: 'STOP', limitPrice: null, stopPrice: 64000, ...over });
const entry = order({ orderId: 'e', clientOrderId: 'e', side: 'BUY', orderType: 'MARKET', limitPrice: null, parentOrderId: null, ocoGroup: null });
const yes = () => true;
const shape = (units: ReturnType<typeof pairExits>) => units.map((u) => (u.kind === 'single' ? u.order.clientOrderId : `${u.kind}:${u.pair.takeProfit.clientOrderId}+${u.pair.stopLoss.clientOrderId}`));

describe('native OCO pairing', () => {
  it('pairs the two exits of one ocoGroup in the batch, at the place of the first, and leaves the rest alone', () => {
    assert.deepEqual(shape(pairExits([entry, sl(), tp()], yes)), ['e', 'pair:tp+sl']);
  });
  it('a leg without its sibling in the batch goes alone', () => {
    assert.deepEqual(shape(pairExits([tp()], yes)), ['tp']);
  });
  it('a pair the venue cannot hold goes as two orders, the stop-loss first (`legs`)', () => {
    assert.deepEqual(shape(pairExits([tp(), sl()], () => false)), ['legs:tp+sl']);
  });
  it('legs that differ in quantity, side, symbol or account, or two of one role, are not a pair', () => {
    assert.deepEqual(shape(pairExits([tp(), sl({ quantity: 0.02 })], yes)), ['tp', 'sl']);
    assert.deepEqual(shape(pairExits([tp(), sl({ side: 'BUY' })], yes)), ['tp', 'sl']);
    assert.deepEqual(shape(pairExits([tp(), sl({ account: 'acc2' })], yes)), ['tp', 'sl']);
    assert.deepEqual(shape(pairExits([tp(), tp({ clientOrderId: 'tp2' })], yes)), ['tp', 'tp2']);
  });
  it('two groups in one batch make two pairs', () => {
    const g2 = { ocoGroup: 'entry-1|x2' };
    assert.deepEqual(shape(pairExits([tp(), sl(), tp({ clientOrderId: 'tp2', ...g2 }), sl({ clientOrderId: 'sl2', ...g2 })], yes)), ['pair:tp+sl', 'pair:tp2+sl2']);
  });
});

describe('after both legs were looked up', () => {
  it('both found: nothing is sent; neither: one OCO; one of them: the missing leg alone, never a second OCO', () => {
    assert.deepEqual(afterLookup(true, true), { kind: 'found' });
    assert.deepEqual(afterLookup(false, false), { kind: 'send' });
    assert.deepEqual(afterLookup(true, false), { kind: 'split', missing: 'STOP_LOSS' });
    assert.deepEqual(afterLookup(false, true), { kind: 'split', missing: 'TAKE_PROFIT' });
  });
});

const req = (o: Order): VenueOrderRequest => ({
  clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, quantity: o.quantity, orderType: o.orderType, limitPrice: o.limitPrice,
  timeInForce: o.timeInForce, stopPrice: o.stopPrice, trailAmount: o.trailAmount, trailPercent: o.trailPercent,
});

describe('binance OCO parameters', () => {
  it('a SELL pair: the take-profit above as LIMIT_MAKER, the stop below, each with its own client order id', () => {
    assert.deepEqual(binanceOcoParams(req(tp()), req(sl())), {
      side: 'SELL', quantity: '0.01', aboveType: 'LIMIT_MAKER', abovePrice: '66000', aboveClientOrderId: 'tp',
      belowType: 'STOP_LOSS', belowStopPrice: '64000', belowClientOrderId: 'sl',
    });
  });
  it('a BUY pair: the stop-limit above, the take-profit below as TAKE_PROFIT_LIMIT at its limit', () => {
    const p = binanceOcoParams(req(tp({ side: 'BUY', limitPrice: 64000 })), req(sl({ side: 'BUY', orderType: 'STOP_LIMIT', stopPrice: 66000, limitPrice: 66100 })));
    assert.deepEqual(p, {
      side: 'BUY', quantity: '0.01', aboveType: 'STOP_LOSS_LIMIT', aboveStopPrice: '66000', abovePrice: '66100', aboveTimeInForce: 'GTC', aboveClientOrderId: 'sl',
      belowType: 'TAKE_PROFIT_LIMIT', belowPrice: '64000', belowStopPrice: '64000', belowTimeInForce: 'GTC', belowClientOrderId: 'tp',
    });
  });
  it('a trailing stop by percent is a leg with trailingDelta in BIPS; by a price amount there is no OCO form', () => {
    const trailing = sl({ orderType: 'TRAILING_STOP', stopPrice: null, trailPercent: 1.5 });
    assert.equal(binanceOcoParams(req(tp()), req(trailing))?.belowTrailingDelta, '150');
    assert.equal(binanceOcoParams(req(tp()), req(sl({ orderType: 'TRAILING_STOP', stopPrice: null, trailAmount: 50 }))), null);
  });
  it('legs that differ in quantity have no OCO form', () => {
    assert.equal(binanceOcoParams(req(tp()), req(sl({ quantity: 0.02 }))), null);
  });
});
