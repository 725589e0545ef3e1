import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { PgSyncDb } from './sync-db.js';

/**
 * The PostgreSQL twin of src/store/migrate.ts (issue 7): numbered migrations in
 * ./migrations/, translations of the SQLite ones, applied in order into one schema and
 * recorded in that schema's schema_migrations table. Idempotent: applied versions are
 * skipped; each migration runs in its own transaction, under an advisory lock on the
 * schema, so two processes migrating at once apply each version once.
 */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const NAME = /^(\d{3})-[a-z0-9-]+\.sql$/;

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export function listPgMigrations(dir = MIGRATIONS_DIR): PgMigration[] {
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort()
    .map((f) => ({ version: Number(NAME.exec(f)![1]), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** A schema name as a quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the schema if needed and applies every migration newer than its recorded versions, on
 * the service's own (synchronous) connection; the migrate-to-postgres command uses it too.
 * Returns the versions applied now.
 */
export function runPgMigrations(db: PgSyncDb): number[] {
  const s = quoteIdent(db.schema);
  const applied: number[] = [];
  for (const m of listPgMigrations()) {
    db.execute('BEGIN', []);
    try {
      db.execute('SELECT pg_advisory_xact_lock(hashtext($1))', [`huanjie-migrate:${db.schema}`]);
      db.execute(`CREATE SCHEMA IF NOT EXISTS ${s}`, []);
      db.execute(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`, []);
      if (db.execute('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]).rows.length === 0) {
        db.execute(m.sql, []);
        db.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        applied.push(m.version);
      }
      db.execute('COMMIT', []);
    } catch (e) {
      db.execute('ROLLBACK', []);
      throw e;
    }
  }
  return applied;
}
