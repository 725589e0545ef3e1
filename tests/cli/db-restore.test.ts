import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type SqliteDb } from '../../src/store/db.js';
import { ROOT, runTs } from '../helpers/spawn.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';

const rows = (db: SqliteDb) => db.prepare('SELECT id, v FROM test_rows ORDER BY id').all() as { id: number; v: string }[];

// SQLite's file backups; the PostgreSQL run skips them (pg_dump backups, restore refused as not yet automatic).
describe.skipIf(onPostgres)('db backup / backups / restore from the command line', () => {
  let dir: string;
  const cli = (args: string[]) => runTs('src/cli/main.ts', ['db', ...args], { env: { DATA_DIR: dir } });
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function seed(n: number, size: number): void {
    const db = openDb(join(dir, 'huanjie.db'));
    db.exec('CREATE TABLE test_rows (id INTEGER PRIMARY KEY, v TEXT)');
    const ins = db.prepare('INSERT INTO test_rows (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(`${i}-`.padEnd(size, 'x'));
    })();
    db.close();
  }

  it('backup → change → restore: the same rows, the replaced database kept, and it lists as verified', async () => {
    seed(300, 100);
    const b = await cli(['backup']);
    expect(b.stderr).toBe('');
    expect(b.stdout).toMatch(/已备份到 .*backups\/huanjie-manual-\d{8}-\d{6}\.db/);
    const l = await cli(['backups']);
    expect(l.stdout).toMatch(/huanjie-manual-\d{8}-\d{6}\.db .* 手动 .* 架构版本 \d+ .*核对：通过/);
    const file = join(dir, 'backups', readdirSync(join(dir, 'backups')).find((n) => n.endsWith('.db'))!);
    let db = openDb(join(dir, 'huanjie.db'));
    const atBackup = rows(db);
    db.prepare('DELETE FROM test_rows WHERE id > 100').run();
    db.close();
    const r = await cli(['restore', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('已逐表核对');
    expect(r.stdout).toMatch(/原数据库已保存为 .*replaced\/huanjie-\d{8}-\d{6}\.db/);
    db = openDb(join(dir, 'huanjie.db'));
    expect(rows(db)).toEqual(atBackup);
    db.close();
    // The explicit file name is kept from before: an existing file is never overwritten.
    const again = await cli(['backup', file]);
    expect(again.stderr).toContain('目标文件已存在');
    expect(again.code).toBe(2);
  }, scaled(120_000));

  it('a backup SIGKILLed midway leaves nothing that lists or restores; the next backup cleans up', async () => {
    seed(60_000, 1500); // ~95 MB: the copy takes long enough to be caught in the act
    const backups = join(dir, 'backups');
    // node itself with tsx's loader (the tsx wrapper would run the CLI in a child that outlives its SIGKILL).
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'db', 'backup'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dir },
      stdio: 'ignore',
    });
    const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    let finished = false;
    void closed.then(() => (finished = true));
    const deadline = Date.now() + scaled(60_000);
    let caught: string[] = [];
    while (!finished && Date.now() < deadline) {
      caught = existsSync(backups) ? readdirSync(backups).filter((n) => n.includes('.tmp-')) : [];
      if (caught.length) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(finished, 'the backup finished before it could be killed').toBe(false);
    child.kill('SIGKILL');
    await closed;
    const left = readdirSync(backups);
    expect(left.every((n) => n.includes(`.tmp-${child.pid}`))).toBe(true);
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((n) => n.includes('.tmp-'))).toBe(true);
    const l = await cli(['backups']);
    expect(l.stdout).toContain('中没有备份');
    for (const n of left) {
      const r = await cli(['restore', join(backups, n)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/未完成备份留下的临时文件|缺少清单|不完整/);
      expect(r.stderr).toContain('未做任何更改');
    }
    const b = await cli(['backup']);
    expect(b.code).toBe(0);
    expect(readdirSync(backups).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect((await cli(['backups'])).stdout).toContain('核对：通过');
  }, scaled(240_000));

  it('a truncated backup is refused with a clear Chinese message and exit 2', async () => {
    seed(2000, 200);
    await cli(['backup', join(dir, 'copy.db')]);
    const { truncateSync, statSync } = await import('node:fs');
    truncateSync(join(dir, 'copy.db'), Math.floor(statSync(join(dir, 'copy.db')).size / 3));
    const r = await cli(['restore', join(dir, 'copy.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`备份文件不完整（可能在备份过程中被中断，或复制不完整）：${join(dir, 'copy.db')}`);
    expect(r.stderr).toContain('未做任何更改');
    expect(existsSync(join(dir, 'replaced'))).toBe(false);
  }, scaled(120_000));

  it('a database from a newer version: every command refuses with the Chinese message', async () => {
    seed(10, 10);
    const db = openDb(join(dir, 'huanjie.db'));
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (900, '900-future.sql', 0)`).run();
    db.close();
    const r = await runTs('src/cli/main.ts', ['people'], { env: { DATA_DIR: dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('数据库由较新版本（架构版本 900）写入，当前程序只认识到');
    expect(r.stderr).toContain('恢复升级前的备份');
  }, scaled(120_000));
});
