import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupDb } from '../../src/cli/db.js';
import { openDb, type Db } from '../../src/store/db.js';
import { runTs } from '../helpers/spawn.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

/**
 * `db backup` beside a busy service (found by tests/faults/operations.fault.ts):
 * SQLite's online backup in small steps starts over whenever another
 * connection writes between two steps, so under a steady stream of events it
 * never finished. It now copies in one step: one consistent moment.
 */
// SQLite's file backup; on PostgreSQL the command refuses (below) and pg_dump is the tool.
describe.skipIf(onPostgres)('db backup', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = tempDir();
    db = openDb(join(dir, 'huanjie.db'));
    db.exec('CREATE TABLE test_rows (id INTEGER PRIMARY KEY, v TEXT)');
    const ins = db.prepare('INSERT INTO test_rows (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) ins.run('x'.repeat(400));
    })();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes while another connection writes every few milliseconds, and the copy is whole', async () => {
    const writer = new Database(join(dir, 'huanjie.db'));
    writer.pragma('busy_timeout = 5000');
    const ins = writer.prepare('INSERT INTO test_rows (v) VALUES (?)');
    const timer = setInterval(() => ins.run('w'), 2);
    const target = join(dir, 'copy.db');
    try {
      await Promise.race([
        backupDb(db, target),
        new Promise((_, reject) => setTimeout(() => reject(new Error('backup did not finish within 10 s')), 10_000)),
      ]);
    } finally {
      clearInterval(timer);
      writer.close();
    }
    const copy = new Database(target, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((copy.prepare('SELECT COUNT(*) AS n FROM test_rows').get() as { n: number }).n).toBeGreaterThanOrEqual(20_000);
    copy.close();
  }, 30_000);

  // Needs a size-limited file system: root may mount a tmpfs (CI runs as root on the same kind of machine).
  const canMount = process.getuid?.() === 0;
  it.skipIf(!canMount)('onto a full disk: says so in Chinese, exits 2, and leaves no partial copy behind', async () => {
    const small = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const target = join(small, 'copy.db');
      const r = await runTs('src/cli/main.ts', ['db', 'backup', target], { env: { DATA_DIR: dir } });
      expect(r.stderr).toContain('存储空间已满');
      expect(r.code).toBe(2);
      expect(existsSync(target)).toBe(false);
    } finally {
      execFileSync('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }
  });
});

describe.runIf(onPostgres)('db backup on PostgreSQL', () => {
  it('refuses in Chinese, pointing at pg_dump, and writes nothing', async () => {
    const dir = tempDir();
    const target = join(dir, 'copy.db');
    try {
      const r = await runTs('src/cli/main.ts', ['db', 'backup', target], { env: { DATA_DIR: dir } });
      expect(r.stderr).toContain('仅适用于 SQLite');
      expect(r.stderr).toContain('pg_dump');
      expect(r.code).not.toBe(0);
      expect(existsSync(target)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
