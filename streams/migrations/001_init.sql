-- Foundation tables. Applied by streams/runtime/db.ts inside the schema named by PG_SCHEMA.

-- Edge de-duplication: one row per idempotency id; `produced` turns true once Kafka acknowledged it.
CREATE TABLE edge_signals (
  signal_id   text PRIMARY KEY,
  account_id  text NOT NULL,
  strategy    text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  produced    boolean NOT NULL DEFAULT false
);

-- The execution log as the projection saw it: insert-only.
CREATE TABLE executions (
  execution_id     text PRIMARY KEY,
  kafka_partition  integer NOT NULL,
  kafka_offset     bigint NOT NULL,
  type             text NOT NULL,
  order_id         text NOT NULL,
  client_order_id  text NOT NULL,
  venue_order_id   text,
  venue_trade_id   text,
  signal_id        text NOT NULL,
  account_id       text NOT NULL,
  strategy         text NOT NULL,
  symbol           text NOT NULL,
  venue            text NOT NULL,
  side             text NOT NULL,
  last_qty         double precision NOT NULL,
  last_price       double precision NOT NULL,
  cum_qty          double precision NOT NULL,
  leaves_qty       double precision NOT NULL,
  fee              double precision NOT NULL,
  ref_execution_id text,
  reason           text,
  venue_time       timestamptz,
  recorded_at      timestamptz NOT NULL,
  hlc              bigint NOT NULL,
  UNIQUE (kafka_partition, kafka_offset)
);
CREATE INDEX executions_position_idx ON executions (account_id, symbol, venue, kafka_partition, kafka_offset);
CREATE INDEX executions_order_idx ON executions (order_id);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is insert-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER executions_insert_only BEFORE UPDATE OR DELETE ON executions
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER executions_no_truncate BEFORE TRUNCATE ON executions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The fold of `executions`, one row per account, symbol and venue.
CREATE TABLE positions (
  account_id   text NOT NULL,
  symbol       text NOT NULL,
  venue        text NOT NULL,
  quantity     double precision NOT NULL,
  avg_price    double precision NOT NULL,
  realized_pnl double precision NOT NULL,
  fees         double precision NOT NULL,
  fill_count   integer NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (account_id, symbol, venue)
);

-- Offsets of consumers whose output lives in Postgres: committed in the same SQL transaction.
CREATE TABLE consumer_offsets (
  consumer        text NOT NULL,
  topic           text NOT NULL,
  kafka_partition integer NOT NULL,
  next_offset     bigint NOT NULL,
  PRIMARY KEY (consumer, topic, kafka_partition)
);
