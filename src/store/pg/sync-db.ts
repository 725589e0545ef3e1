import { createRequire } from 'node:module';
import { AppError } from '../../errors.js';
import type { AnyArgs, RunResult, SqlDb, Statement, TransactionFn } from '../sql.js';
import { quoteIdent } from './migrate.js';
import { translateSql, type TranslatedSql } from './translate.js';

/**
 * The PostgreSQL store behind the same synchronous interface as better-sqlite3
 * (src/store/sql.ts), through libpq's blocking calls (pg-native, node-postgres's
 * native binding). One connection per process, like the SQLite store: the
 * process is single-threaded, so its statements never interleave, and a
 * round trip on a local network costs 20–30 µs (measured on 127.0.0.1).
 *
 * Transactions keep SQLite's rule across instances: one writing transaction at
 * a time, taken up front (a transaction-level advisory lock, the equivalent of
 * BEGIN IMMEDIATE). Single statements (the inbox insert, the outbox claim) do
 * not take it; they rely on unique constraints and row locks.
 */

interface PqLike {
  resultErrorFields(): { sqlState?: string } | undefined;
  cmdTuples(): string;
}
interface NativeClient {
  pq: PqLike;
  connectSync(conn: string): void;
  /** Rows as arrays instead of objects (read per call). */
  arrayMode: boolean;
  querySync(text: string, values?: unknown[]): Record<string, unknown>[];
  prepareSync(name: string, text: string, n: number): void;
  executeSync(name: string, values: unknown[]): Record<string, unknown>[];
  end(): void;
}
type NativeCtor = new (opts?: { types?: { getTypeParser(oid: number, format?: string): (v: string) => unknown } }) => NativeClient;

/** A database error with PostgreSQL's SQLSTATE as `code` (23505: unique violation). */
export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly sql: string,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

/** Thrown when pg-native (an optional dependency: it builds against libpq) is missing. */
export class PgDriverMissing extends AppError {
  constructor(cause: unknown) {
    super(
      'storage',
      '未安装 PostgreSQL 驱动 pg-native（需要 libpq：apt install libpq-dev 后重新 npm install）。不设置 DATABASE_URL 即使用内置的 SQLite。',
      { cause },
    );
  }
}

const INT8 = 20;
const NUMERIC = 1700;
const BOOL = 16;

/** What SQLite would return: integers as numbers, booleans as 1/0. */
const types = {
  getTypeParser(oid: number, format?: string): (v: string) => unknown {
    if (oid === INT8 || oid === NUMERIC) return Number;
    if (oid === BOOL) return (v: string) => (v === 't' ? 1 : 0);
    return pgTypes().getTypeParser(oid, format as 'text') as (v: string) => unknown;
  },
};

/** pg's type parsers, loaded with the driver: a SQLite deployment never loads either (resident memory). */
let types_: typeof import('pg').types | undefined;
function pgTypes(): typeof import('pg').types {
  return (types_ ??= (createRequire(import.meta.url)('pg') as typeof import('pg')).types);
}

function loadNative(): NativeCtor {
  try {
    return createRequire(import.meta.url)('pg-native') as NativeCtor;
  } catch (e) {
    throw new PgDriverMissing(e);
  }
}

function toParam(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  return v;
}

/** One advisory-lock key for "the writer": every transaction of every instance takes it first. */
const WRITER_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('huanjie-writer:' || current_schema()))";

class PgStatement implements Statement {
  private plucking = false;
  private rawRows = false;
  private readonly q: TranslatedSql;
  /** The statement as sent: INSERTs into tables with an identity id also return it (lastInsertRowid). */
  private readonly text: string;
  private readonly returnsId: boolean;

  constructor(
    private readonly db: PgSyncDb,
    private readonly source: string,
  ) {
    this.q = db.translate(source);
    this.returnsId = !!this.q.insertInto && !this.q.returns && db.hasIdentity(this.q.insertInto);
    this.text = this.returnsId ? `${this.q.text} RETURNING id` : this.q.text;
  }

  pluck(toggle = true): this {
    this.plucking = toggle;
    if (toggle) this.rawRows = false;
    return this;
  }

  raw(toggle = true): this {
    this.rawRows = toggle;
    if (toggle) this.plucking = false;
    return this;
  }

  private values(args: unknown[]): unknown[] {
    const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const named = flat.length > 0 && flat[flat.length - 1] !== null && typeof flat[flat.length - 1] === 'object' && !Buffer.isBuffer(flat[flat.length - 1]) && !(flat[flat.length - 1] instanceof Uint8Array)
      ? (flat[flat.length - 1] as Record<string, unknown>)
      : undefined;
    return this.q.params.map((p) => {
      if (typeof p === 'number') return toParam(flat[p]);
      if (!named || !(p in named)) throw new RangeError(`Missing named parameter "${p}"`);
      return toParam(named[p]);
    });
  }

  private exec(args: unknown[]): { rows: Record<string, unknown>[]; changes: number } {
    // raw/pluck read columns by position: as objects, two unnamed columns (both "case") would collapse into one.
    return this.db.execute(this.text, this.values(args), this, this.plucking || this.rawRows);
  }

  /** The server-side prepared statement to execute (made on first use). */
  serverName(): string {
    return this.db.serverStatement(this.text, this.q.params.length);
  }

  private shape(row: Record<string, unknown> | undefined): unknown {
    if (!row) return undefined;
    if (this.plucking) return (row as unknown as unknown[])[0];
    return row;
  }

  run(...args: unknown[]): RunResult {
    const r = this.exec(args);
    const first = r.rows[0];
    const id = this.returnsId && first ? Number(Array.isArray(first) ? first[first.length - 1] : first.id) : 0;
    return { changes: r.changes, lastInsertRowid: id };
  }

  get(...args: unknown[]): unknown {
    return this.shape(this.exec(args).rows[0]);
  }

  all(...args: unknown[]): unknown[] {
    return this.exec(args).rows.map((r) => this.shape(r));
  }

  *iterate(...args: unknown[]): IterableIterator<unknown> {
    // libpq's synchronous calls have no cursor: the rows arrive whole, then are walked.
    for (const r of this.exec(args).rows) yield this.shape(r);
  }

  toString(): string {
    return this.source;
  }
}

/** Clients whose native handles are still closing (see endClient). */
const closing = new Set<NativeClient>();

/**
 * libpq's finish() only starts closing the socket's poll handle (uv_close), which lives inside the
 * native object; collected before the loop finishes the close, it aborts the process
 * (uv__finish_close assertion). Kept reachable until two turns of the loop later.
 */
function endClient(client: NativeClient): void {
  client.end();
  closing.add(client);
  setImmediate(() => setImmediate(() => closing.delete(client)));
}

export interface OpenPgOptions {
  schema?: string;
}

export class PgSyncDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  private readonly client: NativeClient;
  private depth = 0;
  /**
   * Server-side prepared statements by text, one per distinct statement for the connection's life:
   * code that prepares the same SQL on every request must not pile statements up on the server.
   */
  private readonly serverStatements = new Map<string, string>();
  private readonly translations = new Map<string, TranslatedSql>();
  private identityTables = new Set<string>();
  private notNullColumns = new Set<string>();
  private isOpen = true;
  readonly schema: string;

  constructor(url: string, opts: OpenPgOptions = {}) {
    const Native = loadNative();
    this.client = new Native({ types });
    this.client.connectSync(url);
    this.schema = opts.schema ?? 'public';
    // libpq prints NOTICEs ("schema … already exists, skipping") to stderr; the CLI's output must stay clean.
    // force_custom_plan: a prepared statement is planned for its values each time. PostgreSQL's default caches a
    // generic plan after five runs, and one made while a table is empty (the outbox at 9:00, just analysed)
    // scans it for every later lookup: planning a 53,592-message slot took 250 s instead of 20.
    this.client.querySync(
      `SET client_min_messages = warning; SET plan_cache_mode = force_custom_plan; SET search_path TO ${quoteIdent(this.schema)}`,
    );
    try {
      this.checkCollation();
    } catch (e) {
      endClient(this.client);
      throw e;
    }
    this.refreshSchemaInfo();
  }

  /**
   * Tables with an identity id column: INSERTs into them return the id, like SQLite's lastInsertRowid.
   * Column names that are NOT NULL wherever they occur: ORDER BY needs no NULLS clause for them (translate.ts).
   */
  refreshSchemaInfo(): void {
    this.translations.clear(); // the ORDER BY rules depend on the columns
    const rows = this.client.querySync(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'id' AND is_identity = 'YES'`,
      [this.schema],
    );
    this.identityTables = new Set(rows.map((r) => String(r.table_name)));
    const cols = this.client.querySync(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 GROUP BY column_name HAVING bool_and(is_nullable = 'NO')`,
      [this.schema],
    );
    this.notNullColumns = new Set(cols.map((r) => String(r.column_name)));
  }

  hasIdentity(table: string): boolean {
    return this.identityTables.has(table);
  }

  isNotNull(column: string): boolean {
    return this.notNullColumns.has(column);
  }

  /**
   * Text must compare and sort as in SQLite (by code point, what its BINARY collation does on UTF-8):
   * names are ordered in lists, dates compared as text. A database made with a language's collation
   * (zh_CN, en_US, ICU) would order them otherwise, so it is refused at start.
   */
  private checkCollation(): void {
    const [db] = this.client.querySync(
      `SELECT datname, datcollate, pg_encoding_to_char(encoding) AS enc, to_jsonb(d) ->> 'datlocprovider' AS provider
         FROM pg_database d WHERE datname = current_database()`,
    );
    const collate = String(db?.datcollate ?? '');
    const provider = db?.provider ?? 'c';
    if (db?.enc === 'UTF8' && provider === 'c' && /^(C|POSIX|C\.UTF-?8)$/i.test(collate)) return;
    throw new AppError(
      'storage',
      `PostgreSQL 数据库「${String(db?.datname)}」的编码/排序规则为 ${String(db?.enc)}/${collate}${provider === 'c' ? '' : `（${String(provider)}）`}，` +
        `排序与 SQLite 不一致（名称列表、日期比较都会不同）。请用 UTF8 编码、C 排序规则建库，例如：` +
        `CREATE DATABASE huanjie TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'。`,
    );
  }

  get open(): boolean {
    return this.isOpen;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(sql: string): Statement {
    return new PgStatement(this, sql);
  }

  translate(sql: string): TranslatedSql {
    let q = this.translations.get(sql);
    if (!q) this.translations.set(sql, (q = translateSql(sql, { notNull: (c) => this.isNotNull(c) })));
    return q;
  }

  serverStatement(text: string, params: number): string {
    let name = this.serverStatements.get(text);
    if (!name) {
      name = `hj_${this.serverStatements.size + 1}`;
      this.client.prepareSync(name, text, params);
      this.serverStatements.set(text, name);
    }
    return name;
  }

  /** Runs one statement; prepared server-side when it comes from a Statement (reused), plain otherwise. */
  execute(text: string, values: unknown[], stmt?: PgStatement, arrays = false): { rows: Record<string, unknown>[]; changes: number } {
    if (!this.isOpen) throw new TypeError('The database connection is not open');
    this.client.arrayMode = arrays;
    try {
      const rows = stmt ? this.client.executeSync(stmt.serverName(), values) : values.length ? this.client.querySync(text, values) : this.client.querySync(text);
      const n = Number(this.client.pq.cmdTuples());
      return { rows, changes: Number.isFinite(n) ? n : 0 };
    } catch (e) {
      const state = this.client.pq.resultErrorFields()?.sqlState;
      throw new PgError(`${(e as Error).message.trim()}\n  in: ${text.slice(0, 500)}`, state, text);
    }
  }

  exec(sql: string): this {
    this.execute(sql, []);
    return this;
  }

  transaction<F extends AnyArgs>(fn: F): TransactionFn<F> {
    const run = (...args: unknown[]): ReturnType<F> => {
      const top = this.depth === 0;
      const sp = `hj_sp_${this.depth}`;
      this.execute(top ? 'BEGIN' : `SAVEPOINT ${sp}`, []);
      if (top) this.execute(WRITER_LOCK_SQL, []);
      this.depth++;
      try {
        const out = fn(...args) as ReturnType<F>;
        this.depth--;
        this.execute(top ? 'COMMIT' : `RELEASE SAVEPOINT ${sp}`, []);
        return out;
      } catch (e) {
        this.depth--;
        try {
          this.execute(top ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${sp}`, []);
        } catch {
          // the connection is gone: the server rolls back on its own
        }
        throw e;
      }
    };
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run }) as TransactionFn<F>;
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    endClient(this.client);
  }
}
