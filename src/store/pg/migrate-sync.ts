import { listPgMigrations, quoteIdent } from './migrate.js';
import type { PgSyncDb } from './sync-db.js';

/**
 * runPgMigrations for the service's own connection (the synchronous store):
 * the same migrations, the same schema_migrations record, the same advisory
 * lock, so instances starting together apply each version once.
 */
export function runPgMigrationsSync(db: PgSyncDb): number[] {
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
