// IBKR market-data snapshot rows and contract rules → quotes and instruments (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrumentFromRules, priceField, quoteFromSnapshot, sizeField } from '../../connectors/ibkr/marketParse.ts';

const NOW = 1_702_317_660_000;
const row = (over: Record<string, unknown> = {}) => ({
  conid: 265598, conidEx: '265598', server_id: 'q0', _updated: NOW - 100, '6119': 'q0',
  '31': '190.12', '84': '190.11', '86': '190.13', '88': '300', '85': '1,200', '6509': 'RpB', ...over,
});

describe('ibkr market-data fields', () => {
  it('reads prices with and without a prefix, and sizes with separators and suffixes', () => {
    assert.deepEqual(priceField('190.12'), { value: 190.12, prefix: null });
    assert.deepEqual(priceField('C190.12'), { value: 190.12, prefix: 'C' });
    assert.deepEqual(priceField('1,234.5'), { value: 1234.5, prefix: null });
    assert.equal(priceField(''), null);
    assert.equal(priceField(undefined), null);
    assert.equal(sizeField('1,200'), 1200);
    assert.equal(sizeField('12.3K'), 12_300);
    assert.equal(sizeField('1.5M'), 1_500_000);
    assert.equal(sizeField('n/a'), 0);
  });
});

describe('ibkr snapshot rows → quotes', () => {
  it('makes a quote of a real-time row', () => {
    assert.deepEqual(quoteFromSnapshot(row(), NOW, 5_000), { symbol: 'AAPL', bid: 190.11, ask: 190.13, bidSize: 300, askSize: 1200, venueTime: NOW - 100 });
  });
  it('makes none of a pre-flight answer, an unknown conid, delayed or frozen data, a prior close or halt, a crossed book or a stale row', () => {
    assert.equal(quoteFromSnapshot({ conid: 265598, conidEx: '265598', _updated: NOW }, NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ conid: 8314 }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ '6509': 'DpB' }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ '6509': 'ZpB' }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ '84': 'C190.11' }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ '86': 'H190.13' }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ '84': '190.20' }), NOW, 5_000), null);
    assert.equal(quoteFromSnapshot(row({ _updated: NOW - 10_000 }), NOW, 5_000), null);
  });
});

describe('ibkr contract rules → instruments', () => {
  const contract = { conid: 265598, secType: 'STK' as const };
  it('takes the tick from the lowest increment rule, and tradability from the accounts allowed', () => {
    const rules = { error: null, increment: 0.01, incrementRules: [{ lowerEdge: 1, increment: 0.01 }, { lowerEdge: 0, increment: 0.0001 }], canTradeAcctIds: ['U1234567'], orderTypes: ['limit', 'market'] };
    const i = instrumentFromRules('AAPL', contract, rules, 'U1234567');
    assert.equal(i?.tickSize, 0.0001);
    assert.deepEqual(i?.priceIncrements, [{ lowerEdge: 0, increment: 0.0001 }, { lowerEdge: 1, increment: 0.01 }]);
    assert.equal(i?.trading, true);
    assert.equal(instrumentFromRules('AAPL', contract, rules, 'U7654321')?.trading, false);
    assert.equal(instrumentFromRules('AAPL', contract, { rules }, 'U1234567')?.tickSize, 0.0001, 'also inside info-and-rules');
  });
  it('has no instrument when the gateway could not read the rules or gave no increment', () => {
    assert.equal(instrumentFromRules('AAPL', contract, { error: 'No trading permissions' }, 'U1234567'), null);
    assert.equal(instrumentFromRules('AAPL', contract, { error: null }, 'U1234567'), null);
  });
});
