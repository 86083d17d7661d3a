-- The router's cost model as data: one current document per scope (DESK '*', VENUE <name>), exactly
-- the COST_MODEL payload published on `control` (validated by the decide config's zod schemas).
-- Every change also writes a row to the insert-only `control_audit` (kind COST_MODEL).
-- Shadow fills: twins of live orders simulated against the same quotes, kept out of `executions` so
-- they never reach positions or P&L.

CREATE TABLE cost_models (
  scope        text NOT NULL CHECK (scope IN ('DESK', 'VENUE')),
  target       text NOT NULL,
  model        jsonb NOT NULL,
  control_id   text NOT NULL,
  topic_offset bigint,
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, target)
);

CREATE TABLE shadow_fills (
  shadow_order_id text PRIMARY KEY,
  live_order_id   text NOT NULL,
  live_venue      text NOT NULL,
  -- The live order's size: the twin's may differ where the shadow venue's lot does.
  live_quantity   double precision NOT NULL,
  venue           text NOT NULL,
  symbol          text NOT NULL,
  side            text NOT NULL,
  quantity        double precision NOT NULL,
  filled_qty      double precision NOT NULL,
  fill_price      double precision,
  -- The live decision's arrival mid: both books are measured against the same price.
  arrival_mid     double precision,
  -- The model's expected cost (bps) for the shadow venue and for the live venue, and the model's fee.
  estimated_bps      double precision,
  live_estimated_bps double precision,
  fee_bps            double precision,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shadow_fills_live_idx ON shadow_fills (live_order_id);
