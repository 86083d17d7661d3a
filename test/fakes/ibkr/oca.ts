// Order lines of POST /iserver/account/{accountId}/orders and the One-Cancels-All group, written from
// IBKR's documentation, never from connectors/ibkr:
// - Place Order (Web API v1.0): `orders` is an array, but apart from OCA groups and brackets it does not
//   take unrelated orders in bulk; `isSingleGroup` true on every line makes the lines one OCA group.
// - "How to Code an OCA Order in the Web API" (IBKR Campus): all orders of a group get the same
//   oca_group_id, which /iserver/account/order/status/{orderId} shows (wire.ts).
// - TWS API "One Cancels All" and the TWS "One Cancels Other" guide: completing one order cancels the
//   rest of the group; a partial fill re-balances it, the others reduced in proportion to the fraction
//   filled (the "reduce" kind; the Web API has no field to pick another OCA type).
import type { FakeIbkrLine, FakeIbkrOrder, FakeIbkrOrderType } from './fakeState.ts';

/** A request line whose shape requestLines() checked (its other fields unchecked yet). */
export type RawLine = Record<string, unknown> & { cOID: string };

const TYPES: readonly string[] = ['MKT', 'LMT', 'STP', 'STOP_LIMIT', 'TRAIL'];

/** The request's lines, or why the request is refused before anything is counted (400). */
export function requestLines(orders: unknown): { lines: RawLine[] } | { error: string } {
  if (!Array.isArray(orders) || orders.length === 0) return { error: 'Invalid order request' };
  const lines = orders as Record<string, unknown>[];
  if (lines.length > 1) {
    // Brackets are documented but not modelled here: refusing beats placing the parent alone.
    if (lines.some((l) => l?.parentId !== undefined)) return { error: 'fake ibkr: bracket orders (parentId) are not modelled' };
    if (!lines.every((l) => l?.isSingleGroup === true)) return { error: 'Unrelated orders cannot be placed in bulk: only an OCA group (isSingleGroup on every order) or a bracket' };
  }
  const bad = lines.some((l) => !l || typeof l.cOID !== 'string' || !l.cOID || typeof l.conid !== 'number' || typeof l.quantity !== 'number');
  return bad ? { error: 'Invalid order request' } : { lines: lines as RawLine[] };
}

/**
 * Why IBKR would refuse one line, or null. The documented order types: price is the limit (LMT,
 * STOP_LIMIT) or a STP's stop price; auxPrice is a STOP_LIMIT's stop; a TRAIL takes trailingType
 * "amt" or "%" and trailingAmt.
 */
export function lineProblem(line: RawLine): string | null {
  const type = line.orderType ?? 'MKT';
  if (!TYPES.includes(type as string)) return `Invalid order type: ${String(type)}`;
  if ((type === 'LMT' || type === 'STP' || type === 'STOP_LIMIT') && typeof line.price !== 'number') return 'Price is required for this order type';
  if (type === 'STOP_LIMIT' && typeof line.auxPrice !== 'number') return 'auxPrice is required for STOP_LIMIT orders';
  if (type === 'TRAIL' && (!['amt', '%'].includes(String(line.trailingType)) || typeof line.trailingAmt !== 'number')) return 'trailingType and trailingAmt are required for TRAIL orders';
  return null;
}

/** A line lineProblem() passed, as the book keeps it; the path's account is the order's. */
export const toLine = (line: RawLine, acct: string): FakeIbkrLine => ({
  cOID: line.cOID, acct, conid: line.conid as number, side: line.side === 'SELL' ? 'SELL' : 'BUY', quantity: line.quantity as number,
  orderType: (line.orderType ?? 'MKT') as FakeIbkrOrderType, price: typeof line.price === 'number' ? line.price : null, tif: String(line.tif ?? 'DAY'),
});

/**
 * After `qty` of `filled` (which had `remainingBefore` open) executed: a completed order cancels the
 * group's other open orders; a partial fill cuts each other order's remaining by the same fraction
 * (equal sizes: by the quantity filled), rounded down to whole units so the group never holds more
 * than it should. An order cut to what it has already filled ends Cancelled, as a cancel shows it.
 * Returns the orders it changed.
 */
export function rebalanceGroup(filled: FakeIbkrOrder, remainingBefore: number, qty: number, others: readonly FakeIbkrOrder[]): FakeIbkrOrder[] {
  if (filled.status === 'Filled') {
    for (const o of others) o.status = 'Cancelled';
    return [...others];
  }
  const keep = (remainingBefore - qty) / remainingBefore;
  const changed: FakeIbkrOrder[] = [];
  for (const o of others) {
    const remaining = o.totalSize - o.filled;
    const left = Math.max(0, Math.floor(remaining * keep + 1e-9));
    if (left >= remaining) continue;
    o.totalSize = o.filled + left;
    if (left === 0) o.status = 'Cancelled';
    changed.push(o);
  }
  return changed;
}
