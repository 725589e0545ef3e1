import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { listBackups, manifestPathFor, openStoreWithUpgradeBackup, pruneBackups, restoreBackup, writeBackup } from '../../src/store/backup.js';
import { BackupService } from '../../src/store/backup-schedule.js';
import { acquireDataDirLock } from '../../src/store/data-dir-lock.js';
import { openDb, type SqliteDb } from '../../src/store/db.js';
import { latestSchemaVersion, listMigrations, runMigrations, SchemaTooNewError } from '../../src/store/migrate.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));

function count(db: SqliteDb, sql = 'SELECT count(*) AS n FROM audit_log'): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

function addAudit(db: SqliteDb, n: number, tag: string): void {
  const ins = db.prepare('INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(i, 'ou_test', 'test.row', `${tag}-${i}`);
  })();
}

// SQLite's file backups and restore; PostgreSQL backups are pg_dump (restore is refused as not yet automatic).
describe.skipIf(onPostgres)('backups that restore (SQLite)', () => {
  let dir: string;
  let config: Config;
  let db: SqliteDb;
  beforeEach(() => {
    dir = tempDir();
    config = loadConfig({ DATA_DIR: dir, TZ_NAME: 'Asia/Shanghai' });
    db = openDb(config.dbFile);
    addAudit(db, 500, 'before');
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backup → change rows → restore gives the rows of the backup, and keeps the replaced database aside', async () => {
    const r = await writeBackup(db, config, { kind: 'manual' });
    expect(r.file).toMatch(/backups\/huanjie-manual-\d{8}-\d{6}\.db$/);
    expect(existsSync(r.manifestFile)).toBe(true);
    expect(r.manifest.schema_version).toBe(latestSchemaVersion());
    expect(r.manifest.tables.audit_log).toBe(500);
    const atBackup = db.prepare('SELECT id, detail FROM audit_log ORDER BY id').all();
    db.prepare(`DELETE FROM audit_log WHERE id % 2 = 0`).run();
    addAudit(db, 7, 'after');
    const afterChange = count(db);
    db.close();

    const res = restoreBackup(config, r.file);
    expect(res.replaced).toMatch(/replaced\/huanjie-\d{8}-\d{6}\.db$/);
    const back = openDb(config.dbFile);
    expect(back.prepare('SELECT id, detail FROM audit_log ORDER BY id').all()).toEqual(atBackup);
    back.close();
    const old = new Database(res.replaced!, { readonly: true });
    expect(count(old)).toBe(afterChange);
    old.close();
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('a truncated backup is refused in Chinese and nothing is changed', async () => {
    const r = await writeBackup(db, config, { kind: 'manual' });
    truncateSync(r.file, Math.floor(r.manifest.bytes / 2));
    db.close();
    const before = readFileSync(config.dbFile);
    expect(() => restoreBackup(config, r.file)).toThrow(/备份文件不完整（可能在备份过程中被中断.*未做任何更改/);
    expect(readFileSync(config.dbFile).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'replaced'))).toBe(false);
    expect(listBackups(config.backup.dir)[0]!.problem).toContain('备份文件不完整');
  });

  it('a backup without its manifest, a corrupted one and a temp file are refused', async () => {
    const r = await writeBackup(db, config, { kind: 'manual' });
    db.close();
    const bare = join(dir, 'bare.db');
    copyFileSync(r.file, bare);
    expect(() => restoreBackup(config, bare)).toThrow(/缺少清单/);
    const tmp = `${r.file}.tmp-12345`;
    copyFileSync(r.file, tmp);
    expect(() => restoreBackup(config, tmp)).toThrow(/未完成备份留下的临时文件/);
    const buf = readFileSync(r.file);
    buf[buf.length - 10] = buf[buf.length - 10]! ^ 0xff;
    writeFileSync(r.file, buf);
    expect(() => restoreBackup(config, r.file)).toThrow(/备份文件已损坏（校验和与清单不符）/);
  });

  it('a manifest whose row counts do not match the file is refused', async () => {
    const r = await writeBackup(db, config, { kind: 'manual' });
    db.close();
    const m = JSON.parse(readFileSync(r.manifestFile, 'utf8'));
    m.tables.audit_log = 499;
    writeFileSync(r.manifestFile, JSON.stringify(m));
    expect(() => restoreBackup(config, r.file)).toThrow(/行数与清单不符（audit_log：清单 499，实际 500）/);
  });

  it('is refused while a service holds DATA_DIR', async () => {
    const r = await writeBackup(db, config, { kind: 'manual' });
    db.close();
    const lock = acquireDataDirLock(dir);
    try {
      expect(() => restoreBackup(config, r.file)).toThrow(new RegExp(`服务正在运行（进程 ${process.pid} 正在使用`));
    } finally {
      lock.release();
    }
    expect(existsSync(join(dir, 'replaced'))).toBe(false);
    expect(restoreBackup(config, r.file).replaced).toBeTruthy();
  });

  it('a backup from a newer schema is refused', async () => {
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('999-future.sql');
    const r = await writeBackup(db, config, { kind: 'manual' });
    db.close();
    rmSync(config.dbFile);
    expect(() => restoreBackup(config, r.file)).toThrow(/较新版本（架构版本 999）写入，当前程序只认识到/);
  });

  it('retention keeps the newest N scheduled backups and never removes manual or pre-upgrade ones', async () => {
    const kept = loadConfig({ DATA_DIR: dir, BACKUP_KEEP: '2' });
    const at = (h: number) => new Date(Date.UTC(2026, 11, 7, h, 0, 0));
    for (const h of [1, 2, 3, 4]) await writeBackup(db, kept, { kind: 'scheduled', now: at(h) });
    await writeBackup(db, kept, { kind: 'manual', now: at(0) });
    await writeBackup(db, kept, { kind: 'pre-upgrade', now: at(0), upgrade: { from: 9, to: 10 } });
    const removed = pruneBackups(kept.backup.dir, kept.backup.keep);
    expect(removed).toEqual(['huanjie-20261207-100000.db', 'huanjie-20261207-090000.db']);
    const names = listBackups(kept.backup.dir).map((b) => b.name).sort();
    expect(names).toEqual([
      'huanjie-20261207-110000.db',
      'huanjie-20261207-120000.db',
      'huanjie-manual-20261207-080000.db',
      'huanjie-pre-upgrade-v009-to-v010-20261207-080000.db',
    ]);
    expect(readdirSync(kept.backup.dir).filter((n) => n.endsWith('.manifest.json'))).toHaveLength(4);
    // A named backup in the folder lists too; a bare .db without a manifest does not.
    await writeBackup(db, kept, { file: join(kept.backup.dir, '升级前-1.db') });
    copyFileSync(join(kept.backup.dir, '升级前-1.db'), join(kept.backup.dir, 'other.db'));
    expect(listBackups(kept.backup.dir).map((b) => b.name)).toContain('升级前-1.db');
    expect(listBackups(kept.backup.dir).map((b) => b.name)).not.toContain('other.db');
  });

  it('the scheduled service writes, prunes, counts, and logs a failure with its Chinese reason', async () => {
    const logs: string[] = [];
    const logger = createLogger({ logLevel: 'info' }, { write: (s: string) => void logs.push(s) } as never);
    const results: string[] = [];
    const svc = new BackupService({ db, config: loadConfig({ DATA_DIR: dir, BACKUP_KEEP: '1' }), logger, count: (r) => results.push(r) });
    await Promise.all([svc.runOnce(), svc.runOnce()]); // overlapping calls share one backup
    expect(listBackups(config.backup.dir)).toHaveLength(1);
    expect(results).toEqual(['ok']);
    // A file where the folder should be: the backup fails, is logged and counted.
    const bad = new BackupService({ db, config: loadConfig({ DATA_DIR: dir, BACKUP_DIR: join(config.dbFile, 'x') }), logger, count: (r) => results.push(r) });
    await bad.runOnce();
    expect(results).toEqual(['ok', 'failed']);
    expect(logs.some((l) => l.includes('定时备份失败'))).toBe(true);
    await svc.stop();
  });
});

describe.skipIf(onPostgres)('upgrades (SQLite)', () => {
  it('refuses a database written by a newer version, with the Chinese message', () => {
    const dir = tempDir();
    const db = openDb(join(dir, 'huanjie.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, ?, 0)').run('042-future.sql');
    db.close();
    let err: unknown;
    try {
      openDb(join(dir, 'huanjie.db'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).userMessage).toContain(`数据库由较新版本（架构版本 42）写入，当前程序只认识到 ${latestSchemaVersion()}；请使用新版本程序，或恢复升级前的备份`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a pre-upgrade backup before migrating a database that has data, and none for a fresh one', () => {
    const dir = tempDir();
    const old = join(dir, 'old-migrations');
    mkdirSync(old);
    const all = listMigrations();
    for (const m of all.slice(0, -1)) copyFileSync(join(MIGRATIONS, m.name), join(old, m.name));
    const config = loadConfig({ DATA_DIR: dir });
    const db = openDb(config.dbFile, { migrate: false });
    runMigrations(db, old);
    addAudit(db, 20, 'v-old');
    db.close();
    const from = all[all.length - 2]!.version;
    const to = all[all.length - 1]!.version;

    const up = openStoreWithUpgradeBackup(config) as SqliteDb;
    expect(count(up)).toBe(20);
    expect(Number(up.prepare('SELECT max(version) FROM schema_migrations').pluck().get())).toBe(to);
    up.close();
    const list = listBackups(config.backup.dir);
    expect(list).toHaveLength(1);
    const v = (n: number) => `v${String(n).padStart(3, '0')}`;
    expect(list[0]!.name).toMatch(new RegExp(`^huanjie-pre-upgrade-${v(from)}-to-${v(to)}-\\d{8}-\\d{6}\\.db$`));
    expect(list[0]!.problem).toBeNull();
    expect(list[0]!.manifest).toMatchObject({ kind: 'pre-upgrade', schema_version: from, upgrade: { from, to } });
    expect(list[0]!.manifest!.tables.audit_log).toBe(20);
    // Nothing pending now: no second backup. A fresh DATA_DIR: none either.
    openStoreWithUpgradeBackup(config).close();
    expect(listBackups(config.backup.dir)).toHaveLength(1);
    const fresh = loadConfig({ DATA_DIR: join(dir, 'fresh') });
    openStoreWithUpgradeBackup(fresh).close();
    expect(existsSync(fresh.backup.dir)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the pending set in one transaction: a failing migration leaves the database as it was', () => {
    const dir = tempDir();
    const migr = join(dir, 'm');
    mkdirSync(migr);
    for (const m of listMigrations()) copyFileSync(join(MIGRATIONS, m.name), join(migr, m.name));
    const db = openDb(join(dir, 'x.db'), { migrate: false });
    runMigrations(db, migr);
    const v = latestSchemaVersion();
    const next = String(v + 1).padStart(3, '0');
    writeFileSync(join(migr, `${next}-good.sql`), 'CREATE TABLE t_good (id INTEGER PRIMARY KEY);');
    writeFileSync(join(migr, `${String(v + 2).padStart(3, '0')}-bad.sql`), 'CREATE TABLE t_bad (id INTEGER PRIMARY KEY); SELECT * FROM no_such_table;');
    expect(() => runMigrations(db, migr)).toThrow(/no_such_table/);
    expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name IN ('t_good', 't_bad')`).pluck().get()).toBe(0);
    expect(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(v);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

void manifestPathFor;

describe.runIf(onPostgres)('upgrades (PostgreSQL)', () => {
  it('refuses a schema written by a newer version, with the Chinese message', async () => {
    const { openTestDb } = await import('../helpers/store.js');
    const { runPgMigrations } = await import('../../src/store/pg/migrate.js');
    const dir = tempDir();
    const db = openTestDb(join(dir, 'huanjie.db'));
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (77, '077-future.sql', 0)`).run();
    expect(() => runPgMigrations(db as never)).toThrow(SchemaTooNewError);
    expect(() => runPgMigrations(db as never)).toThrow(/数据库由较新版本（架构版本 77）写入/);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
