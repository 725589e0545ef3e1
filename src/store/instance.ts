import { randomInt } from 'node:crypto';
import { dialectOf, type SqlDb } from './sql.js';

/**
 * Who is alive, for several instances on one PostgreSQL (issue 7). Each process
 * takes a random instance key and holds a session advisory lock on it for as
 * long as its connection lives. A claim (an outbox row being sent, an inbox
 * event being handled) records the key; another instance may take the work
 * over only when that lock is gone, i.e. the claimer's connection is gone
 * (killed, crashed, partitioned long enough for the server to drop it).
 * Unlike a time lease this never steals from a slow but live instance, and a
 * dead one's work is free at once rather than after a timeout.
 *
 * SQLite has one writing process and keeps its own rules (release everything at start).
 */
const keys = new WeakMap<SqlDb, number>();

/**
 * This process's key on this connection (null on SQLite). Above 2^32, so it can
 * never equal a hashtext() key (int4) of the writer or scheduler locks; below
 * 2^53, so it survives JavaScript numbers.
 */
export function instanceKey(db: SqlDb): number | null {
  if (dialectOf(db) !== 'postgres') return null;
  let key = keys.get(db);
  if (key === undefined) {
    key = 2 ** 32 + randomInt(2 ** 47) * 32 + randomInt(32);
    db.prepare('SELECT pg_advisory_lock(@key)').get({ key });
    keys.set(db, key);
  }
  return key;
}

/** The instance keys whose processes are alive: the bigint advisory locks granted in this database. */
export const LIVE_INSTANCE_KEYS_SQL = `SELECT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
