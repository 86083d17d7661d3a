-- Control plane: limits and trading states as ops set them (one current row per scope and target),
-- the audit trail of every change, and hashed ops API tokens. The compacted `control` topic carries
-- the same values to every processor; `topic_offset` is the offset of the record that carries a row's
-- value, so the mirror (streams/control/sync.ts) can tell a newer record on the topic from an older one.

CREATE TABLE control_limits (
  scope        text NOT NULL CHECK (scope IN ('DESK', 'ACCOUNT', 'STRATEGY', 'SYMBOL')),
  target       text NOT NULL,
  -- The LIMITS payload exactly as published (DESK: every field; others: the overridden ones).
  limits       jsonb NOT NULL,
  control_id   text NOT NULL,
  topic_offset bigint,
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, target)
);

CREATE TABLE control_states (
  scope        text NOT NULL CHECK (scope IN ('DESK', 'ACCOUNT', 'STRATEGY', 'VENUE', 'SYMBOL')),
  target       text NOT NULL,
  state        text NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
  reason       text,
  control_id   text NOT NULL,
  topic_offset bigint,
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, target)
);

-- Who changed what, when, from which value to which. Insert-only, like `executions`.
CREATE TABLE control_audit (
  audit_id   bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  -- The ops API role used; null for a change that reached the topic another way (risk gate, breaker).
  role       text,
  action     text NOT NULL,
  kind       text NOT NULL,
  scope      text NOT NULL,
  target     text NOT NULL,
  old_value  jsonb,
  new_value  jsonb,
  reason     text,
  control_id text NOT NULL
);
CREATE INDEX control_audit_target_idx ON control_audit (scope, target, audit_id);

CREATE TRIGGER control_audit_insert_only BEFORE UPDATE OR DELETE ON control_audit
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER control_audit_no_truncate BEFORE TRUNCATE ON control_audit
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Ops API tokens kept in the database: only the sha256 of the token is stored.
CREATE TABLE ops_tokens (
  name         text PRIMARY KEY,
  role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  token_sha256 bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
