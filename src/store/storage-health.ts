import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, SqliteDb } from './db.js';
import { dialectOf } from './sql.js';

/**
 * Whether the database's disk has room, per open database. Set by whoever
 * sees a write fail for lack of space (SQLITE_FULL, ENOSPC); cleared only by
 * `probe()`, when the file system has at least MIN_FREE_BYTES free again. While
 * it is set the service refuses new events (Lark redelivers them), /readyz
 * answers 503, and events already accepted wait to be run again.
 */
export const MIN_FREE_BYTES = 1024 * 1024;

export interface StorageHealth {
  readonly full: boolean;
  readonly since: number | null;
  readonly lastError: string | null;
  markFull(cause: unknown): void;
  /** While full: is there room again? Clears the flag when there is. */
  probe(): boolean;
}

const registry = new WeakMap<Db, StorageHealth>();

export function storageHealth(db: Db): StorageHealth {
  let h = registry.get(db);
  if (!h) registry.set(db, (h = createHealth(db)));
  return h;
}

function createHealth(db: Db): StorageHealth {
  let full = false;
  let since: number | null = null;
  let lastError: string | null = null;
  return {
    get full() {
      return full;
    },
    get since() {
      return since;
    },
    get lastError() {
      return lastError;
    },
    markFull(cause) {
      lastError = cause instanceof Error ? cause.message : String(cause);
      if (full) return;
      full = true;
      since = Date.now();
    },
    probe() {
      if (!full) return true;
      if (injectedFull(db) || freeBytes(db) < MIN_FREE_BYTES) return false;
      full = false;
      since = null;
      return true;
    },
  };
}

function freeBytes(store: Db): number {
  // PostgreSQL's disk is the server's: its own errors say when it is full.
  if (dialectOf(store) !== 'sqlite') return Infinity;
  const db = store as SqliteDb;
  if (db.memory) return Infinity;
  try {
    const s = statfsSync(dirname(db.name));
    return s.bavail * s.bsize;
  } catch {
    // No statfs here: let the next write tell.
    return Infinity;
  }
}

// ---------------------------------------------------------------------------
// Failure injection, for the fault suite on machines where a size-limited
// file system cannot be mounted (docs/faults.md). Active only when the
// environment names a switch file: HJ_FAULT_DISK_FULL_FILE=/path. While that
// file exists, the database may not grow (PRAGMA max_page_count = its current
// size, so SQLite itself answers SQLITE_FULL) and the probe sees no free space.

const FAULT_ENV = 'HJ_FAULT_DISK_FULL_FILE';
const injected = new WeakMap<object, { on: boolean; normalMax: number }>();

function injectedFull(db: Db): boolean {
  return injected.get(db)?.on ?? false;
}

/** Called by openDb: does nothing unless HJ_FAULT_DISK_FULL_FILE is set. */
export function installFaultInjection(db: SqliteDb, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[FAULT_ENV];
  if (!file || db.readonly || db.memory) return;
  const state = { on: false, normalMax: db.pragma('max_page_count', { simple: true }) as number };
  injected.set(db, state);
  const apply = () => {
    if (!db.open) return clearInterval(timer);
    const on = existsSync(file);
    if (on === state.on) return;
    state.on = on;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${on ? pages : state.normalMax}`);
  };
  const timer = setInterval(apply, 100);
  timer.unref();
  apply();
}
