-- Audit: the execution log's hash chain, the fold's effect of every event, and the views auditors and
-- the desk read. Applied by streams/runtime/db.ts inside PG_SCHEMA.

-- sha256 chained over the previous row of the same Kafka partition (schemas/hashChain.ts).
-- Nullable only because rows projected before this migration have none; `audit verify` flags them.
ALTER TABLE executions ADD COLUMN hash text;
CREATE INDEX executions_ref_idx ON executions (ref_execution_id) WHERE ref_execution_id IS NOT NULL;
CREATE INDEX executions_signal_idx ON executions (signal_id);

-- What each event did to its position, written by the projection in the same transaction as the event.
-- SQL cannot replay the fold's average cost through corrections and busts, so the fold's own numbers are
-- stored: the state after the event and the change it made. Insert-only, like the log it derives from.
CREATE TABLE position_history (
  execution_id       text PRIMARY KEY REFERENCES executions (execution_id),
  type               text NOT NULL,
  kafka_partition    integer NOT NULL,
  kafka_offset       bigint NOT NULL,
  account_id         text NOT NULL,
  strategy           text NOT NULL,
  symbol             text NOT NULL,
  venue              text NOT NULL,
  booked_at          timestamptz NOT NULL,
  quantity           double precision NOT NULL,
  avg_price          double precision NOT NULL,
  realized_pnl       double precision NOT NULL,
  fees               double precision NOT NULL,
  fill_count         integer NOT NULL,
  quantity_delta     double precision NOT NULL,
  realized_pnl_delta double precision NOT NULL,
  fees_delta         double precision NOT NULL
);
CREATE INDEX position_history_position_idx ON position_history (account_id, symbol, venue, kafka_partition, kafka_offset);
CREATE INDEX position_history_day_idx ON position_history (booked_at);
CREATE TRIGGER position_history_insert_only BEFORE UPDATE OR DELETE ON position_history
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER position_history_no_truncate BEFORE TRUNCATE ON position_history
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Realized P&L by UTC day of our hlc, with the fold's average-cost accounting. A correction or bust is
-- booked on the day it arrived, under the strategy of the order it amends: history is never rewritten.
CREATE VIEW daily_realized_pnl AS
SELECT account_id, strategy, symbol, venue,
       (booked_at AT TIME ZONE 'UTC')::date AS day,
       sum(realized_pnl_delta)                    AS realized_pnl,
       sum(fees_delta)                            AS fees,
       sum(realized_pnl_delta) - sum(fees_delta)  AS net_pnl,
       sum(quantity_delta)                        AS quantity_change,
       count(*) FILTER (WHERE type IN ('FILL', 'PARTIAL_FILL')) AS fills,
       count(*) FILTER (WHERE type IN ('CORRECTION', 'BUST'))   AS amendments
FROM position_history
GROUP BY account_id, strategy, symbol, venue, (booked_at AT TIME ZONE 'UTC')::date;

-- Each fill as it counts now: the latest correction or bust (in log order) replaces it, as in the fold.
CREATE VIEW effective_fills AS
SELECT f.execution_id, f.order_id, f.signal_id, f.account_id, f.strategy, f.symbol, f.venue, f.side,
       f.recorded_at, f.venue_time, f.hlc, a.execution_id AS amended_by, a.type AS amendment,
       CASE WHEN a.type IS NULL THEN f.last_qty WHEN a.type = 'BUST' OR a.last_qty <= 0 THEN 0 ELSE a.last_qty END AS qty,
       CASE WHEN a.type IS NULL THEN f.last_price WHEN a.type = 'BUST' OR a.last_qty <= 0 THEN NULL ELSE a.last_price END AS price,
       CASE WHEN a.type IS NULL THEN f.fee WHEN a.type = 'BUST' OR a.last_qty <= 0 THEN 0 ELSE a.fee END AS fee
FROM executions f
LEFT JOIN LATERAL (
  SELECT x.execution_id, x.type, x.last_qty, x.last_price, x.fee FROM executions x
  WHERE x.ref_execution_id = f.execution_id AND x.type IN ('CORRECTION', 'BUST')
  ORDER BY x.kafka_partition DESC, x.kafka_offset DESC LIMIT 1
) a ON true
WHERE f.type IN ('FILL', 'PARTIAL_FILL') AND f.last_qty > 0;

-- One row per order, from its execution reports: the signal it came from (`order-router audit trail`
-- shows the signal and the risk decision themselves), what was asked, what filled, when, and where it stands.
CREATE VIEW order_lifecycle AS
WITH reports AS (
  SELECT order_id,
         min(signal_id) AS signal_id, min(client_order_id) AS client_order_id, min(venue_order_id) AS venue_order_id,
         min(account_id) AS account_id, min(strategy) AS strategy, min(symbol) AS symbol, min(venue) AS venue, min(side) AS side,
         max(cum_qty + leaves_qty) FILTER (WHERE type IN ('ACK', 'PARTIAL_FILL', 'FILL')) AS ordered_qty,
         min(recorded_at) FILTER (WHERE type = 'ACK') AS first_ack_at,
         min(venue_time) FILTER (WHERE type = 'ACK') AS first_ack_venue_time,
         max(recorded_at) FILTER (WHERE type IN ('PARTIAL_FILL', 'FILL') AND last_qty > 0) AS last_fill_at,
         max(venue_time) FILTER (WHERE type IN ('PARTIAL_FILL', 'FILL') AND last_qty > 0) AS last_fill_venue_time,
         bool_or(type = 'ACK') AS acked, bool_or(type = 'REJECT') AS rejected, bool_or(type = 'CANCEL') AS canceled,
         min(reason) FILTER (WHERE type IN ('REJECT', 'CANCEL')) AS reason,
         count(*) FILTER (WHERE type IN ('CORRECTION', 'BUST')) AS amendments,
         count(*) AS reports
  FROM executions GROUP BY order_id
), fills AS (
  SELECT order_id, sum(qty) AS filled_qty, sum(qty * price) AS notional, sum(fee) AS fees, count(*) FILTER (WHERE qty > 0) AS fills
  FROM effective_fills GROUP BY order_id
)
SELECT r.order_id, r.signal_id, r.client_order_id, r.venue_order_id, r.account_id, r.strategy, r.symbol, r.venue, r.side,
       r.ordered_qty,
       coalesce(f.filled_qty, 0) AS filled_qty,
       CASE WHEN coalesce(f.filled_qty, 0) > 0 THEN f.notional / f.filled_qty END AS avg_fill_price,
       coalesce(f.fees, 0) AS fees,
       coalesce(f.fills, 0) AS fills,
       r.amendments, r.reports,
       r.first_ack_at, r.first_ack_venue_time, r.last_fill_at, r.last_fill_venue_time,
       CASE
         WHEN r.rejected THEN 'REJECTED'
         WHEN coalesce(f.filled_qty, 0) > 0 AND r.ordered_qty IS NOT NULL AND f.filled_qty >= r.ordered_qty - 1e-9 THEN 'FILLED'
         WHEN r.canceled THEN 'CANCELED'
         WHEN coalesce(f.filled_qty, 0) > 0 THEN 'PARTIALLY_FILLED'
         WHEN r.acked THEN 'ACKNOWLEDGED'
         ELSE 'PENDING'
       END AS status,
       r.reason
FROM reports r LEFT JOIN fills f USING (order_id);
