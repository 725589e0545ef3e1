import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { runMigrations } from './migrate.js';
import { installFaultInjection } from './storage-health.js';

export type Db = Database.Database;

export interface OpenDbOptions {
  /** Run numbered migrations after opening (default true). */
  migrate?: boolean;
  readonly?: boolean;
}

/**
 * Opens the SQLite database with the pragmas every connection needs:
 * WAL so readers never block the writer, foreign keys on, and a busy timeout
 * so a CLI command running beside the service waits instead of failing.
 */
export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (opts.migrate ?? !opts.readonly) runMigrations(db);
  // Fault suite only (HJ_FAULT_DISK_FULL_FILE): a switch that makes the disk look full. No-op otherwise.
  installFaultInjection(db);
  return db;
}

/** Runs fn in an IMMEDIATE transaction (takes the write lock up front, so no upgrade deadlocks). */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
