-- cancelOnHalt per scope: whether a halt of that scope also cancels its resting orders (default off:
-- a halt keeps protective orders working). Changes are audited in control_audit (kind CANCEL_ON_HALT).
CREATE TABLE cancel_on_halt (
  scope      text NOT NULL CHECK (scope IN ('DESK', 'ACCOUNT', 'STRATEGY', 'VENUE', 'SYMBOL')),
  target     text NOT NULL,
  enabled    boolean NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, target)
);
