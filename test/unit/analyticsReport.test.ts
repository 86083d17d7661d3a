import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCsv, formatTable, OptionsError, parsePnlOptions, pnlSql, withUnrealized, type QueryResult } from '../../analytics/query/report.ts';

describe('P&L report options', () => {
  it('defaults to account,symbol as a table and accepts any dimensions in any order', () => {
    assert.deepEqual(parsePnlOptions({}), { by: ['account', 'symbol'], format: 'table' });
    assert.deepEqual(parsePnlOptions({ by: 'day, strategy', from: '2026-11-01', to: '2026-11-30', format: 'csv' }),
      { by: ['day', 'strategy'], from: '2026-11-01', to: '2026-11-30', format: 'csv' });
  });

  it('names the field it refuses', () => {
    const bad = (raw: Record<string, unknown>, field: string) =>
      assert.throws(() => parsePnlOptions(raw), (e: unknown) => e instanceof OptionsError && e.field === field, JSON.stringify(raw));
    bad({ by: 'account,desk' }, 'by');
    bad({ by: 'day,day' }, 'by');
    bad({ from: '22/11/2026' }, 'from');
    bad({ from: '2026-12-01', to: '2026-11-01' }, 'from');
    bad({ format: 'xml' }, 'format');
  });

  it('carries unrealized P&L only for position groupings up to now', () => {
    assert.equal(withUnrealized({ by: ['account', 'symbol'] }), true);
    assert.equal(withUnrealized({ by: [] }), true);
    assert.equal(withUnrealized({ by: ['strategy'] }), false);
    assert.equal(withUnrealized({ by: ['account', 'day'] }), false);
    assert.equal(withUnrealized({ by: ['account'], to: '2026-11-01' }), false);
    assert.match(pnlSql({ by: ['account', 'symbol'] }), /unrealized_pnl/);
    assert.doesNotMatch(pnlSql({ by: ['strategy', 'day'] }), /unrealized_pnl/);
    assert.match(pnlSql({ by: ['day'], from: '2026-11-01' }), /day >= DATE '2026-11-01'/);
  });
});

describe('P&L report formats', () => {
  const r: QueryResult = {
    columns: [{ name: 'strategy', type: 'VARCHAR' }, { name: 'fills', type: 'BIGINT' }, { name: 'net_pnl', type: 'DOUBLE' }, { name: 'slippage_arrival_bps', type: 'DOUBLE' }],
    rows: [['trend-1', 12, 1234.5678, -1.234], ['a,"b"', 3, -0.004, null]],
    truncated: false,
  };

  it('prints a table with money and bps to 2 decimals, numbers right-aligned', () => {
    assert.equal(formatTable(r), [
      'strategy  fills  net_pnl  slippage_arrival_bps',
      '--------  -----  -------  --------------------',
      'trend-1      12  1234.57                 -1.23',
      'a,"b"         3     0.00',
      '',
    ].join('\n'));
  });

  it('prints CSV with full precision and quoted cells where needed', () => {
    assert.equal(formatCsv(r), 'strategy,fills,net_pnl,slippage_arrival_bps\ntrend-1,12,1234.5678,-1.234\n"a,""b""",3,-0.004,\n');
  });
});
