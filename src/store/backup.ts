import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../errors.js';
import type { Config } from '../config.js';
import { dataDirLockHolder } from './data-dir-lock.js';
import { openStore, type Db, type SqliteDb } from './db.js';
import { latestSchemaVersion, runMigrations, type PendingUpgrade } from './migrate.js';
import { PgSyncDb } from './pg/sync-db.js';
import { quoteIdent, runPgMigrations } from './pg/migrate.js';
import { dialectOf } from './sql.js';

/**
 * Backups that restore (issue 16). A backup is a pair with one stem:
 *   huanjie-20261207-020000.db             the SQLite copy (plain SQLite: sqlite3 opens it)
 *   huanjie-20261207-020000.manifest.json  what it holds: schema version, rows per table, sha256
 * (PostgreSQL: huanjie-….pgdump, pg_dump's custom format, with the same manifest.)
 * Both are written under temporary names (….tmp-<pid>), verified, fsynced, and renamed: the
 * manifest first, the data file last — the data file appearing is the commit. A backup killed
 * midway leaves only ….tmp-<pid> files: never listed, never restored, removed by the next backup.
 */

export type BackupKind = 'scheduled' | 'manual' | 'pre-upgrade';
export type StoreKind = 'sqlite' | 'postgres';

export interface BackupManifest {
  format: 'huanjie-backup';
  format_version: 1;
  app_version: string;
  store: StoreKind;
  kind: BackupKind;
  schema_version: number;
  created_at: string;
  /** Table → row count, at the moment of the copy. */
  tables: Record<string, number>;
  /** The data file (the .db or .pgdump beside it). */
  file: string;
  bytes: number;
  sha256: string;
  /** PostgreSQL: the schema dumped. */
  pg_schema?: string;
  /** Pre-upgrade backups: the schema versions before and after the upgrade that made it. */
  upgrade?: { from: number; to: number };
}

export type BackupConfig = Pick<Config, 'dataDir' | 'dbFile' | 'databaseUrl' | 'databaseSchema' | 'tz' | 'backup'>;

/** A backup that cannot be made or restored; the message names the file and what is wrong. */
export class BackupError extends AppError {
  constructor(userMessage: string, cause?: unknown) {
    super('storage', userMessage, { cause, detail: userMessage });
    this.name = 'BackupError';
  }
}

const APP_VERSION = (() => {
  try {
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
})();

export function manifestPathFor(dataFile: string): string {
  return dataFile.replace(/\.(db|pgdump|sqlite)$/i, '') + '.manifest.json';
}

const SCHEDULED = /^huanjie-\d{8}-\d{6}(-\d+)?\.(db|pgdump)$/;
const DATA_FILE = /^huanjie-.*\.(db|pgdump)$/;
const TEMP = /\.tmp-(\d+)(-journal|-wal|-shm)?$/;

/** yyyymmdd-hhmmss in the campaign time zone. */
export function stamp(d: Date, tz: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  ) as Record<string, string>;
  return `${p.year}${p.month}${p.day}-${p.hour}${p.minute}${p.second}`;
}

/** The file name a backup of this kind gets in BACKUP_DIR (a free one: -2, -3… within one second). */
export function backupName(dir: string, kind: BackupKind, store: StoreKind, now: Date, tz: string, upgrade?: { from: number; to: number }): string {
  const v = (n: number) => `v${String(n).padStart(3, '0')}`;
  const stem =
    kind === 'scheduled' ? 'huanjie' : kind === 'manual' ? 'huanjie-manual' : `huanjie-pre-upgrade-${v(upgrade?.from ?? 0)}-to-${v(upgrade?.to ?? 0)}`;
  const ext = store === 'sqlite' ? 'db' : 'pgdump';
  const base = `${stem}-${stamp(now, tz)}`;
  for (let i = 1; ; i++) {
    const f = join(dir, `${i === 1 ? base : `${base}-${i}`}.${ext}`);
    if (!existsSync(f) && !existsSync(manifestPathFor(f))) return f;
  }
}

export interface WriteBackupOptions {
  /** Into this folder with a generated name (default BACKUP_DIR). */
  dir?: string;
  /** Exactly this file (refused if it exists). */
  file?: string;
  kind?: BackupKind;
  now?: Date;
  upgrade?: { from: number; to: number };
}

export interface BackupResult {
  file: string;
  manifestFile: string;
  manifest: BackupManifest;
  ms: number;
}

function target(config: BackupConfig, store: StoreKind, opts: WriteBackupOptions): string {
  const kind = opts.kind ?? 'manual';
  if (opts.file) {
    const f = resolve(opts.file);
    if (existsSync(f)) throw new BackupError(`目标文件已存在：${f}（为防止覆盖，请换一个文件名）`);
    if (existsSync(manifestPathFor(f))) throw new BackupError(`目标清单文件已存在：${manifestPathFor(f)}（为防止覆盖，请换一个文件名）`);
    mkdirSync(dirname(f), { recursive: true });
    return f;
  }
  const dir = resolve(opts.dir ?? config.backup.dir);
  mkdirSync(dir, { recursive: true });
  cleanupTemp(dir);
  return backupName(dir, kind, store, opts.now ?? new Date(), config.tz, opts.upgrade);
}

/** Leftovers of killed backups (….tmp-<pid> whose process is gone), and manifests without their data file. */
export function cleanupTemp(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = TEMP.exec(n);
    if (m && !alive(Number(m[1]))) {
      rmSync(join(dir, n), { force: true });
      removed.push(n);
    }
  }
  for (const n of readdirSync(dir)) {
    if (!n.startsWith('huanjie-') || !n.endsWith('.manifest.json')) continue;
    const stem = n.slice(0, -'.manifest.json'.length);
    if (!existsSync(join(dir, `${stem}.db`)) && !existsSync(join(dir, `${stem}.pgdump`))) {
      rmSync(join(dir, n), { force: true });
      removed.push(n);
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own leftovers from an earlier failed attempt
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fsyncPath(p: string, dir = false): void {
  const fd = openSync(p, dir ? 'r' : 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256File(file: string): { sha256: string; bytes: number } {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), bytes };
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

async function sha256FileAsync(file: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/** Rows per real table (FTS5 virtual tables are counted through their shadow tables). */
function sqliteCounts(db: SqliteDb): Record<string, number> {
  const names = (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`).all() as { name: string }[]
  ).map((r) => r.name);
  const out: Record<string, number> = {};
  for (const n of names) out[n] = Number((db.prepare(`SELECT count(*) AS n FROM "${n.replace(/"/g, '""')}"`).get() as { n: number }).n);
  return out;
}

function sqliteSchemaVersion(db: SqliteDb): number {
  try {
    return Number((db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0);
  } catch {
    return 0;
  }
}

/** Opens a copy read-only and checks it: integrity, schema version; returns its counts. */
function inspectSqliteCopy(file: string, label: string): { schema: number; tables: Record<string, number> } {
  let copy: SqliteDb;
  try {
    copy = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BackupError(`${label}无法作为 SQLite 数据库打开：${(e as Error).message}`, e);
  }
  try {
    let integrity: string;
    try {
      integrity = String(copy.pragma('integrity_check', { simple: true }));
    } catch (e) {
      throw new BackupError(`${label}已损坏（完整性检查无法完成：${(e as Error).message}）`, e);
    }
    if (integrity !== 'ok') throw new BackupError(`${label}已损坏（完整性检查：${integrity.slice(0, 200)}）`);
    const schema = sqliteSchemaVersion(copy);
    if (schema === 0) throw new BackupError(`${label}中没有换届助手的数据（没有架构版本记录）`);
    return { schema, tables: sqliteCounts(copy) };
  } finally {
    copy.close();
  }
}

/** Verifies the temp copy, fsyncs it, writes the manifest, renames both into place (data file last). */
function commitBackup(
  tmp: string,
  file: string,
  m: Omit<BackupManifest, 'bytes' | 'sha256' | 'file'>,
  hashed?: { sha256: string; bytes: number },
): { manifest: BackupManifest; manifestFile: string } {
  fsyncPath(tmp);
  const { sha256, bytes } = hashed ?? sha256File(tmp);
  const manifest: BackupManifest = { ...m, file: basename(file), bytes, sha256 };
  const manifestFile = manifestPathFor(file);
  const tmpManifest = `${manifestFile}.tmp-${process.pid}`;
  const fd = openSync(tmpManifest, 'w');
  try {
    writeSync(fd, JSON.stringify(manifest, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpManifest, manifestFile);
  renameSync(tmp, file);
  fsyncPath(dirname(file), true);
  return { manifest, manifestFile };
}

function sqliteManifestBase(tmp: string, kind: BackupKind, upgrade?: { from: number; to: number }) {
  // A copy of a WAL database is a WAL database: a reader would leave -wal/-shm files beside it.
  // The backup is one self-contained file (the service turns WAL back on when it opens a restored copy).
  const w = new Database(tmp, { fileMustExist: true });
  try {
    w.pragma('journal_mode = DELETE');
  } finally {
    w.close();
  }
  const { schema, tables } = inspectSqliteCopy(tmp, `刚写出的备份副本 ${tmp} `);
  return {
    format: 'huanjie-backup' as const,
    format_version: 1 as const,
    app_version: APP_VERSION,
    store: 'sqlite' as const,
    kind,
    schema_version: schema,
    created_at: new Date().toISOString(),
    tables,
    ...(upgrade ? { upgrade } : {}),
  };
}

function removeTemp(tmp: string): void {
  for (const s of ['', '-journal', '-wal', '-shm']) rmSync(tmp + s, { force: true });
}

/**
 * One backup of the store the database belongs to. SQLite: the online backup API, all pages in
 * one step (one consistent moment; small steps restart whenever the service writes between two
 * of them). PostgreSQL: pg_dump --format=custom of the schema, in the snapshot the counts are read in.
 */
export async function writeBackup(db: Db, config: BackupConfig, opts: WriteBackupOptions = {}): Promise<BackupResult> {
  const t0 = Date.now();
  const kind = opts.kind ?? 'manual';
  if (dialectOf(db) === 'postgres') return writePgBackup(config, opts, t0, false);
  const file = target(config, 'sqlite', opts);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    // The event loop is blocked by the copy (one step) and by the integrity check, each on its own;
    // the service runs between the phases, and the hash is read off the loop.
    await (db as SqliteDb).backup(tmp, { progress: () => 0x7fffffff });
    await yieldLoop();
    const base = sqliteManifestBase(tmp, kind, opts.upgrade);
    await yieldLoop();
    const hashed = await sha256FileAsync(tmp);
    const { manifest, manifestFile } = commitBackup(tmp, file, base, hashed);
    return { file, manifestFile, manifest, ms: Date.now() - t0 };
  } catch (e) {
    removeTemp(tmp);
    rmSync(`${manifestPathFor(file)}.tmp-${process.pid}`, { force: true });
    throw e;
  }
}

/** The same, synchronously (at start, before migrations): SQLite's VACUUM INTO, or pg_dump waited for. */
export function writeBackupSync(db: Db, config: BackupConfig, opts: WriteBackupOptions = {}): BackupResult {
  const t0 = Date.now();
  const kind = opts.kind ?? 'manual';
  if (dialectOf(db) === 'postgres') return writePgBackup(config, opts, t0, true) as BackupResult;
  const file = target(config, 'sqlite', opts);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    (db as SqliteDb).prepare('VACUUM INTO ?').run(tmp);
    const { manifest, manifestFile } = commitBackup(tmp, file, sqliteManifestBase(tmp, kind, opts.upgrade));
    return { file, manifestFile, manifest, ms: Date.now() - t0 };
  } catch (e) {
    removeTemp(tmp);
    throw e;
  }
}

const PG_DUMP_MISSING = '找不到 pg_dump：PostgreSQL 的备份需要 PostgreSQL 客户端工具（Debian/Ubuntu：apt-get install -y postgresql-client，版本不低于数据库服务器），未生成备份。';

function writePgBackup(config: BackupConfig, opts: WriteBackupOptions, t0: number, sync: true): BackupResult;
function writePgBackup(config: BackupConfig, opts: WriteBackupOptions, t0: number, sync: false): Promise<BackupResult>;
function writePgBackup(config: BackupConfig, opts: WriteBackupOptions, t0: number, sync: boolean): BackupResult | Promise<BackupResult> {
  const url = config.databaseUrl!;
  const schema = config.databaseSchema;
  const kind = opts.kind ?? 'manual';
  const file = target(config, 'postgres', opts);
  const tmp = `${file}.tmp-${process.pid}`;
  // Its own connection: a repeatable-read snapshot, exported to pg_dump, so the counts are the dump's.
  const conn = new PgSyncDb(url, { schema });
  let open = true;
  const finish = () => {
    if (!open) return;
    open = false;
    try {
      conn.execute('COMMIT', []);
    } catch {
      /* closing rolls back */
    }
    conn.close();
  };
  try {
    conn.execute('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', []);
    const snapshot = String(conn.execute('SELECT pg_export_snapshot() AS s', []).rows[0]!.s);
    const names = conn
      .execute(`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, [schema])
      .rows.map((r) => String(r.name));
    if (!names.includes('schema_migrations')) throw new BackupError(`PostgreSQL 的 schema ${schema} 中没有换届助手的数据（没有 schema_migrations 表），未生成备份。`);
    const tables: Record<string, number> = {};
    for (const n of names) tables[n] = Number(conn.execute(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(n)}`, []).rows[0]!.n);
    const schemaVersion = Number(conn.execute(`SELECT max(version) AS v FROM ${quoteIdent(schema)}.schema_migrations`, []).rows[0]!.v ?? 0);
    const args = ['--format=custom', `--schema=${schema}`, `--snapshot=${snapshot}`, '--no-owner', `--file=${tmp}`, `--dbname=${url}`];
    const base = {
      format: 'huanjie-backup' as const,
      format_version: 1 as const,
      app_version: APP_VERSION,
      store: 'postgres' as const,
      kind,
      schema_version: schemaVersion,
      created_at: new Date().toISOString(),
      tables,
      pg_schema: schema,
      ...(opts.upgrade ? { upgrade: opts.upgrade } : {}),
    };
    const done = (code: number | null, err: Error | undefined, stderr: string): BackupResult => {
      finish();
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError(PG_DUMP_MISSING, err);
      if (err || code !== 0) throw new BackupError(`pg_dump 失败（退出码 ${code ?? '-'}），未生成备份：${(stderr || err?.message || '').trim().slice(0, 500)}`, err);
      const { manifest, manifestFile } = commitBackup(tmp, file, base);
      return { file, manifestFile, manifest, ms: Date.now() - t0 };
    };
    const cleanup = (e: unknown): never => {
      finish();
      removeTemp(tmp);
      throw e;
    };
    if (sync) {
      const r = spawnSync('pg_dump', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        return done(r.status, r.error, r.stderr ?? '');
      } catch (e) {
        return cleanup(e);
      }
    }
    return new Promise<BackupResult>((res, rej) => {
      const child = spawn('pg_dump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let failed: Error | undefined;
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (e) => (failed = e));
      child.on('close', (code) => {
        try {
          res(done(code, failed, stderr));
        } catch (e) {
          try {
            cleanup(e);
          } catch (x) {
            rej(x);
          }
        }
      });
    });
  } catch (e) {
    finish();
    removeTemp(tmp);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Listing, verifying, retention

export interface BackupInfo {
  file: string;
  name: string;
  size: number;
  manifest: BackupManifest | null;
  /** null: the file matches its manifest (size and sha256). Otherwise what is wrong, in Chinese. */
  problem: string | null;
}

function readManifest(file: string): BackupManifest {
  const mf = manifestPathFor(file);
  if (!existsSync(mf)) {
    throw new BackupError(`备份文件 ${file} 缺少清单 ${basename(mf)}（不是由 db backup 生成，或复制时漏了清单文件，或备份过程中被中断），未做任何更改。`);
  }
  let m: BackupManifest;
  try {
    m = JSON.parse(readFileSync(mf, 'utf8')) as BackupManifest;
  } catch (e) {
    throw new BackupError(`备份清单 ${mf} 无法读取（文件不完整或已损坏），未做任何更改。`, e);
  }
  if (m.format !== 'huanjie-backup' || typeof m.sha256 !== 'string' || typeof m.bytes !== 'number' || !m.tables) {
    throw new BackupError(`备份清单 ${mf} 不是换届助手的备份清单，未做任何更改。`);
  }
  return m;
}

/** The data file against its manifest: present, same size, same sha256. Throws BackupError. */
export function checkBackupFile(file: string): BackupManifest {
  const f = resolve(file);
  if (TEMP.test(f)) throw new BackupError(`${f} 是一次未完成备份留下的临时文件（备份过程中被中断），不能用于恢复，未做任何更改。`);
  if (!existsSync(f)) throw new BackupError(`找不到备份文件：${f}`);
  const m = readManifest(f);
  const size = statSync(f).size;
  if (size !== m.bytes) {
    throw new BackupError(`备份文件不完整（可能在备份过程中被中断，或复制不完整）：${f} 应为 ${m.bytes} 字节，实际 ${size} 字节，未做任何更改。`);
  }
  if (sha256File(f).sha256 !== m.sha256) throw new BackupError(`备份文件已损坏（校验和与清单不符）：${f}，未做任何更改。`);
  return m;
}

/** The backups in a folder, newest first; temp files never appear. */
export function listBackups(dir: string): BackupInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    // Ours by name, or any .db/.pgdump with a manifest beside it (db backup <file> into this folder).
    .filter((n) => !TEMP.test(n) && (DATA_FILE.test(n) || (/\.(db|pgdump)$/.test(n) && existsSync(manifestPathFor(join(dir, n))))))
    .map((n) => {
      const file = join(dir, n);
      const size = statSync(file).size;
      let manifest: BackupManifest | null = null;
      let problem: string | null = null;
      try {
        manifest = readManifest(file);
        checkBackupFile(file);
      } catch (e) {
        problem = e instanceof AppError ? e.userMessage : String(e);
      }
      return { file, name: n, size, manifest, problem };
    })
    .sort((a, b) => (b.manifest?.created_at ?? '').localeCompare(a.manifest?.created_at ?? '') || b.name.localeCompare(a.name));
}

/** Keeps the newest `keep` scheduled backups; manual and pre-upgrade ones are never removed. */
export function pruneBackups(dir: string, keep: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const scheduled = names.filter((n) => SCHEDULED.test(n)).sort().reverse();
  const removed: string[] = [];
  for (const n of scheduled.slice(keep)) {
    const f = join(dir, n);
    rmSync(f, { force: true }); // the data file first: a manifest alone is never listed
    rmSync(manifestPathFor(f), { force: true });
    removed.push(n);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Restore

export interface RestoreResult {
  manifest: BackupManifest;
  /** Where the database that was replaced now lies (null: there was none). */
  replaced: string | null;
}

/**
 * Restores a SQLite backup into DATA_DIR. Verifies everything before touching anything: the
 * manifest, size and sha256, integrity_check, schema version (≤ this build's), row counts; refuses
 * while a service holds DATA_DIR's lock. The current database is moved to DATA_DIR/replaced/.
 */
export function restoreBackup(config: BackupConfig, file: string, opts: { now?: Date } = {}): RestoreResult {
  const f = resolve(file);
  const m = checkBackupFile(f);
  const known = latestSchemaVersion();
  if (m.schema_version > known) {
    throw new BackupError(`备份 ${f} 由较新版本（架构版本 ${m.schema_version}）写入，当前程序只认识到 ${known}；请用新版本程序恢复，未做任何更改。`);
  }
  if (m.store === 'postgres' || config.databaseUrl) {
    if (m.store === 'postgres' && !config.databaseUrl) throw new BackupError(`备份 ${f} 是 PostgreSQL 的备份，而当前配置使用 SQLite（未设置 DATABASE_URL），未做任何更改。`);
    if (m.store === 'sqlite') throw new BackupError(`备份 ${f} 是 SQLite 的备份，而当前配置使用 PostgreSQL（DATABASE_URL）；请先去掉 DATABASE_URL 恢复到 SQLite，再用 db migrate-to-postgres 迁移，未做任何更改。`);
    throw new BackupError(
      `PostgreSQL 备份的自动恢复尚未提供（备份文件本身已核对无误：${f}）。请按 docs/deploy.md 用 pg_restore 手工恢复：停止服务，把 schema ${m.pg_schema ?? config.databaseSchema} 改名留存，然后 pg_restore --dbname=… ${f}。未做任何更改。`,
    );
  }
  const holder = dataDirLockHolder(config.dataDir);
  if (holder !== null) {
    throw new BackupError(`服务正在运行（进程 ${holder} 正在使用 ${config.dataDir}），不能恢复；请先停止服务再执行 db restore，未做任何更改。`);
  }
  const dbFile = config.dbFile;
  mkdirSync(dirname(dbFile), { recursive: true });
  const tmp = `${dbFile}.restore.tmp-${process.pid}`;
  try {
    // Copy next to the database (same file system: the final rename is atomic), hashing as it goes.
    copyFileSyncHashed(f, tmp, m, f);
    const got = inspectSqliteCopy(tmp, `备份文件 ${f} `);
    if (got.schema !== m.schema_version) throw new BackupError(`备份文件 ${f} 的架构版本是 ${got.schema}，与清单（${m.schema_version}）不符，未做任何更改。`);
    const diff = Object.keys({ ...m.tables, ...got.tables }).filter((t) => m.tables[t] !== got.tables[t]);
    if (diff.length) {
      throw new BackupError(`备份文件 ${f} 的行数与清单不符（${diff.slice(0, 5).map((t) => `${t}：清单 ${m.tables[t] ?? '无'}，实际 ${got.tables[t] ?? '无'}`).join('；')}），未做任何更改。`);
    }
    fsyncPath(tmp);
    const replaced = moveAside(config, opts.now ?? new Date());
    renameSync(tmp, dbFile);
    fsyncPath(dirname(dbFile), true);
    return { manifest: m, replaced };
  } finally {
    removeTemp(tmp);
  }
}

function copyFileSyncHashed(src: string, dst: string, m: BackupManifest, label: string): void {
  const h = createHash('sha256');
  const inFd = openSync(src, 'r');
  const outFd = openSync(dst, 'w');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(inFd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      for (let o = 0; o < n; ) o += writeSync(outFd, buf, o, n - o);
      bytes += n;
    }
    fsyncSync(outFd);
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
  if (bytes !== m.bytes) throw new BackupError(`备份文件不完整（可能在备份过程中被中断，或复制不完整）：${label}，未做任何更改。`);
  if (h.digest('hex') !== m.sha256) throw new BackupError(`备份文件已损坏（校验和与清单不符）：${label}，未做任何更改。`);
}

/** The current database (and its -wal/-shm) into DATA_DIR/replaced/huanjie-<stamp>.db; null when there is none. */
function moveAside(config: BackupConfig, now: Date): string | null {
  const dbFile = config.dbFile;
  if (!existsSync(dbFile)) {
    for (const s of ['-wal', '-shm']) rmSync(dbFile + s, { force: true });
    return null;
  }
  // Fold the WAL into the file when it opens (a stale WAL must never be replayed onto the restored copy).
  try {
    const cur = new Database(dbFile);
    cur.pragma('wal_checkpoint(TRUNCATE)');
    cur.close();
  } catch {
    /* a damaged database (the reason to restore) is moved as it is, WAL and all */
  }
  const dir = join(config.dataDir, 'replaced');
  mkdirSync(dir, { recursive: true });
  let aside = join(dir, `huanjie-${stamp(now, config.tz)}.db`);
  for (let i = 2; existsSync(aside); i++) aside = join(dir, `huanjie-${stamp(now, config.tz)}-${i}.db`);
  // A link first: there is a huanjie.db at every moment until the restored copy replaces it.
  linkSync(dbFile, aside);
  for (const s of ['-wal', '-shm']) if (existsSync(dbFile + s)) renameSync(dbFile + s, aside + s);
  fsyncPath(dir, true);
  return aside;
}

// ---------------------------------------------------------------------------------------------
// Pre-upgrade backups

/**
 * The hook the service passes to the migration runner: before an upgrade is applied to a
 * database that has data, a backup named pre-upgrade-vFROM-to-vTO goes into BACKUP_DIR.
 * If it cannot be made, the upgrade does not happen (the service does not start).
 */
export function preUpgradeBackup(db: Db, config: BackupConfig, log?: (msg: string, fields: Record<string, unknown>) => void): (u: PendingUpgrade) => void {
  return (u) => {
    try {
      const r = writeBackupSync(db, config, { kind: 'pre-upgrade', upgrade: { from: u.from, to: u.to } });
      log?.('pre-upgrade backup written', { file: r.file, from: u.from, to: u.to, ms: r.ms });
    } catch (e) {
      const why = e instanceof AppError ? e.userMessage : e instanceof Error ? e.message : String(e);
      throw new BackupError(`升级前备份失败，数据库未升级（架构版本 ${u.from} → ${u.to}）：${why}`, e);
    }
  };
}

/** For tests and the CLI: the SQLite file's schema version without migrating it. */
export function schemaVersionOf(db: Db): number {
  try {
    return Number((db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The store as the service opens it: like openStore, but an upgrade of a database that has data
 * is preceded by a pre-upgrade backup (and a database from a newer version is refused).
 */
export function openStoreWithUpgradeBackup(config: BackupConfig, log?: (msg: string, fields: Record<string, unknown>) => void): Db {
  const db = openStore(config, { migrate: false });
  try {
    const beforeUpgrade = preUpgradeBackup(db, config, log);
    if (dialectOf(db) === 'postgres') {
      if (runPgMigrations(db as PgSyncDb, { beforeUpgrade }).length > 0) (db as PgSyncDb).refreshSchemaInfo();
    } else runMigrations(db, undefined, { beforeUpgrade });
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
