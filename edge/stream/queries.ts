// What the strategy API reads from the Postgres projection: plain, read-only SQL, always scoped by the
// authenticated strategy (or its account), never by anything the caller names alone.
import type pg from 'pg';
import type { PositionView } from './protocol.ts';

const n = (v: unknown): number => Number(v);
const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

export interface PositionRow {
  account: string; symbol: string; venue: string; quantity: number; avgPrice: number; realizedPnl: number; fees: number; fillCount: number; updatedAt: string;
}

export async function accountPositions(db: pg.Pool, account: string): Promise<PositionRow[]> {
  const { rows } = await db.query(
    `SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count, updated_at
     FROM positions WHERE account_id = $1 ORDER BY symbol, venue`, [account]);
  return rows.map((r) => ({
    account: r.account_id, symbol: r.symbol, venue: r.venue, quantity: n(r.quantity), avgPrice: n(r.avg_price),
    realizedPnl: n(r.realized_pnl), fees: n(r.fees), fillCount: n(r.fill_count), updatedAt: iso(r.updated_at)!,
  }));
}

export type OrderStatusFilter = 'open' | 'closed' | 'all';
export const OPEN_STATUSES = ['PENDING', 'ACKNOWLEDGED', 'PARTIALLY_FILLED'] as const;

export interface OrderRow {
  orderId: string; signalId: string; clientOrderId: string; venueOrderId: string | null; account: string; strategy: string;
  symbol: string; venue: string; side: string; orderedQty: number | null; filledQty: number; avgFillPrice: number | null; fees: number;
  fills: number; status: string; reason: string | null; firstAckAt: string | null; lastFillAt: string | null;
}

const orderRow = (r: Record<string, unknown>): OrderRow => ({
  orderId: r.order_id as string, signalId: r.signal_id as string, clientOrderId: r.client_order_id as string, venueOrderId: (r.venue_order_id as string | null) ?? null,
  account: r.account_id as string, strategy: r.strategy as string, symbol: r.symbol as string, venue: r.venue as string, side: r.side as string,
  orderedQty: r.ordered_qty === null ? null : n(r.ordered_qty), filledQty: n(r.filled_qty), avgFillPrice: r.avg_fill_price === null ? null : n(r.avg_fill_price),
  fees: n(r.fees), fills: n(r.fills), status: r.status as string, reason: (r.reason as string | null) ?? null,
  firstAckAt: iso(r.first_ack_at), lastFillAt: iso(r.last_fill_at),
});

const ORDER_COLUMNS = `order_id, signal_id, client_order_id, venue_order_id, account_id, strategy, symbol, venue, side, ordered_qty, filled_qty,
  avg_fill_price, fees, fills, status, reason, first_ack_at, last_fill_at`;

/** The strategy's orders as the projection knows them (an order appears with its first execution report), newest first. */
export async function strategyOrders(db: pg.Pool, strategy: string, status: OrderStatusFilter, limit: number): Promise<OrderRow[]> {
  const where = status === 'open' ? 'AND status = ANY($2)' : status === 'closed' ? 'AND NOT (status = ANY($2))' : 'AND $2::text[] IS NOT NULL';
  const { rows } = await db.query(
    `SELECT ${ORDER_COLUMNS} FROM order_lifecycle WHERE strategy = $1 ${where}
     ORDER BY first_ack_at DESC NULLS FIRST, order_id LIMIT $3`, [strategy, OPEN_STATUSES, limit]);
  return rows.map(orderRow);
}

/** One order, only if it is the strategy's: another strategy's order and a missing one look the same. */
export async function strategyOrder(db: pg.Pool, strategy: string, orderId: string): Promise<OrderRow | null> {
  const { rows } = await db.query(`SELECT ${ORDER_COLUMNS} FROM order_lifecycle WHERE order_id = $1 AND strategy = $2`, [orderId, strategy]);
  return rows.length === 0 ? null : orderRow(rows[0]);
}

export interface PositionLookup {
  /** The projection's booking of these executions of one partition, once it has passed `lastOffset` (or the wait ran out). */
  booked(partition: number, lastOffset: bigint, executionIds: readonly string[]): Promise<Map<string, PositionView>>;
}

export function createPositionLookup(o: { pool: pg.Pool; projectionGroup: string; executionsTopic: string; waitMs: number; pollMs?: number }): PositionLookup {
  async function projectedPast(partition: number, offset: bigint): Promise<boolean> {
    const { rows } = await o.pool.query(
      'SELECT next_offset::text AS next FROM consumer_offsets WHERE consumer = $1 AND topic = $2 AND kafka_partition = $3',
      [o.projectionGroup, o.executionsTopic, partition]);
    return rows.length > 0 && BigInt(rows[0].next) > offset;
  }
  return {
    async booked(partition, lastOffset, executionIds) {
      if (executionIds.length === 0) return new Map();
      const until = Date.now() + o.waitMs;
      while (!(await projectedPast(partition, lastOffset)) && Date.now() < until) await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
      const { rows } = await o.pool.query(
        `SELECT execution_id, account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count,
                quantity_delta, realized_pnl_delta, fees_delta, booked_at
         FROM position_history WHERE execution_id = ANY($1)`, [executionIds]);
      return new Map(rows.map((r) => [r.execution_id as string, {
        account: r.account_id, symbol: r.symbol, venue: r.venue, quantity: n(r.quantity), avgPrice: n(r.avg_price), realizedPnl: n(r.realized_pnl),
        fees: n(r.fees), fillCount: n(r.fill_count), quantityDelta: n(r.quantity_delta), realizedPnlDelta: n(r.realized_pnl_delta),
        feesDelta: n(r.fees_delta), bookedAt: iso(r.booked_at)!,
      }]));
    },
  };
}
