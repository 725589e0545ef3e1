import type { Command } from 'commander';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { sqliteOnly, type Db } from '../store/db.js';
import { withCliContext } from './context.js';

/**
 * SQLite's online backup, all pages in one step: one read transaction, so the
 * copy is one consistent moment, and (WAL) the service keeps writing meanwhile.
 * In small steps (better-sqlite3's default, 100 pages) the backup starts over
 * whenever another connection writes between two steps, and under a steady
 * stream of events it never finishes.
 */
export async function backupDb(db: Db, target: string): Promise<void> {
  await sqliteOnly(db, '数据库备份（db backup）').backup(target, { progress: () => 0x7fffffff });
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('数据库维护');
  db.command('backup <file>')
    .description('在线备份数据库到文件（服务运行时也可执行，得到一致的副本）')
    .action(async (file: string) => {
      const target = resolve(file);
      if (existsSync(target)) throw new UserError(`目标文件已存在：${target}（为防止覆盖，请换一个文件名）`);
      await withCliContext(async ({ db }) => {
        try {
          await backupDb(db, target);
        } catch (e) {
          // No half-written copy left behind to be mistaken for a backup (or to block the retry).
          rmSync(target, { force: true });
          throw e;
        }
      });
      process.stdout.write(`已备份到 ${target}\n`);
    });
}
