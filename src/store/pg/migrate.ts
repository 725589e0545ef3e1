import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SchemaTooNewError, type MigrateOptions } from '../migrate.js';
import type { PgSyncDb } from './sync-db.js';

/**
 * The PostgreSQL twin of src/store/migrate.ts (issue 7): numbered migrations in
 * ./migrations/, translations of the SQLite ones, applied in order into one schema and
 * recorded in that schema's schema_migrations table. Idempotent: applied versions are
 * skipped; the pending ones run in one transaction, under an advisory lock on the
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
 * All pending migrations run in one transaction, under an advisory lock on the schema: an
 * upgrade is applied whole or not at all, and two processes starting at once apply it once.
 * A schema recording a version newer than this build knows is refused (SchemaTooNewError).
 * Returns the versions applied now.
 */
export function runPgMigrations(db: PgSyncDb, opts: MigrateOptions = {}): number[] {
  const s = quoteIdent(db.schema);
  const all = listPgMigrations();
  const known = Math.max(0, ...all.map((m) => m.version));
  db.execute('BEGIN', []);
  try {
    db.execute('SELECT pg_advisory_xact_lock(hashtext($1))', [`huanjie-migrate:${db.schema}`]);
    db.execute(`CREATE SCHEMA IF NOT EXISTS ${s}`, []);
    db.execute(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`, []);
    const done = new Set(db.execute('SELECT version FROM schema_migrations', []).rows.map((r) => Number(r.version)));
    const have = Math.max(0, ...done);
    if (have > known) throw new SchemaTooNewError(have, known);
    const pending = all.filter((m) => !done.has(m.version));
    if (pending.length && have > 0) {
      // The pre-upgrade backup runs on its own connection (pg_dump), while this one holds the lock.
      opts.beforeUpgrade?.({ from: have, to: pending[pending.length - 1]!.version, versions: pending.map((m) => m.version) });
    }
    for (const m of pending) {
      db.execute(m.sql, []);
      db.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    db.execute('COMMIT', []);
    return pending.map((m) => m.version);
  } catch (e) {
    try {
      db.execute('ROLLBACK', []);
    } catch {
      // the connection is gone: the server rolls back on its own
    }
    throw e;
  }
}
