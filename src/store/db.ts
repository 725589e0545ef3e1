import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { runMigrations } from './migrate.js';
import { installFaultInjection } from './storage-health.js';
import { PgSyncDb } from './pg/sync-db.js';
import { quoteIdent, runPgMigrations } from './pg/migrate.js';
import { dialectOf, type SqlDb } from './sql.js';
import { UserError } from '../errors.js';

/** What every repository is written against: better-sqlite3, or the PostgreSQL store (src/store/sql.ts). */
export type Db = SqlDb;
/** The SQLite database itself, for what only SQLite has (file backup, page counts). */
export type SqliteDb = Database.Database;

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
export function openDb(file: string, opts: OpenDbOptions = {}): SqliteDb {
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

export interface StoreLocation {
  /** The SQLite file, used when databaseUrl is unset. */
  dbFile: string;
  /** postgres://… : the PostgreSQL store (issue 7). */
  databaseUrl?: string;
  databaseSchema?: string;
}

/** The store the configuration names: PostgreSQL when DATABASE_URL is set, the SQLite file otherwise. */
export function openStore(loc: StoreLocation, opts: OpenDbOptions = {}): Db {
  if (!loc.databaseUrl) return openDb(loc.dbFile, opts);
  const db = new PgSyncDb(loc.databaseUrl, { schema: loc.databaseSchema });
  // The connection read the schema when it opened; read it again only if migrations changed it.
  if ((opts.migrate ?? !opts.readonly) && runPgMigrations(db).length > 0) db.refreshSchemaInfo();
  return db;
}

/** Removes a PostgreSQL schema and everything in it (the demo's, a test's or a bench's database). */
export function dropPgSchema(url: string, schema: string): void {
  const db = new PgSyncDb(url, { schema });
  try {
    db.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    db.close();
  }
}

/**
 * Whether the database answers: the SQLite file is open; the PostgreSQL connection is open and
 * answers a round trip (a server restart or a dropped connection makes it false, so /readyz
 * tells the process manager to restart the instance, whose claims the others take over meanwhile).
 */
export function databaseAlive(db: Db): boolean {
  if (!db.open) return false;
  if (dialectOf(db) === 'sqlite') return true;
  try {
    db.prepare('SELECT 1').get();
    return true;
  } catch {
    return false;
  }
}

/** For what only the SQLite store can do; a clear refusal on PostgreSQL. */
export function sqliteOnly(db: Db, what: string): SqliteDb {
  if (dialectOf(db) !== 'sqlite') throw new UserError(`${what}仅适用于 SQLite 存储；PostgreSQL 请使用其自身的工具（如 pg_dump）。`);
  return db as SqliteDb;
}

/** Runs fn in an IMMEDIATE transaction (takes the write lock up front, so no upgrade deadlocks). */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
