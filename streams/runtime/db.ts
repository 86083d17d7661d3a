// Postgres: the project creates its database and schema and applies its own migrations on start.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { RuntimeEnv } from './env.ts';
import { countPgQueries } from './stats.ts';

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export type Pool = pg.Pool;

/** A pool whose connections all use PG_SCHEMA, so tests and environments can share one database. */
export function createPool(env: Pick<RuntimeEnv, 'DATABASE_URL' | 'PG_SCHEMA'>, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max, options: `-c search_path=${env.PG_SCHEMA}` });
  // A client losing its server (Postgres restart) must not crash the process: idle clients report on
  // the pool, checked-out ones on themselves; either way the next query fails and is retried.
  pool.on('error', () => {});
  pool.on('connect', (client) => { client.on('error', () => {}); });
  return countPgQueries(pool);
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Creates the database and schema if missing and applies every migration not yet applied, in order. */
export async function migrate(env: Pick<RuntimeEnv, 'DATABASE_URL' | 'PG_SCHEMA'>): Promise<void> {
  await ensureDatabase(env.DATABASE_URL);
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    // One migrator at a time per database, whatever the number of processes starting.
    await client.query('SELECT pg_advisory_lock(727001)');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(env.PG_SCHEMA)}`);
    await client.query(`SET search_path TO ${pg.escapeIdentifier(env.PG_SCHEMA)}`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const file of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
      if (done.has(file)) continue;
      await client.query('BEGIN');
      try {
        await client.query(readFileSync(join(migrationsDir, file), 'utf8'));
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(727001)').catch(() => {});
    await client.end();
  }
}
