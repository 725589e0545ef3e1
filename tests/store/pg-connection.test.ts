import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseAlive, type Db } from '../../src/store/db.js';
import { openTestDb, onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

// The PostgreSQL connection itself: only that store has one to lose.
describe.skipIf(!onPostgres)('PostgreSQL connection', () => {
  const fresh = (): Db => openTestDb(join(tempDir(), 'c.db'));

  it('is reported dead once the server drops it, and every statement then fails with a PgError', () => {
    const db = fresh();
    const other = fresh();
    try {
      expect(databaseAlive(db)).toBe(true);
      const pid = (db.prepare('SELECT pg_backend_pid() AS pid').get() as { pid: number }).pid;
      other.prepare('SELECT pg_terminate_backend(@pid)').get({ pid });
      expect(databaseAlive(db)).toBe(false);
      expect(() => db.prepare('SELECT count(*) AS n FROM outbox').get()).toThrow(expect.objectContaining({ name: 'PgError' }) as Error);
      expect(databaseAlive(other)).toBe(true);
    } finally {
      db.close();
      other.close();
    }
  });

  it('plans prepared statements for their values: no generic plan cached from the time a table was empty', () => {
    const db = fresh();
    try {
      expect(db.prepare('SHOW plan_cache_mode').pluck().get()).toBe('force_custom_plan');
    } finally {
      db.close();
    }
  });

  it('prepares one server-side statement per distinct SQL, however often the code prepares it', () => {
    const db = fresh();
    try {
      const count = () => (db.prepare(`SELECT count(*) AS n FROM pg_prepared_statements`).get() as { n: number }).n;
      const before = count();
      for (let i = 0; i < 50; i++) db.prepare('SELECT 1 AS x WHERE 1 = ?').get(1);
      expect(count()).toBe(before + 1); // the loop's statement (the counting one was already there)
      expect(databaseAlive(db)).toBe(true);
    } finally {
      db.close();
    }
  });
});
