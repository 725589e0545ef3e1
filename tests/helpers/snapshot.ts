import type { SqlDb } from '../../src/store/sql.js';

/**
 * A table's rows as one string, for "nothing changed" comparisons. Sorted here rather than
 * by rowid: PostgreSQL has no rowid, and its scan order moves with updates.
 */
export function tableSnapshot(db: SqlDb, table: string): string {
  return (db.prepare(`SELECT * FROM ${table}`).all() as unknown[])
    .map((r) => JSON.stringify(r))
    .sort()
    .join('\n');
}
