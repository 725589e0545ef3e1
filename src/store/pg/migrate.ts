import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type pg from 'pg';

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

/** Anything with query(): a pg.Client or a pool client (not a Pool: the transaction needs one connection). */
type Conn = Pick<pg.ClientBase, 'query'>;

/**
 * Creates the schema if needed and applies every migration newer than its recorded versions.
 * Returns the versions applied now. Leaves the connection's search_path unchanged.
 */
export async function runPgMigrations(client: Conn, schema: string, dir = MIGRATIONS_DIR): Promise<number[]> {
  const s = quoteIdent(schema);
  const lockKey = `huanjie-migrate:${schema}`;
  const applied: number[] = [];
  for (const m of listPgMigrations(dir)) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`SET LOCAL search_path TO ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.rowCount === 0) {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        applied.push(m.version);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  }
  return applied;
}
