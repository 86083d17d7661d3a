// What the dashboard reads from the Postgres projection. Plain SQL, read-only; the numbers the page
// shows for positions and P&L are these rows, so they equal the projection by construction.
import type pg from 'pg';
import type { HistoryRow, PositionRow, StrategyDayRow } from './book.ts';

const n = (v: unknown): number => Number(v);

export async function readPositions(db: pg.Pool): Promise<PositionRow[]> {
  const { rows } = await db.query(
    `SELECT account_id, symbol, venue, quantity, avg_price, realized_pnl, fees, fill_count,
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at
     FROM positions ORDER BY account_id, symbol, venue`,
  );
  return rows.map((r) => ({
    account: r.account_id, symbol: r.symbol, venue: r.venue, quantity: n(r.quantity), avgPrice: n(r.avg_price),
    realizedPnl: n(r.realized_pnl), fees: n(r.fees), fillCount: n(r.fill_count), updatedAt: r.updated_at,
  }));
}

/** Realized P&L and fees booked today per strategy, with the fold's own numbers (position_history). */
export async function readStrategyDay(db: pg.Pool, dayStart: number): Promise<StrategyDayRow[]> {
  const { rows } = await db.query(
    `SELECT strategy, min(account_id) AS account_id, sum(realized_pnl_delta) AS realized, sum(fees_delta) AS fees,
            count(*) FILTER (WHERE type IN ('FILL', 'PARTIAL_FILL')) AS fills
     FROM position_history WHERE booked_at >= $1 GROUP BY strategy ORDER BY strategy`,
    [new Date(dayStart)],
  );
  return rows.map((r) => ({ strategy: r.strategy, account: r.account_id, realizedToday: n(r.realized), feesToday: n(r.fees), fillsToday: n(r.fills) }));
}

const historyRow = (r: Record<string, unknown>): HistoryRow => ({
  account: r.account_id as string, symbol: r.symbol as string, venue: r.venue as string, at: n(r.at_ms),
  quantity: n(r.quantity), avgPrice: n(r.avg_price), realizedPnl: n(r.realized_pnl), fees: n(r.fees),
  price: r.type === 'BUST' || r.price === null ? null : n(r.price),
});

/** Each position's last state before the day, the last fill price per venue and symbol before it, and the day's events. */
export async function readDayHistory(db: pg.Pool, dayStart: number, maxEvents = 20_000): Promise<{
  start: HistoryRow[]; startMarks: Map<string, number>; events: HistoryRow[];
}> {
  const day = new Date(dayStart);
  const [start, marks, events] = await Promise.all([
    db.query(
      `SELECT DISTINCT ON (account_id, symbol, venue) account_id, symbol, venue, (extract(epoch FROM booked_at) * 1000)::float8 AS at_ms,
              quantity, avg_price, realized_pnl, fees, type, NULL::float8 AS price
       FROM position_history WHERE booked_at < $1
       ORDER BY account_id, symbol, venue, kafka_partition DESC, kafka_offset DESC`,
      [day],
    ),
    db.query(
      `SELECT DISTINCT ON (venue, symbol) venue, symbol, last_price FROM executions
       WHERE type IN ('FILL', 'PARTIAL_FILL', 'CORRECTION') AND last_price > 0 AND recorded_at < $1
       ORDER BY venue, symbol, hlc DESC`,
      [day],
    ),
    // The newest events when a day holds more than the curve needs; the curve starts at the first kept.
    db.query(
      `SELECT * FROM (
         SELECT h.account_id, h.symbol, h.venue, (extract(epoch FROM h.booked_at) * 1000)::float8 AS at_ms, h.quantity, h.avg_price,
                h.realized_pnl, h.fees, h.type, e.last_price AS price, h.kafka_partition, h.kafka_offset
         FROM position_history h JOIN executions e USING (execution_id)
         WHERE h.booked_at >= $1 ORDER BY h.booked_at DESC, h.kafka_partition DESC, h.kafka_offset DESC LIMIT $2
       ) t ORDER BY at_ms, kafka_partition, kafka_offset`,
      [day, maxEvents],
    ),
  ]);
  return {
    start: start.rows.map(historyRow),
    startMarks: new Map(marks.rows.map((r) => [`${r.venue}|${r.symbol}`, n(r.last_price)])),
    events: events.rows.map(historyRow),
  };
}

/** The projection's offsets live in Postgres (committed with its rows), not in its Kafka group. */
export async function readProjectedOffsets(db: pg.Pool, consumer: string, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await db.query('SELECT kafka_partition, next_offset::text AS next FROM consumer_offsets WHERE consumer = $1 AND topic = $2', [consumer, topic]);
  return new Map(rows.map((r) => [n(r.kafka_partition), BigInt(r.next)]));
}
