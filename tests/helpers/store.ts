import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openDb, openStore, type Db, type OpenDbOptions } from '../../src/store/db.js';

/**
 * Which store the suite runs against (issue 7): `npm test` runs it on SQLite,
 * then again with HJ_TEST_STORE=postgres on the PostgreSQL at HJ_TEST_PG_URL
 * (`.ci/run` creates a fresh database for each run). Every SQLite file a test
 * would use maps to its own schema there, named from the file's path, so a
 * test, the runtime it starts and the CLI it spawns all meet in one place and
 * each temp dir is a fresh database.
 */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.HJ_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = TEST_STORE === 'postgres';
export const TEST_PG_URL = process.env.HJ_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The schema standing in for a SQLite file: named after its path, so every user of the path meets there. */
export function schemaFor(dbFile: string, prefix = 'hjt_'): string {
  return prefix + createHash('sha1').update(resolve(dbFile)).digest('hex').slice(0, 16);
}

/** Why PostgreSQL at `url` cannot be used (null when it can): what needs it skips, or fails under CI. */
export async function pgUnreachable(url = TEST_PG_URL): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The environment that points a runtime or a CLI run with this DATA_DIR at the test store. */
export function storeEnv(dataDir: string): Record<string, string> {
  if (!onPostgres) return {};
  return { DATABASE_URL: TEST_PG_URL, DATABASE_SCHEMA: schemaFor(join(dataDir, 'huanjie.db')) };
}

/** The test's database at this path: the SQLite file, or its schema in PostgreSQL. */
export function openTestDb(file: string, opts: OpenDbOptions = {}): Db {
  if (!onPostgres) return openDb(file, opts);
  return openStore({ dbFile: file, databaseUrl: TEST_PG_URL, databaseSchema: schemaFor(file) }, opts);
}
