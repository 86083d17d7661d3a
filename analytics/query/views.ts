// The DuckDB views quants query. Pure SQL text over the Parquet files; the same statements work in a
// plain DuckDB shell (see the README section in the report). Days are UTC days of our hlc.
import { DATASETS, emptySelect, type Dataset } from '../columns.ts';
import { sqlString } from '../sql.ts';

export const globFor = (root: string, d: Dataset): string => `${root.replace(/\/+$/, '')}/${d.name}/*/*.parquet`;

/**
 * A raw dataset view. Files never overlap except for the moment a compaction has published its merged
 * file and not yet removed the small ones it replaces (or a crash in between, until the sink restarts):
 * a file whose offset range another file of the same folder and partition contains is left out, so no
 * row is counted twice. Decided per file from the names, not per row: a per-row de-duplication cost
 * more than the P&L query itself.
 */
export function datasetView(root: string, d: Dataset, hasFiles: boolean): string {
  if (!hasFiles) return `CREATE OR REPLACE VIEW ${d.view} AS ${emptySelect(d)}`;
  const glob = sqlString(globFor(root, d));
  return `CREATE OR REPLACE VIEW ${d.view} AS
    SELECT * EXCLUDE (filename)
    FROM read_parquet(${glob}, hive_partitioning = true, union_by_name = true, hive_types = {'date': DATE}, filename = true)
    WHERE filename NOT IN (
      WITH f AS (
        SELECT file, parse_dirname(file) AS dir,
               regexp_extract(parse_filename(file), '^(\\d+)-(\\d+)-(\\d+)\\.parquet$', ['p', 'a', 'b']) AS r
        FROM glob(${glob}))
      SELECT x.file FROM f x JOIN f y ON x.dir = y.dir AND x.r.p = y.r.p AND x.file <> y.file
        AND TRY_CAST(y.r.a AS BIGINT) <= TRY_CAST(x.r.a AS BIGINT) AND TRY_CAST(x.r.b AS BIGINT) <= TRY_CAST(y.r.b AS BIGINT))`;
}

const SIGN = `CASE WHEN e.side = 'BUY' THEN 1 ELSE -1 END`;
const IS_FILL = `e.type IN ('FILL', 'PARTIAL_FILL') AND e.last_qty > 0`;

/**
 * The P&L sums over pnl_rows, for any grouping. The *_cost / *_notional pairs give a quantity-weighted
 * slippage (bps = cost / notional × 1e4) at whatever level they are summed.
 */
export const PNL_SUMS = `count(*) FILTER (WHERE is_fill) AS fills,
   coalesce(sum(q) FILTER (WHERE is_fill), 0) AS qty,
   coalesce(sum(q * px) FILTER (WHERE is_fill), 0) AS notional,
   sum(pnl_realized) AS realized_pnl,
   sum(pnl_fees) AS fees,
   sum(pnl_realized) - sum(pnl_fees) AS net_pnl,
   sum(sgn * (px - sp) * q) FILTER (WHERE is_fill AND sp > 0) AS signal_cost,
   sum(sp * q) FILTER (WHERE is_fill AND sp > 0) AS signal_notional,
   sum(sgn * (px - am) * q) FILTER (WHERE is_fill AND am > 0) AS arrival_cost,
   sum(am * q) FILTER (WHERE is_fill AND am > 0) AS arrival_notional`;

/** Derived views, in dependency order. */
export const DERIVED_VIEWS: readonly string[] = [
  // Every fill with its order's benchmarks. Slippage is signed so that positive is a cost: paying above
  // the benchmark on a buy, receiving below it on a sell (implementation shortfall, bps).
  `CREATE OR REPLACE VIEW fills AS
   SELECT e.date AS day, e.account, e.strategy, e.symbol, e.venue, e.side, e.type, e.execution_id, e.order_id,
          e.last_qty AS qty, e.last_price AS price, e.last_qty * e.last_price AS notional, e.fee,
          e.recorded_at, e.venue_time, e.hlc, o.signal_price, o.arrival_mid, o.created_at AS order_created_at,
          (e.hlc - o.hlc) / 1000.0 AS order_to_fill_ms,
          ${SIGN} * (e.last_price - o.signal_price) / o.signal_price * 1e4 AS slippage_signal_bps,
          ${SIGN} * (e.last_price - o.arrival_mid) / o.arrival_mid * 1e4 AS slippage_arrival_bps
   FROM executions e LEFT JOIN orders o ON o.order_id = e.order_id
   WHERE ${IS_FILL}`,

  // One row per execution with what P&L needs. Realized P&L and fees are the position fold's own changes
  // (pnl_realized, pnl_fees), so a correction counts on the day and strategy it arrived.
  `CREATE OR REPLACE VIEW pnl_rows AS
   SELECT e.date AS day, e.account, e.strategy, e.symbol, e.venue, e.pnl_realized, e.pnl_fees,
          ${IS_FILL} AS is_fill, ${SIGN} AS sgn, e.last_qty AS q, e.last_price AS px,
          o.signal_price AS sp, o.arrival_mid AS am
   FROM executions e LEFT JOIN orders o ON o.order_id = e.order_id`,

  // P&L and costs per account, strategy, symbol, venue and day: the pnl command's sums over pnl_rows.
  `CREATE OR REPLACE VIEW pnl_daily AS
   SELECT day, account, strategy, symbol, venue, ${PNL_SUMS} FROM pnl_rows GROUP BY ALL`,

  // Marks: the last fill price per symbol, any venue (the `quotes` view holds each venue's bids and asks).
  `CREATE OR REPLACE VIEW marks AS
   SELECT e.symbol, max_by(e.last_price, e.hlc) AS mark, max(e.recorded_at) AS marked_at
   FROM executions e WHERE ${IS_FILL} GROUP BY e.symbol`,

  // The position per account, symbol and venue as the fold left it, and its unrealized P&L at the mark.
  `CREATE OR REPLACE VIEW positions AS
   WITH p AS (
     SELECT account, symbol, venue,
            max_by(position_qty, kafka_offset) AS quantity, max_by(position_avg_price, kafka_offset) AS avg_price,
            sum(pnl_realized) AS realized_pnl, sum(pnl_fees) AS fees
     FROM executions WHERE position_qty IS NOT NULL GROUP BY ALL)
   SELECT p.*, m.mark, m.marked_at,
          CASE WHEN p.quantity = 0 THEN 0 ELSE p.quantity * (m.mark - p.avg_price) END AS unrealized_pnl
   FROM p LEFT JOIN marks m USING (symbol)`,

  // One row per order: what was asked, what came back, how fast (hlc differences, ms).
  `CREATE OR REPLACE VIEW order_outcomes AS
   WITH x AS (
     SELECT e.order_id,
            coalesce(sum(e.last_qty) FILTER (WHERE ${IS_FILL}), 0) AS filled_qty,
            sum(e.last_qty * e.last_price) FILTER (WHERE ${IS_FILL}) AS filled_notional,
            min(e.hlc) FILTER (WHERE e.type = 'ACK') AS ack_hlc,
            min(e.hlc) FILTER (WHERE ${IS_FILL}) AS fill_hlc,
            bool_or(e.type = 'REJECT') AS rejected, bool_or(e.type = 'CANCEL') AS cancelled
     FROM executions e GROUP BY e.order_id)
   SELECT o.date AS day, o.order_id, o.account, o.strategy, o.symbol, o.venue, o.side, o.order_type, o.quantity,
          o.signal_price, o.arrival_mid, o.created_at,
          coalesce(x.filled_qty, 0) AS filled_qty, x.filled_notional / nullif(x.filled_qty, 0) AS avg_fill_price,
          (x.ack_hlc - o.hlc) / 1000.0 AS ack_ms, (x.fill_hlc - o.hlc) / 1000.0 AS first_fill_ms,
          coalesce(x.rejected, false) AS rejected, coalesce(x.cancelled, false) AS cancelled
   FROM orders o LEFT JOIN x ON x.order_id = o.order_id`,

  // Venue fill quality per venue, symbol and day.
  `CREATE OR REPLACE VIEW venue_quality AS
   SELECT day, venue, symbol, count(*) AS orders,
          count(*) FILTER (WHERE filled_qty > 0) AS filled_orders,
          sum(filled_qty) / nullif(sum(quantity), 0) AS fill_rate,
          count(*) FILTER (WHERE rejected) AS rejects,
          avg(ack_ms) AS ack_ms_avg, quantile_cont(ack_ms, 0.5) AS ack_ms_p50, quantile_cont(ack_ms, 0.95) AS ack_ms_p95,
          avg(first_fill_ms) AS fill_ms_avg, quantile_cont(first_fill_ms, 0.5) AS fill_ms_p50, quantile_cont(first_fill_ms, 0.95) AS fill_ms_p95,
          sum(CASE WHEN side = 'BUY' THEN 1 ELSE -1 END * (avg_fill_price - arrival_mid) * filled_qty) FILTER (WHERE arrival_mid > 0 AND filled_qty > 0)
            / nullif(sum(arrival_mid * filled_qty) FILTER (WHERE arrival_mid > 0 AND filled_qty > 0), 0) * 1e4 AS slippage_arrival_bps
   FROM order_outcomes GROUP BY ALL`,
];

/** Every statement that defines the views, given which datasets have files yet. */
export function viewStatements(root: string, hasFiles: (d: Dataset) => boolean): string[] {
  return [...DATASETS.map((d) => datasetView(root, d, hasFiles(d))), ...DERIVED_VIEWS];
}

export const VIEW_NAMES = [...DATASETS.map((d) => d.view), 'fills', 'pnl_rows', 'pnl_daily', 'marks', 'positions', 'order_outcomes', 'venue_quality'] as const;
