/**
 * The one database interface every repository is written against (issue 7).
 * It is the part of better-sqlite3's API the code uses, so the SQLite store is
 * better-sqlite3 itself and the PostgreSQL store (src/store/pg/sync-db.ts)
 * implements the same calls. Both are synchronous: the domain code runs a
 * whole decision (read, decide, write) without yielding, on one connection per
 * process, which is what makes its transactions simple. See docs/postgres.md.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as their first column's value. */
  pluck(toggle?: boolean): this;
  /** Rows as arrays of values in column order. */
  raw(toggle?: boolean): this;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the same shape as better-sqlite3's own typing
type AnyArgs = (...params: any[]) => unknown;
type ArgumentTypes<F extends AnyArgs> = F extends (...args: infer A) => unknown ? A : never;

export type { AnyArgs };
export interface TransactionFn<F extends AnyArgs> {
  (...params: ArgumentTypes<F>): ReturnType<F>;
  deferred(...params: ArgumentTypes<F>): ReturnType<F>;
  immediate(...params: ArgumentTypes<F>): ReturnType<F>;
  exclusive(...params: ArgumentTypes<F>): ReturnType<F>;
}

export interface SqlDb {
  /** Absent on better-sqlite3 (which is SQLite); see dialectOf. */
  readonly dialect?: Dialect;
  readonly inTransaction: boolean;
  /** False once closed. */
  readonly open: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
  transaction<F extends AnyArgs>(fn: F): TransactionFn<F>;
  close(): unknown;
}

export function dialectOf(db: SqlDb): Dialect {
  return db.dialect ?? 'sqlite';
}
