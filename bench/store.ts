/**
 * The stores a bench run measures (issue 7: "npm run bench reports the same
 * figures as for SQLite, side by side"). Both when PostgreSQL answers at
 * BENCH_PG_URL; BENCH_STORE=sqlite or =postgres picks one. A bench database
 * is named by a file path: the SQLite file itself, or a schema named after it.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { dropPgSchema, openDb, openStore, type Db } from '../src/store/db.js';
import { dialectOf } from '../src/store/sql.js';
import { pgUnreachable, schemaFor } from '../tests/helpers/store.js';

export type BenchStore = 'sqlite' | 'postgres';
export const BENCH_PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDb {
  store: BenchStore;
  file: string;
}

export const STORE_LABEL: Record<BenchStore, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

export async function benchStores(): Promise<BenchStore[]> {
  const pick = process.env.BENCH_STORE;
  if (pick === 'sqlite' || pick === 'postgres') return [pick];
  const why = await pgUnreachable(BENCH_PG_URL);
  if (why === null) return ['sqlite', 'postgres'];
  console.log(`(PostgreSQL at ${BENCH_PG_URL} not reachable: ${why}; SQLite only)`);
  return ['sqlite'];
}

export function benchSchema(file: string): string {
  return schemaFor(file, 'hjb_');
}

/** Opens the bench database; fresh drops whatever a previous run left there first. */
export function openBenchDb(b: BenchDb, opts: { fresh?: boolean } = {}): Db {
  if (opts.fresh) dropBenchDb(b);
  if (b.store === 'sqlite') return openDb(b.file);
  return openStore({ dbFile: b.file, databaseUrl: BENCH_PG_URL, databaseSchema: benchSchema(b.file) });
}

export function dropBenchDb(b: BenchDb): void {
  if (b.store === 'sqlite') {
    for (const x of ['', '-wal', '-shm']) rmSync(b.file + x, { force: true });
    return;
  }
  dropPgSchema(BENCH_PG_URL, benchSchema(b.file));
}

/**
 * PostgreSQL: planner statistics after a bulk load, as autovacuum gathers within a minute of one (and as
 * db migrate-to-postgres does); measuring before that would time blind plans. Nothing to do on SQLite.
 */
export function analyzeAfterLoad(db: Db): void {
  if (dialectOf(db) !== 'postgres') return;
  for (const t of db.prepare(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`).pluck().all() as string[]) db.exec(`ANALYZE "${t}"`);
}

/** The service's environment for a data dir on this store. */
export function benchStoreEnv(store: BenchStore, dataDir: string): Record<string, string> {
  return store === 'postgres' ? { DATABASE_URL: BENCH_PG_URL, DATABASE_SCHEMA: benchSchema(resolve(dataDir, 'huanjie.db')) } : {};
}

/** Figures each bench hands back for the side-by-side table at the end of the run. */
export type SideBySide = { measure: string; target: string; values: Partial<Record<BenchStore, string>> }[];

export function mergeSideBySide(into: SideBySide, store: BenchStore, rows: { measure: string; target: string; value: string }[]): void {
  for (const r of rows) {
    let row = into.find((x) => x.measure === r.measure);
    if (!row) into.push((row = { measure: r.measure, target: r.target, values: {} }));
    row.values[store] = r.value;
  }
}
