// Postgres side of the control plane: current rows, the audit trail, and the per-key lock that
// serialises a writer with the mirror. Plain SQL over a client the caller holds in a transaction.
import type pg from 'pg';
import type { Scope } from '../../schemas/types.ts';
import type { ControlValue, ManagedKind, OpsAction, Role } from './model.ts';

type Db = pg.Pool | pg.PoolClient;

export interface CurrentRow {
  value: ControlValue;
  controlId: string;
  /** Offset of the record carrying this value; null until known. */
  topicOffset: string | null;
}

export interface AuditEntry {
  actor: string; role: Role | null; action: OpsAction; kind: ManagedKind; scope: Scope; target: string;
  oldValue: ControlValue | null; newValue: ControlValue | null; reason: string | null; controlId: string;
}

// A separate namespace from the migrator's advisory lock (727001).
const LOCK_NAMESPACE = 727003;

/** Held until the transaction ends: one writer per control key at a time (ops API, mirror, reconciler). */
export async function lockKey(client: pg.PoolClient, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, key]);
}

export async function currentRow(client: Db, kind: ManagedKind, scope: Scope, target: string): Promise<CurrentRow | null> {
  const sql = kind === 'LIMITS'
    ? 'SELECT limits AS value, control_id, topic_offset::text FROM control_limits WHERE scope = $1 AND target = $2'
    : "SELECT jsonb_build_object('state', state) AS value, control_id, topic_offset::text FROM control_states WHERE scope = $1 AND target = $2";
  const { rows } = await client.query<{ value: ControlValue; control_id: string; topic_offset: string | null }>(sql, [scope, target]);
  const r = rows[0];
  return r === undefined ? null : { value: r.value, controlId: r.control_id, topicOffset: r.topic_offset };
}

/** Sets (or with `value` null removes) the current row. */
export async function writeRow(
  client: Db, kind: ManagedKind, scope: Scope, target: string,
  row: { value: ControlValue | null; controlId: string; topicOffset: string | null; actor: string; reason: string | null },
): Promise<void> {
  const table = kind === 'LIMITS' ? 'control_limits' : 'control_states';
  if (row.value === null) {
    await client.query(`DELETE FROM ${table} WHERE scope = $1 AND target = $2`, [scope, target]);
    return;
  }
  if (kind === 'LIMITS') {
    await client.query(
      `INSERT INTO control_limits (scope, target, limits, control_id, topic_offset, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (scope, target) DO UPDATE SET limits = EXCLUDED.limits, control_id = EXCLUDED.control_id,
         topic_offset = EXCLUDED.topic_offset, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [scope, target, JSON.stringify(row.value), row.controlId, row.topicOffset, row.actor],
    );
  } else {
    await client.query(
      `INSERT INTO control_states (scope, target, state, reason, control_id, topic_offset, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (scope, target) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, control_id = EXCLUDED.control_id,
         topic_offset = EXCLUDED.topic_offset, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [scope, target, row.value.state, row.reason, row.controlId, row.topicOffset, row.actor],
    );
  }
}

/** Records which record carries the row's value, without touching who set it or when. */
export async function setCarrier(client: Db, kind: ManagedKind, scope: Scope, target: string, controlId: string, topicOffset: string): Promise<void> {
  const table = kind === 'LIMITS' ? 'control_limits' : 'control_states';
  await client.query(`UPDATE ${table} SET control_id = $3, topic_offset = $4 WHERE scope = $1 AND target = $2`, [scope, target, controlId, topicOffset]);
}

export async function insertAudit(client: Db, e: AuditEntry): Promise<string> {
  const { rows } = await client.query<{ audit_id: string }>(
    `INSERT INTO control_audit (actor, role, action, kind, scope, target, old_value, new_value, reason, control_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING audit_id::text`,
    [e.actor, e.role, e.action, e.kind, e.scope, e.target, json(e.oldValue), json(e.newValue), e.reason, e.controlId],
  );
  return rows[0].audit_id;
}

const json = (v: ControlValue | null): string | null => (v === null ? null : JSON.stringify(v));

export interface LimitsView { scope: Scope; target: string; limits: ControlValue; updatedBy: string; updatedAt: string; controlId: string }
export interface StateView { scope: Scope; target: string; state: string; reason: string | null; updatedBy: string; updatedAt: string; controlId: string }
export interface AuditView extends AuditEntry { auditId: string; at: string }

export async function listLimits(db: Db): Promise<LimitsView[]> {
  const { rows } = await db.query(
    `SELECT scope, target, limits, updated_by AS "updatedBy", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt",
       control_id AS "controlId" FROM control_limits ORDER BY scope, target`,
  );
  return rows as LimitsView[];
}

export async function listStates(db: Db): Promise<StateView[]> {
  const { rows } = await db.query(
    `SELECT scope, target, state, reason, updated_by AS "updatedBy", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt",
       control_id AS "controlId" FROM control_states ORDER BY scope, target`,
  );
  return rows as StateView[];
}

/** Newest first; `before` pages back by audit id. */
export async function listAudit(db: Db, q: { limit: number; before?: string; scope?: Scope; target?: string }): Promise<AuditView[]> {
  const { rows } = await db.query(
    `SELECT audit_id::text AS "auditId", to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, role, action, kind, scope, target,
       old_value AS "oldValue", new_value AS "newValue", reason, control_id AS "controlId"
     FROM control_audit
     WHERE ($1::bigint IS NULL OR audit_id < $1) AND ($2::text IS NULL OR scope = $2) AND ($3::text IS NULL OR target = $3)
     ORDER BY audit_id DESC LIMIT $4`,
    [q.before ?? null, q.scope ?? null, q.target ?? null, q.limit],
  );
  return rows as AuditView[];
}

export interface StoredControl { kind: ManagedKind; scope: Scope; target: string; value: ControlValue; controlId: string; reason: string | null }

/** Every current row, for the reconciler. */
export async function allRows(db: Db): Promise<StoredControl[]> {
  const { rows } = await db.query<StoredControl>(
    `SELECT 'LIMITS' AS kind, scope, target, limits AS value, control_id AS "controlId", NULL::text AS reason FROM control_limits
     UNION ALL
     SELECT 'TRADING_STATE', scope, target, jsonb_build_object('state', state), control_id, reason FROM control_states
     ORDER BY 1, 2, 3`,
  );
  return rows;
}
