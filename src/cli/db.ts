import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { withCliContext } from './context.js';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('数据库维护');
  db.command('backup <file>')
    .description('在线备份数据库到文件（服务运行时也可执行，得到一致的副本）')
    .action(async (file: string) => {
      const target = resolve(file);
      if (existsSync(target)) throw new UserError(`目标文件已存在：${target}（为防止覆盖，请换一个文件名）`);
      await withCliContext(async ({ db }) => {
        // better-sqlite3's backup uses SQLite's online backup API: consistent even while the service writes.
        await db.backup(target);
      });
      process.stdout.write(`已备份到 ${target}\n`);
    });
}
