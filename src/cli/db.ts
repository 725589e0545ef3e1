import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { sqliteOnly, openStore, type Db } from '../store/db.js';
import { listBackups, restoreBackup, writeBackup } from '../store/backup.js';

/**
 * SQLite's online backup, all pages in one step: one read transaction, so the
 * copy is one consistent moment, and (WAL) the service keeps writing meanwhile.
 * In small steps (better-sqlite3's default, 100 pages) the backup starts over
 * whenever another connection writes between two steps, and under a steady
 * stream of events it never finishes. (The raw copy; `db backup` adds verification and the manifest.)
 */
export async function backupDb(db: Db, target: string): Promise<void> {
  await sqliteOnly(db, '数据库备份（db backup）').backup(target, { progress: () => 0x7fffffff });
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('数据库维护');
  db.command('backup [file]')
    .description('在线备份数据库（服务运行时也可执行）：不给文件名则写入 BACKUP_DIR；备份附带清单（.manifest.json），两者要一起保存')
    .action(async (file?: string) => {
      const config = loadConfig(process.env);
      // As it is: no migration (a backup of an older database is still a backup of it).
      const store = openStore(config, { migrate: false });
      try {
        const r = await writeBackup(store, config, file ? { file, kind: 'manual' } : { kind: 'manual' });
        const rows = Object.values(r.manifest.tables).reduce((a, b) => a + b, 0);
        process.stdout.write(`已备份到 ${r.file}\n清单 ${r.manifestFile}（架构版本 ${r.manifest.schema_version}，${Object.keys(r.manifest.tables).length} 张表共 ${rows} 行，${mb(r.manifest.bytes)}，用时 ${r.ms} ms）\n`);
      } finally {
        store.close();
      }
    });
  db.command('backups')
    .description('列出 BACKUP_DIR 中的备份：时间、大小、架构版本、行数、是否核对通过')
    .action(() => {
      const config = loadConfig(process.env);
      const list = listBackups(config.backup.dir);
      if (!list.length) {
        process.stdout.write(`${config.backup.dir} 中没有备份。\n`);
        return;
      }
      process.stdout.write(`备份目录 ${config.backup.dir}（共 ${list.length} 份，最新在前）\n`);
      for (const b of list) {
        const m = b.manifest;
        const when = m ? new Date(m.created_at).toLocaleString('zh-CN', { timeZone: config.tz, hour12: false }) : '-';
        const kind = m ? { scheduled: '定时', manual: '手动', 'pre-upgrade': '升级前' }[m.kind] : '-';
        const rows = m ? Object.values(m.tables).reduce((a, c) => a + c, 0) : 0;
        const summary = m ? `架构版本 ${m.schema_version}  ${Object.keys(m.tables).length} 张表 ${rows} 行` : '无清单';
        process.stdout.write(`${b.name}  ${when}  ${kind}  ${mb(b.size)}  ${summary}  核对：${b.problem ? `未通过（${b.problem}）` : '通过'}\n`);
      }
    });
  db.command('restore <file>')
    .description('从备份恢复数据库：先核对（清单、校验和、完整性、架构版本、行数），服务运行时拒绝；被替换的数据库保存在 DATA_DIR/replaced/')
    .action((file: string) => {
      const config = loadConfig(process.env);
      const r = restoreBackup(config, file);
      const rows = Object.values(r.manifest.tables).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `已从 ${file} 恢复（备份时间 ${new Date(r.manifest.created_at).toLocaleString('zh-CN', { timeZone: config.tz, hour12: false })}，架构版本 ${r.manifest.schema_version}，共 ${rows} 行，已逐表核对）。\n` +
          (r.replaced ? `原数据库已保存为 ${r.replaced}\n` : '原来没有数据库。\n') +
          '现在可以启动服务。\n',
      );
    });
}
