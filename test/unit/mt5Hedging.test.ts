// The pure parts of the MT5 fixes: legs on a hedging account, net positions, margin mode, one state from
// several bridge orders, which failures leave a trade's outcome unknown, symbol rules and prices.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Mt5Error, outcomeUnknown, retcodeError } from '../../connectors/mt5/errors.ts';
import { planLegs } from '../../connectors/mt5/hedging.ts';
import { VenueError } from '../../connectors/http.ts';
import { instrumentOf, quoteOf } from '../../connectors/mt5/market.ts';
import { combinedState, netPositions, parseMarginMode, parseOrders, parsePositions, type Mt5Deal } from '../../connectors/mt5/parse.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../connectors/mt5/fixtures/${name}`, import.meta.url), 'utf8'));
const MAGIC = 770001;

describe('mt5 hedging accounts', () => {
  const tickets = parsePositions(fixture('positionsHedged.json'), MAGIC, '')!.map((p) => ({ positionId: p.positionId, side: p.side, lots: p.lots, venueTime: p.venueTime }));

  it('reads the margin mode from the account information', () => {
    assert.equal(parseMarginMode(fixture('accountInformationHedging.json')), 'HEDGING');
    assert.equal(parseMarginMode({ marginMode: 'ACCOUNT_MARGIN_MODE_RETAIL_NETTING' }), 'NETTING');
    assert.equal(parseMarginMode({ balance: 1 }), 'UNKNOWN');
  });

  it('folds tickets of both sides into one net position per symbol', () => {
    assert.deepEqual([...netPositions(parsePositions(fixture('positionsHedged.json'), MAGIC, '')!)], [['EURUSD', 25_000]]);
  });

  it('closes opposite positions oldest first, by id, partly where needed, and opens only the rest', () => {
    assert.deepEqual(planLegs('SELL', 0.1, tickets, 0.01), [{ kind: 'close', positionId: '47140001', lots: 0.1, whole: false }]);
    assert.deepEqual(planLegs('SELL', 0.25, tickets, 0.01), [
      { kind: 'close', positionId: '47140001', lots: 0.2, whole: true }, { kind: 'close', positionId: '47140007', lots: 0.05, whole: false },
    ]);
    assert.deepEqual(planLegs('SELL', 0.5, tickets, 0.01), [
      { kind: 'close', positionId: '47140001', lots: 0.2, whole: true }, { kind: 'close', positionId: '47140007', lots: 0.1, whole: true },
      { kind: 'open', lots: 0.2 },
    ]);
    assert.deepEqual(planLegs('BUY', 0.07, tickets, 0.01), [{ kind: 'close', positionId: '47140010', lots: 0.05, whole: true }, { kind: 'open', lots: 0.02 }]);
    assert.deepEqual(planLegs('BUY', 0.3, [], 0.01), [{ kind: 'open', lots: 0.3 }]);
  });

  it('states one order carried by several bridge orders, and one whose later leg was refused', () => {
    const at = (s: string) => `2024-03-12T14:0${s}.000Z`;
    const legs = parseOrders([
      { id: '501', type: 'ORDER_TYPE_SELL', state: 'ORDER_STATE_FILLED', magic: MAGIC, time: at('1:00'), doneTime: at('1:00'), symbol: 'EURUSD', volume: 0.2, currentVolume: 0, positionId: '47140001', comment: 'tok' },
      { id: '502', type: 'ORDER_TYPE_SELL', state: 'ORDER_STATE_FILLED', magic: MAGIC, time: at('1:01'), doneTime: at('1:01'), symbol: 'EURUSD', volume: 0.1, currentVolume: 0, positionId: '502', comment: 'tok' },
    ])!;
    const deals: Mt5Deal[] = [
      { id: '9001', type: 'DEAL_TYPE_SELL', entryType: 'DEAL_ENTRY_OUT', symbol: 'EURUSD', magic: MAGIC, time: Date.parse(at('1:00')), volume: 0.2, price: 1.0842, commission: -0.7, orderId: '501', positionId: '47140001', comment: 'tok' },
      { id: '9002', type: 'DEAL_TYPE_SELL', entryType: 'DEAL_ENTRY_IN', symbol: 'EURUSD', magic: MAGIC, time: Date.parse(at('1:01')), volume: 0.1, price: 1.0841, commission: -0.35, orderId: '502', positionId: '502', comment: 'tok' },
    ];
    const s = combinedState('cid', [legs[1], legs[0]], deals, '', true);
    assert.deepEqual([s.status, s.side, s.quantity, s.filledQty, s.venueOrderId, s.fills.map((f) => f.tradeId), s.fillsComplete], ['FILLED', 'SELL', 30_000, 30_000, '501', ['9001', '9002'], true]);
    const cut = combinedState('cid', [legs[0]], deals, '', true, true);
    assert.deepEqual([cut.status, cut.filledQty], ['CANCELED', 20_000]);
  });
});

describe('mt5 unknown outcomes', () => {
  const http = (status: number) => new Mt5Error(status === 429 ? 'VENUE_RATE_LIMITED' : 'VENUE_UNAVAILABLE', 'x', { operation: 'submit', status });
  const network = (code: string) => new VenueError('VENUE_UNAVAILABLE', 'x', { venue: 'mt5', operation: 'submit', cause: Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) }) });

  it('knows the failures after which the trade may have executed', () => {
    for (const rc of [-11, 10011, 10012, 10028]) assert.equal(outcomeUnknown(retcodeError(rc, null, 'submit', 'c')), true, `retcode ${rc}`);
    for (const rc of [-10, 10004, 10019, 10020, 10021, 10024, 10031]) assert.equal(outcomeUnknown(retcodeError(rc, null, 'submit', 'c')), false, `retcode ${rc}`);
    assert.equal(outcomeUnknown(new VenueError('VENUE_TIMEOUT', 'x', { venue: 'mt5', operation: 'submit' })), true);
    assert.equal(outcomeUnknown(new Mt5Error('VENUE_BAD_RESPONSE', 'x', { operation: 'submit' })), true);
    assert.deepEqual([500, 502, 504].map((s) => outcomeUnknown(http(s))), [true, true, true]);
    assert.deepEqual([503, 429].map((s) => outcomeUnknown(http(s))), [false, false]);
    assert.equal(outcomeUnknown(network('ECONNREFUSED')), false, 'never left this host');
    assert.equal(outcomeUnknown(network('ECONNRESET')), true, 'cut after it was sent');
    assert.equal(outcomeUnknown(new Mt5Error('VENUE_REJECTED', 'x', { operation: 'submit', status: 400 })), false);
  });
});

describe('mt5 symbol rules and prices', () => {
  it('turns a symbol specification into instrument rules in units', () => {
    const spec = fixture('symbolSpecification.json') as Parameters<typeof instrumentOf>[1];
    assert.deepEqual(instrumentOf('EURUSD', spec), {
      symbol: 'EURUSD', venueSymbol: 'EURUSD', trading: true, lotSize: 1_000, tickSize: 0.00001, minNotional: 0, minQty: 1_000, maxQty: 20_000_000,
    });
    assert.equal(instrumentOf('EURUSD', { ...spec, tradeMode: 'SYMBOL_TRADE_MODE_CLOSEONLY' }).trading, false);
  });
  it('takes a current price as a quote only while it is fresh', () => {
    const at = Date.parse('2024-03-12T14:10:00.250Z');
    assert.deepEqual(quoteOf('EURUSD', fixture('currentPrice.json'), at + 1_000, 10_000), { symbol: 'EURUSD', bid: 1.08422, ask: 1.08425, bidSize: 0, askSize: 0, venueTime: at });
    assert.equal(quoteOf('EURUSD', fixture('currentPrice.json'), at + 60_000, 10_000), null, 'a closed market keeps its last price');
    assert.equal(quoteOf('EURUSD', { symbol: 'EURUSD', bid: 2, ask: 1, time: '2024-03-12T14:10:00.250Z' }, at, 10_000), null, 'crossed');
  });
});
