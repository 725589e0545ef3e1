import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Db } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const NAME = /^(\d{3})-[a-z0-9-]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort()
    .map((f) => ({ version: Number(NAME.exec(f)![1]), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** The newest schema version this build knows (the SQLite and PostgreSQL migrations are numbered alike). */
export function latestSchemaVersion(dir = MIGRATIONS_DIR): number {
  return Math.max(0, ...listMigrations(dir).map((m) => m.version));
}

/**
 * The database was written by a newer version of the program (a rollback of the program without
 * restoring the pre-upgrade backup): refused before anything is read or written, since this build
 * does not know the newer tables and columns and could corrupt them.
 */
export class SchemaTooNewError extends AppError {
  constructor(
    public readonly found: number,
    public readonly known: number,
  ) {
    super(
      'storage',
      `数据库由较新版本（架构版本 ${found}）写入，当前程序只认识到 ${known}；请使用新版本程序，或恢复升级前的备份（npm run cli -- db restore <备份文件>，见 docs/deploy.md）。未做任何更改。`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/** What is about to be applied to a database that already has a schema (not a fresh one). */
export interface PendingUpgrade {
  /** The database's schema version now (max of schema_migrations). */
  from: number;
  /** The version after the pending migrations. */
  to: number;
  versions: number[];
}

export interface MigrateOptions {
  /**
   * Called before pending migrations are applied to a database that already has a schema
   * (never for a fresh one, never when nothing is pending): the service makes its pre-upgrade
   * backup here. An exception stops the upgrade with nothing changed.
   */
  beforeUpgrade?: (upgrade: PendingUpgrade) => void;
}

/**
 * Applies every migration newer than the database's recorded versions, all in one transaction:
 * an upgrade is applied whole or not at all. A database recording a version newer than this
 * build knows is refused (SchemaTooNewError).
 */
export function runMigrations(db: Db, dir = MIGRATIONS_DIR, opts: MigrateOptions = {}): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const done = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((r) => (r as { version: number }).version),
  );
  const all = listMigrations(dir);
  const known = Math.max(0, ...all.map((m) => m.version));
  const have = Math.max(0, ...done);
  if (have > known) throw new SchemaTooNewError(have, known);
  const pending = all.filter((m) => !done.has(m.version));
  if (!pending.length) return [];
  if (have > 0) opts.beforeUpgrade?.({ from: have, to: pending[pending.length - 1]!.version, versions: pending.map((m) => m.version) });
  // Foreign keys off while migrating (SQLite's own procedure for rebuilding a table: a DROP
  // would otherwise cascade into the rows that reference it), checked before the commit.
  // The pragma is a no-op inside a transaction, so it is set here, outside it.
  const fk = Number(db.prepare('PRAGMA foreign_keys').pluck().get());
  db.exec('PRAGMA foreign_keys = OFF');
  try {
    db.transaction(() => {
      for (const m of pending) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
      const broken = db.prepare('PRAGMA foreign_key_check').all();
      if (broken.length) {
        throw new Error(`migrations ${pending.map((m) => m.name).join(', ')} leave ${broken.length} broken foreign keys, e.g. ${JSON.stringify(broken[0])}`);
      }
    }).immediate();
  } finally {
    if (fk) db.exec('PRAGMA foreign_keys = ON');
  }
  return pending.map((m) => m.version);
}
