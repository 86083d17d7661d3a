// Postgres side of shadow routing: the simulated fill of each twin, and the outcomes the report
// compares (twins from shadow_fills; their live orders from the projected `executions`).
import type pg from 'pg';
import type { Side } from '../../schemas/types.ts';
import type { OrderOutcome } from './report.ts';

export interface ShadowFillRow {
  shadowOrderId: string; liveOrderId: string; liveVenue: string; liveQuantity: number; venue: string; symbol: string; side: Side;
  quantity: number; filledQty: number; fillPrice: number | null; arrivalMid: number | null;
  estimatedBps: number | null; liveEstimatedBps: number | null; feeBps: number | null;
}

/** Idempotent: a twin read again (a restarted tail) keeps its first simulated fill. */
export async function insertShadowFill(db: pg.Pool, r: ShadowFillRow): Promise<void> {
  await db.query(
    `INSERT INTO shadow_fills (shadow_order_id, live_order_id, live_venue, live_quantity, venue, symbol, side, quantity, filled_qty, fill_price,
       arrival_mid, estimated_bps, live_estimated_bps, fee_bps)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (shadow_order_id) DO NOTHING`,
    [r.shadowOrderId, r.liveOrderId, r.liveVenue, r.liveQuantity, r.venue, r.symbol, r.side, r.quantity, r.filledQty, r.fillPrice,
      r.arrivalMid, r.estimatedBps, r.liveEstimatedBps, r.feeBps],
  );
}

/** Every twin, and once each, the live order it shadows with its fills so far. */
export async function loadOutcomes(db: pg.Pool): Promise<OrderOutcome[]> {
  const { rows: shadows } = await db.query<Record<string, any>>('SELECT * FROM shadow_fills ORDER BY shadow_order_id');
  const { rows: lives } = await db.query<Record<string, any>>(
    `WITH live AS (
       SELECT DISTINCT ON (live_order_id) live_order_id, live_venue, live_quantity, symbol, side, arrival_mid, live_estimated_bps
       FROM shadow_fills ORDER BY live_order_id)
     SELECT l.*, coalesce(sum(e.last_qty), 0) AS filled, sum(e.last_qty * e.last_price) AS notional, coalesce(sum(e.fee), 0) AS fee
     FROM live l LEFT JOIN executions e ON e.order_id = l.live_order_id AND e.type IN ('FILL', 'PARTIAL_FILL')
     GROUP BY l.live_order_id, l.live_venue, l.live_quantity, l.symbol, l.side, l.arrival_mid, l.live_estimated_bps`,
  );
  const out: OrderOutcome[] = [];
  for (const l of lives) {
    const filled = Number(l.filled);
    const notional = l.notional === null ? 0 : Number(l.notional);
    out.push({
      book: 'live', venue: l.live_venue, symbol: l.symbol, side: l.side, quantity: Number(l.live_quantity), filledQty: filled,
      avgPrice: filled > 0 ? notional / filled : null, arrivalMid: l.arrival_mid, feeBps: notional > 0 ? (Number(l.fee) / notional) * 1e4 : 0,
      estimatedBps: l.live_estimated_bps,
    });
  }
  for (const s of shadows) {
    out.push({
      book: 'shadow', venue: s.venue, symbol: s.symbol, side: s.side, quantity: s.quantity, filledQty: s.filled_qty, avgPrice: s.fill_price,
      arrivalMid: s.arrival_mid, feeBps: s.fee_bps ?? 0, estimatedBps: s.estimated_bps,
    });
  }
  return out;
}
