// cancelOnHalt, per scope: whether a halt of that scope also cancels its resting orders. Off unless set
// (a halt keeps protective orders, stops and take-profits, working). Kept in Postgres beside the other
// control rows, every change audited in control_audit; only the ops API's halt reads it, so it needs no
// record on `control`. Also the audit of cancels asked through the ops API.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Scope } from '../../schemas/types.ts';
import type { Role } from './model.ts';

type Db = pg.Pool | pg.PoolClient;

export interface CancelOnHaltView { scope: Scope; target: string; enabled: boolean; updatedBy: string; updatedAt: string }

/** The setting for exactly this scope and target; false when never set. */
export async function cancelOnHalt(db: Db, scope: Scope, target: string): Promise<boolean> {
  const { rows } = await db.query<{ enabled: boolean }>('SELECT enabled FROM cancel_on_halt WHERE scope = $1 AND target = $2', [scope, target]);
  return rows[0]?.enabled ?? false;
}

export async function listCancelOnHalt(db: Db): Promise<CancelOnHaltView[]> {
  const { rows } = await db.query(
    `SELECT scope, target, enabled, updated_by AS "updatedBy", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
     FROM cancel_on_halt ORDER BY scope, target`,
  );
  return rows as CancelOnHaltView[];
}

interface Who { actor: string; role: Role | null; reason: string | null }

/** Sets the flag and writes the audit row in one transaction; returns the previous value and the audit id. */
export async function setCancelOnHalt(pool: pg.Pool, scope: Scope, target: string, enabled: boolean, who: Who): Promise<{ previous: boolean; auditId: string }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ enabled: boolean }>('SELECT enabled FROM cancel_on_halt WHERE scope = $1 AND target = $2 FOR UPDATE', [scope, target]);
    const previous = rows[0]?.enabled ?? false;
    await client.query(
      `INSERT INTO cancel_on_halt (scope, target, enabled, updated_by, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (scope, target) DO UPDATE SET enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [scope, target, enabled, who.actor],
    );
    const auditId = await audit(client, { ...who, action: 'SET_CANCEL_ON_HALT', kind: 'CANCEL_ON_HALT', scope, target, oldValue: { enabled: previous }, newValue: { enabled } });
    await client.query('COMMIT');
    return { previous, auditId };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** One audit row for the cancel requests one ops call produced (the orders and request ids). */
export async function auditCancel(db: Db, scope: Scope, target: string, requested: { orderId: string; requestId: string }[], who: Who & { action: 'CANCEL' | 'CANCEL_ON_HALT' }): Promise<string> {
  return audit(db, { ...who, kind: 'CANCEL', scope, target, oldValue: null, newValue: { requested } });
}

async function audit(db: Db, e: Who & { action: string; kind: string; scope: Scope; target: string; oldValue: unknown; newValue: unknown }): Promise<string> {
  const { rows } = await db.query<{ audit_id: string }>(
    `INSERT INTO control_audit (actor, role, action, kind, scope, target, old_value, new_value, reason, control_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING audit_id::text`,
    [e.actor, e.role, e.action, e.kind, e.scope, e.target, e.oldValue === null ? null : JSON.stringify(e.oldValue), JSON.stringify(e.newValue), e.reason, `ops-${randomUUID()}`],
  );
  return rows[0].audit_id;
}
