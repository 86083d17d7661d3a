// Which orders rest at a venue, from the projection's `executions` table: acknowledged (or partly
// filled), neither filled, canceled, expired nor rejected. What POST /ops/cancel and a halt with
// cancelOnHalt ask the connectors to cancel. The projection trails `executions` by its lag: an order
// acknowledged a moment ago may not be listed yet.
import type pg from 'pg';
import type { Scope } from '../../schemas/types.ts';

export interface OrderRow { orderId: string; clientOrderId: string; account: string; strategy: string; symbol: string; venue: string; side: string; status: OrderStatus }
export type OrderStatus = 'PENDING' | 'OPEN' | 'FILLED' | 'CANCELED' | 'REJECTED';

const COLUMN: Readonly<Record<Scope, string | null>> = { DESK: null, ACCOUNT: 'account_id', STRATEGY: 'strategy', VENUE: 'venue', SYMBOL: 'symbol' };

const SELECT = `
  SELECT order_id AS "orderId", min(client_order_id) AS "clientOrderId", min(account_id) AS account, min(strategy) AS strategy,
    min(symbol) AS symbol, min(venue) AS venue, min(side) AS side,
    CASE WHEN bool_or(type = 'REJECT') THEN 'REJECTED' WHEN bool_or(type = 'CANCEL') THEN 'CANCELED' WHEN bool_or(type = 'FILL') THEN 'FILLED'
         WHEN bool_or(type IN ('ACK', 'PARTIAL_FILL')) THEN 'OPEN' ELSE 'PENDING' END AS status
  FROM executions`;

/** Resting orders in a scope (`target` ignored for DESK), oldest first. */
export async function openOrders(db: pg.Pool, scope: Scope, target: string): Promise<OrderRow[]> {
  const col = COLUMN[scope];
  const { rows } = await db.query<OrderRow>(
    `SELECT "orderId", "clientOrderId", account, strategy, symbol, venue, side, status FROM (${SELECT} ${col === null ? '' : `WHERE ${col} = $1`}
       GROUP BY order_id) o WHERE status = 'OPEN' ORDER BY "orderId"`,
    col === null ? [] : [target],
  );
  return rows;
}

/** One order's state as the projection has it; null when it has no execution of that order. */
export async function orderState(db: pg.Pool, orderId: string): Promise<OrderRow | null> {
  const { rows } = await db.query<OrderRow>(`${SELECT} WHERE order_id = $1 GROUP BY order_id`, [orderId]);
  return rows[0] ?? null;
}
