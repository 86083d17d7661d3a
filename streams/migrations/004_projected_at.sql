-- When the projection wrote each execution: the last hop of the measured path (npm run bench) and
-- the projection's lag for operators. Set by the server inside the projecting transaction.
ALTER TABLE executions ADD COLUMN projected_at timestamptz NOT NULL DEFAULT clock_timestamp();
