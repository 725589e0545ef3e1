import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { listMigrations, runMigrations } from '../../src/store/migrate.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

// SQLite's migration runner on a SQLite file (pragmas, sqlite_master); PostgreSQL's is tests/store/pg-migrate.test.ts.
describe.skipIf(onPostgres)('migrations', () => {
  it('migrates an empty database from scratch, once, with WAL and foreign keys on', () => {
    const db = openDb(join(tempDir(), 'm.db'));
    const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    expect(versions).toEqual(listMigrations().map((m) => m.version));
    expect(versions[0]).toBe(1);
    expect(runMigrations(db)).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['received_events', 'outbox', 'audit_log']));
    db.close();
  });

  it('numbers migrations uniquely and in order', () => {
    const v = listMigrations().map((m) => m.version);
    expect(new Set(v).size).toBe(v.length);
    expect([...v].sort((a, b) => a - b)).toEqual(v);
  });
});
