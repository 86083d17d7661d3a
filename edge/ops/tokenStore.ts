// The ops_tokens table: ops API tokens kept in Postgres, only their sha256 stored. Beside auth.ts because
// only the ops API (the lookup) and the ops-token command (upsert, revoke) use it; the table itself is
// created by the project's migrations (streams/migrations/003_control.sql).
import type pg from 'pg';
import type { Role } from '../../streams/control/model.ts';

type Db = pg.Pool | pg.PoolClient;

/** A token from the ops_tokens table, by the sha256 of what the caller presented. */
export async function findToken(db: Db, digest: Buffer): Promise<{ name: string; role: Role } | null> {
  const { rows } = await db.query<{ name: string; role: Role }>(
    'SELECT name, role FROM ops_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL', [digest],
  );
  return rows[0] ?? null;
}

export async function addToken(db: Db, name: string, role: Role, digest: Buffer): Promise<void> {
  await db.query(
    `INSERT INTO ops_tokens (name, role, token_sha256) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, token_sha256 = EXCLUDED.token_sha256, created_at = now(), revoked_at = NULL`,
    [name, role, digest],
  );
}

/** True when a live token of that name existed. */
export async function revokeToken(db: Db, name: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE ops_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [name]);
  return (rowCount ?? 0) > 0;
}
