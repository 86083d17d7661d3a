// The fake gateway's book rendered the way the Client Portal Web API documentation shows it: live-order
// rows (GET /iserver/account/orders and the `sor` topic), order status, trade rows (GET
// /iserver/account/trades and `str`) and market-data snapshot rows. Field names and
// value types (numbers as strings in some fields) follow the documented response examples.
import type { FakeIbkrOrder, FakeIbkrTrade } from './fakeState.ts';

export const TICKERS: Readonly<Record<number, { symbol: string; secType: 'STK' | 'CASH'; exchange: string }>> = {
  265598: { symbol: 'AAPL', secType: 'STK', exchange: 'NASDAQ.NMS' },
  272093: { symbol: 'MSFT', secType: 'STK', exchange: 'NASDAQ.NMS' },
  12087792: { symbol: 'EUR.USD', secType: 'CASH', exchange: 'IDEALPRO' },
};

/** yyMMddHHmmss in UTC, as in order_time and lastExecutionTime. */
export function compactTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

const avg = (o: FakeIbkrOrder): string => (o.filled > 0 ? (o.notional / o.filled).toFixed(4) : '');

// No OCA field here: the Live Orders documentation shows none, so after a restart a client cannot tell
// from this list which orders share a group (only order status shows it).
export const liveRow = (o: FakeIbkrOrder) => ({
  acct: o.acct, conidex: String(o.conid), conid: o.conid, account: o.acct, orderId: o.orderId, cashCcy: 'USD',
  sizeAndFills: `${o.filled}/${o.totalSize}`,
  orderDesc: `${o.side === 'BUY' ? 'Buy' : 'Sell'} ${o.totalSize} ${o.orderType === 'MKT' ? 'Market' : `Limit ${o.price}`}, ${o.tif}`,
  description1: TICKERS[o.conid]?.symbol ?? String(o.conid), ticker: TICKERS[o.conid]?.symbol ?? String(o.conid),
  secType: TICKERS[o.conid]?.secType ?? 'STK', listingExchange: TICKERS[o.conid]?.exchange ?? 'SMART',
  remainingQuantity: o.totalSize - o.filled, filledQuantity: o.filled, totalSize: o.totalSize, status: o.status, order_ccp_status: o.status,
  avgPrice: avg(o), origOrderType: o.orderType === 'MKT' ? 'MARKET' : 'LIMIT', orderType: o.orderType === 'MKT' ? 'Market' : 'Limit',
  order_ref: o.cOID, timeInForce: o.tif, lastExecutionTime: compactTime(o.updatedAt), lastExecutionTime_r: o.updatedAt, side: o.side,
  ...(o.price === null ? {} : { price: String(o.price) }),
});

export const statusRow = (o: FakeIbkrOrder) => ({
  sub_type: null, request_id: '209', server_id: '0', order_id: o.orderId, conidex: String(o.conid), conid: o.conid,
  symbol: TICKERS[o.conid]?.symbol ?? String(o.conid), side: o.side === 'BUY' ? 'B' : 'S', size: (o.totalSize - o.filled).toFixed(1),
  total_size: o.totalSize.toFixed(1), currency: 'USD', account: o.acct, order_type: o.orderType === 'MKT' ? 'MARKET' : 'LIMIT',
  ...(o.price === null ? {} : { limit_price: o.price.toFixed(2) }),
  cum_fill: o.filled.toFixed(1), order_status: o.status, order_status_description: o.status === 'Filled' ? 'Order Filled' : `Order ${o.status}`,
  tif: o.tif, average_price: avg(o), order_time: compactTime(o.updatedAt), size_and_fills: `${o.filled}/${o.totalSize}`,
  cannot_cancel_order: o.status === 'Filled' || o.status === 'Cancelled',
  // "How to Code an OCA Order in the Web API": order status shows the group's oca_group_id (its format
  // is undocumented: a string here). Orders outside a group carry none.
  ...(o.ocaGroup === null ? {} : { oca_group_id: o.ocaGroup }),
});

export const tradeRow = (t: FakeIbkrTrade) => ({
  execution_id: t.executionId, symbol: TICKERS[t.conid]?.symbol ?? String(t.conid), supports_tax_opt: '1', side: t.side === 'BUY' ? 'B' : 'S',
  order_description: `${t.side === 'BUY' ? 'Bot' : 'Sold'} ${t.size} @ ${t.price} on ISLAND`, trade_time_r: t.time,
  trade_time: new Date(t.time).toISOString().replace(/-/g, '').replace('T', '-').slice(0, 17), size: t.size, price: String(t.price),
  order_ref: t.cOID, submitter: 'fakeuser', exchange: 'ISLAND', commission: t.commission.toFixed(2), net_amount: t.size * t.price,
  account: t.acct, accountCode: t.acct, company_name: TICKERS[t.conid]?.symbol ?? '', contract_description_1: TICKERS[t.conid]?.symbol ?? '',
  sec_type: TICKERS[t.conid]?.secType ?? 'STK', listing_exchange: TICKERS[t.conid]?.exchange ?? 'SMART', conid: t.conid, conidEx: String(t.conid),
  clearing_id: 'IB', clearing_name: 'IB', liquidation_trade: '0', is_event_trading: '0',
});

/**
 * One row of GET /iserver/marketdata/snapshot. Field ids from the documentation's market-data field
 * list: 31 last, 84 bid, 85 ask size, 86 ask, 88 bid size, 6509 availability (first letter R = real
 * time, D = delayed, Z = frozen).
 * `withData` false is the documented answer to the first request for a conid: identifiers only.
 */
export function snapshotRow(conid: number, mid: number, tick: number, withData: boolean, updated: number, availability: string): Record<string, unknown> {
  const base = { conid, conidEx: String(conid), server_id: `q${conid % 97}`, _updated: updated, '6119': `q${conid % 97}` };
  if (!withData) return base;
  const bid = Math.round((mid - tick) / tick) * tick;
  const ask = Math.round((mid + tick) / tick) * tick;
  const digits = Math.max(0, -Math.floor(Math.log10(tick)));
  return { ...base, '31': mid.toFixed(digits), '84': bid.toFixed(digits), '86': ask.toFixed(digits), '88': '300', '85': '1,200', '6509': availability };
}
