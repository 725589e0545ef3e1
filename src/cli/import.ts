import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { describeCounts, formatIssue, readImportFile, runImport, writeTemplate } from '../workflow/import/index.js';
import { withCliContext } from './context.js';

/**
 * `import <file.xlsx | folder of .csv>`: all or nothing; problems by sheet,
 * row and column on stderr and exit code 1 when refused.
 * `import template <file.xlsx>`: an empty workbook with an example row.
 */
export function registerImportCommands(program: Command): void {
  program
    .command('import')
    .description('导入人员与计划：import <工作簿.xlsx 或 CSV 目录>；import template <文件.xlsx> 生成空白模板')
    .argument('<path>', '.xlsx 工作簿、以工作表命名的 .csv 文件所在目录，或 template')
    .argument('[file]', 'import template 时：模板保存位置')
    .action(async (path: string, file: string | undefined) => {
      if (path === 'template' && file !== undefined) {
        const target = resolve(file);
        if (existsSync(target)) throw new UserError(`目标文件已存在：${target}（为防止覆盖，请换一个文件名）`);
        await writeTemplate(target);
        process.stdout.write(`已生成导入模板：${target}\n`);
        return;
      }
      if (path === 'template') throw new UserError('用法：import template <文件.xlsx>');
      if (file !== undefined) throw new UserError('用法：import <工作簿.xlsx 或 CSV 目录>（只接受一个路径）');
      const read = await readImportFile(resolve(path));
      const outcome = await withCliContext(async ({ db, logger }) => {
        const repos = createWorkflowRepos(db);
        const actor = `cli:${safeUser()}`;
        const o = runImport(repos, read, { actor, sourceId: `cli:${randomUUID()}`, fileName: path, now: Date.now() });
        logger.info({ ok: o.ok, file: path }, 'import finished');
        return o;
      });
      if (outcome.ok) {
        process.stdout.write(`导入完成：${path}\n${describeCounts(outcome.counts).map((l) => '  ' + l).join('\n')}\n`);
        return;
      }
      process.stderr.write(`导入未通过：${outcome.issues.length} 处问题，未写入任何数据。\n`);
      for (const i of outcome.issues) process.stderr.write(`  ${formatIssue(i)}\n`);
      process.exitCode = 1;
    });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
