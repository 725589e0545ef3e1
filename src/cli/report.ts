import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCardText } from '../bot/card-text.js';
import { renderPng } from '../charts/render.js';
import { systemClock } from '../clock.js';
import { UserError } from '../errors.js';
import { QuestionLog } from '../knowledge/question-log.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { today, type WorkflowContext } from '../workflow/context.js';
import { isValidIsoDate } from '../workflow/dates.js';
import { digestCard } from '../workflow/digest/card.js';
import { digestChart } from '../workflow/digest/charts.js';
import { buildDigest, canReceiveDigest, DIGEST_AUDIENCE_MESSAGE } from '../workflow/digest/data.js';
import { exportProgressXlsx } from '../workflow/digest/export.js';
import { boundOpenId, findPerson } from '../workflow/lookup.js';
import { loadPrincipal, type Principal } from '../workflow/permissions.js';
import { slotOn } from '../workflow/schedule/daily-slots.js';
import type { IsoDate } from '../workflow/types.js';
import { withCliContext, type CliContext } from './context.js';

/**
 * `report export <file.xlsx> [--leader X] [--date D]` — the progress report
 * (导出) for a leader's scope, or everything; `digest preview --leader X
 * [--date D] [--json] [--png F]` — the digest that would be sent to X at
 * DIGEST_TIME on day D, without sending anything.
 */
export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('进度报表');
  report
    .command('export')
    .description('导出可打印的进度表 (.xlsx)：汇总、进度一览（村×阶段）、逾期清单、乡镇排名、谈话、问题清单、班子结构、进度总表；A4 横向、每表一页宽')
    .argument('<file>', '输出文件，如 进度.xlsx')
    .option('--leader <open_id|name>', '按该领导的范围导出（默认：全部）')
    .option('--date <YYYY-MM-DD>', '统计日期（默认今天）')
    .action(async (file: string, opts: { leader?: string; date?: string }) => {
      await withCliContext(async (cli) => {
        const ctx = cliWorkflow(cli);
        const date = dateOption(ctx, opts.date);
        const p = opts.leader ? leaderPrincipal(cli, ctx, opts.leader) : wholeScope();
        const bytes = await exportProgressXlsx(ctx, p, date);
        const out = resolve(file);
        writeFileSync(out, bytes);
        process.stdout.write(`已导出 ${out}（${(bytes.length / 1024).toFixed(0)} KB，${p.name}，截至 ${date}）\n`);
      });
    });

  const digest = program.command('digest').description('领导日报');
  digest
    .command('preview')
    .description('预览某位领导某天会收到的日报（不发送）')
    .requiredOption('--leader <open_id|name>', '领导或管理员（姓名或 open_id）')
    .option('--date <YYYY-MM-DD>', '日期（默认今天）；按该日 DIGEST_TIME 时的数据')
    .option('--json', '输出日报数据（JSON）而不是卡片文本', false)
    .option('--png <file>', '同时把日报图表写成 PNG')
    .action(async (opts: { leader: string; date?: string; json: boolean; png?: string }) => {
      await withCliContext(async (cli) => {
        const ctx = cliWorkflow(cli);
        const date = dateOption(ctx, opts.date);
        const p = leaderPrincipal(cli, ctx, opts.leader);
        // What the scheduler would build at DIGEST_TIME that day (or now, if that is earlier).
        const at = Math.min(slotOn(date, cli.config.digestTime, cli.config.tz).at, Math.max(systemClock.now(), slotOn(date, '00:00', cli.config.tz).at));
        const unanswered = p.isAdmin ? new QuestionLog(cli.db).unanswered(at - 86_400_000) : undefined;
        const data = buildDigest(ctx, p, date, { now: at, unanswered });
        if (opts.png) {
          const { option, width, height } = digestChart(data);
          writeFileSync(resolve(opts.png), renderPng(option, width, height));
        }
        if (opts.json) {
          process.stdout.write(JSON.stringify(data, null, 2) + '\n');
          return;
        }
        // The chart is uploaded when sending; shown here as where it goes.
        process.stdout.write(renderCardText(digestCard(data, { imageKey: 'preview', tz: cli.config.tz })) + '\n');
        process.stdout.write(`（预览：发送给 ${p.name}（${p.openId}），${date} ${cli.config.digestTime}，未发送。图表在发送时渲染上传，上传失败则卡片不带图。）\n`);
      });
    });
}

function cliWorkflow(cli: CliContext): WorkflowContext {
  return { repos: createWorkflowRepos(cli.db), tz: cli.config.tz, clock: systemClock };
}

function dateOption(ctx: WorkflowContext, d: string | undefined): IsoDate {
  if (d === undefined) return today(ctx);
  if (!isValidIsoDate(d)) throw new UserError(`日期「${d}」不对，请写成 YYYY-MM-DD，例如 2026-11-05。`);
  return d;
}

function leaderPrincipal(cli: CliContext, ctx: WorkflowContext, who: string): Principal {
  const person = findPerson(ctx.repos.roster, who);
  const openId = boundOpenId(person);
  const p = loadPrincipal(ctx.repos.roster, { openId, name: person.name, isAdmin: cli.config.adminOpenIds.includes(openId) });
  if (!canReceiveDigest(p)) throw new UserError(`${person.name}（${person.role}）不接收日报：${DIGEST_AUDIENCE_MESSAGE}`, 'forbidden');
  return p;
}

/** The export without --leader: every county, as an admin without a scope sees it. */
function wholeScope(): Principal {
  return { openId: 'cli', name: '全部', isAdmin: true, personId: null, role: null, scopeId: null, scopeKind: null, villageIds: new Set() };
}
