// Alpaca payloads as its documentation shows them (Trading API "Orders", "Account", "Assets",
// "Account Activities"; numbers as strings). Written from the documented examples, not from fixtures
// the connector is tested with.
export type Order = Record<string, unknown> & { id: string; client_order_id: string; qty: string; filled_qty: string; filled_avg_price: string | null; status: string; limit_price: string | null; updated_at: string };

export interface Activity {
  id: string; activity_type: 'FILL'; transaction_time: string; type: 'fill' | 'partial_fill'; price: string; qty: string; side: string;
  symbol: string; order_id: string; cum_qty: string; leaves_qty: string; order_status: string;
}

export const ACCOUNT = {
  id: '904837e3-3b76-47ec-b432-046db621571b', account_number: 'PA3KH8V5QE1Z', status: 'ACTIVE', crypto_status: 'ACTIVE', currency: 'USD',
  buying_power: '262113.632', cash: '131056.816', portfolio_value: '131056.816', equity: '131056.816', trading_blocked: false, transfers_blocked: false,
  account_blocked: false, created_at: '2023-11-02T18:25:10.339Z', pattern_day_trader: false, shorting_enabled: true, multiplier: '2',
};

export function orderJson(o: { id: string; cid: string; symbol: string; qty: string; side: string; type: string; tif: string; limit: string | null; now: string }): Order {
  return {
    id: o.id, client_order_id: o.cid, created_at: o.now, updated_at: o.now, submitted_at: o.now, filled_at: null, expired_at: null, canceled_at: null,
    failed_at: null, replaced_at: null, replaced_by: null, replaces: null, asset_id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415', symbol: o.symbol,
    asset_class: o.symbol.includes('/') ? 'crypto' : 'us_equity', notional: null, qty: o.qty, filled_qty: '0', filled_avg_price: null, order_class: '',
    order_type: o.type, type: o.type, side: o.side, time_in_force: o.tif, limit_price: o.limit, stop_price: null, status: 'new', extended_hours: false,
    legs: null, trail_percent: null, trail_price: null, hwm: null,
  };
}

const equity = (symbol: string, fractionable: boolean) => ({
  id: `00000000-0000-4000-8000-${symbol.padStart(12, '0').slice(-12)}`, class: 'us_equity', exchange: 'NASDAQ', symbol, name: `${symbol} Inc. Common Stock`,
  status: 'active', tradable: true, marginable: true, shortable: true, easy_to_borrow: true, fractionable, maintenance_margin_requirement: 30, attributes: [],
});

export const ASSETS = [
  equity('AAPL', true),
  equity('MSFT', true),
  { ...equity('GME', false), exchange: 'NYSE' },
  { ...equity('OLDCO', false), status: 'inactive', tradable: false },
  {
    id: '276e2673-764b-4ab6-a611-caf665ca6340', class: 'crypto', exchange: 'CRYPTO', symbol: 'BTC/USD', name: 'Bitcoin  / US Dollar', status: 'active',
    tradable: true, marginable: false, shortable: false, easy_to_borrow: false, fractionable: true, min_order_size: '0.000018', min_trade_increment: '0.000000001',
    price_increment: '1', attributes: [],
  },
];
