import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { asAppError, isStorageFullError, StorageFullError, UserError } from '../src/errors.js';
import { PgError } from '../src/store/pg/sync-db.js';

describe('storage-full errors', () => {
  const full = new Database.SqliteError('database or disk is full', 'SQLITE_FULL');

  it('recognises SQLite and OS "no space", also as a cause', () => {
    expect(isStorageFullError(full)).toBe(true);
    expect(isStorageFullError(Object.assign(new Error('write'), { code: 'ENOSPC' }))).toBe(true);
    expect(isStorageFullError(new Error('wrapped', { cause: full }))).toBe(true);
    expect(isStorageFullError(new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE'))).toBe(false);
    expect(isStorageFullError(new UserError('不对'))).toBe(false);
  });

  it('recognises PostgreSQL\'s disk_full (SQLSTATE 53100), not its other errors', () => {
    expect(isStorageFullError(new PgError('could not extend file', '53100', 'INSERT …'))).toBe(true);
    expect(isStorageFullError(new PgError('duplicate key value', '23505', 'INSERT …'))).toBe(false);
  });

  it('asAppError will not turn a full disk into an answer: it is rethrown for the intake to keep the event', () => {
    expect(() => asAppError(full)).toThrow(StorageFullError);
    const e = new StorageFullError();
    expect(() => asAppError(e)).toThrow(e);
    expect(e.userMessage).toMatch(/^存储空间已满/);
    expect(asAppError(new Error('boom')).code).toBe('internal');
  });
});
