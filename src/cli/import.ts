import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { isPreview, outcomeLines, readImportFile, runImport, writeTemplate } from '../workflow/import/index.js';
import { withCliContext } from './context.js';

/**
 * `import <file.xlsx | .xls | folder of .csv> [--county 县名]`: all or
 * nothing; problems by sheet, row and column on stderr (grouped, at most 30
 * lines) and exit code 1 when refused; warnings and the number of people not
 * yet bound to Lark on stdout when applied.
 * `import template <file.xlsx>`: an empty workbook with an example row.
 */
export function registerImportCommands(program: Command): void {
  program
    .command('import')
    .description('导入人员与计划：import <工作簿.xlsx 或 CSV 目录>；import template <文件.xlsx> 生成空白模板')
    .argument('<path>', '.xlsx 工作簿、以工作表命名的 .csv 文件所在目录，或 template')
    .argument('[file]', 'import template 时：模板保存位置')
    .option('--county <名称>', '表中没有「县」列时，这些行所属的县（例如 沁源县）')
    .option('--confirm', '文件会移出人员或改名村社区时：确认并导入（不加时只列出变化，不导入）', false)
    .action(async (path: string, file: string | undefined, options: { county?: string; confirm?: boolean }) => {
      if (path === 'template' && file !== undefined) {
        const target = resolve(file);
        if (existsSync(target)) throw new UserError(`目标文件已存在：${target}（为防止覆盖，请换一个文件名）`);
        await writeTemplate(target);
        process.stdout.write(`已生成导入模板：${target}\n`);
        return;
      }
      if (path === 'template') throw new UserError('用法：import template <文件.xlsx>');
      if (file !== undefined) throw new UserError('用法：import <工作簿.xlsx 或 CSV 目录>（只接受一个路径）');
      const county = options.county?.trim();
      if (options.county !== undefined && !county) throw new UserError('--county 后面要写县名，例如 --county 沁源县');
      const read = await readImportFile(resolve(path));
      const outcome = await withCliContext(async ({ config, db, logger }) => {
        const repos = createWorkflowRepos(db);
        const actor = `cli:${safeUser()}`;
        const base = { actor, sourceId: `cli:${randomUUID()}`, fileName: path, county: county ?? null, tz: config.tz };
        let o = runImport(repos, read, { ...base, now: Date.now() });
        // --confirm: the changes just listed are the ones applied.
        if (isPreview(o) && options.confirm) o = runImport(repos, read, { ...base, now: Date.now(), confirm: o.confirm.token });
        logger.info({ ok: o.ok, file: path }, 'import finished');
        return o;
      });
      const l = outcomeLines(outcome);
      const indent = (xs: string[]) => xs.map((x) => `  ${x}\n`).join('');
      if (isPreview(outcome)) {
        process.stdout.write(`尚未导入：${path} 会带来下列变化，核对无误后加 --confirm 重新运行：\n${indent(l.counts)}${indent(l.warnings)}${indent(l.notes)}`);
        process.exitCode = 2;
        return;
      }
      if (outcome.ok) {
        process.stdout.write(`导入完成：${path}\n${indent(l.counts)}${indent(l.warnings)}${l.unbound ? indent([l.unbound]) : ''}${indent(l.notes)}`);
        return;
      }
      process.stderr.write(`导入未通过：${outcome.issues.length} 处问题，未写入任何数据。\n${indent(l.problems)}${indent(l.notes)}`);
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
