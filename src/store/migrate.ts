import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
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

/** Applies every migration newer than the database's recorded version, each in its own transaction. */
export function runMigrations(db: Db, dir = MIGRATIONS_DIR): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const done = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((r) => (r as { version: number }).version),
  );
  const applied: number[] = [];
  const pending = listMigrations(dir).filter((m) => !done.has(m.version));
  if (!pending.length) return applied;
  // Foreign keys off while migrating (SQLite's own procedure for rebuilding a table: a DROP
  // would otherwise cascade into the rows that reference it), checked before each commit.
  // The pragma is a no-op inside a transaction, so it is set here, between them.
  const fk = Number(db.prepare('PRAGMA foreign_keys').pluck().get());
  db.exec('PRAGMA foreign_keys = OFF');
  try {
    for (const m of pending) {
      db.transaction(() => {
        db.exec(m.sql);
        const broken = db.prepare('PRAGMA foreign_key_check').all();
        if (broken.length) throw new Error(`migration ${m.name} leaves ${broken.length} broken foreign keys, e.g. ${JSON.stringify(broken[0])}`);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          Date.now(),
        );
      }).immediate();
      applied.push(m.version);
    }
  } finally {
    if (fk) db.exec('PRAGMA foreign_keys = ON');
  }
  return applied;
}
