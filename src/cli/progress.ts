import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { UserError } from '../errors.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { today, type WorkflowContext } from '../workflow/context.js';
import { formatDateCn } from '../workflow/dates.js';
import { matchTownship, matchVillage } from '../workflow/lookup.js';
import { suggestionText } from '../workflow/names.js';
import { allVillageLines, progressRows } from '../workflow/progress.js';
import type { Village } from '../workflow/types.js';
import { withCliContext } from './context.js';

/**
 * `progress [村社区|乡镇] [--json]`: stage status per village. With --json one
 * line per village and stage (SPEC §3.3):
 * {"village","township","stage","order","status","deadline","completed_at","by"}.
 */
export function registerProgressCommand(program: Command): void {
  program
    .command('progress')
    .description('查看各村(社区)各阶段进度；可指定村(社区)或乡镇')
    .argument('[target]', '村(社区)或乡镇名称')
    .option('--json', '每行输出一个 JSON（每村每阶段一行）', false)
    .action(async (target: string | undefined, opts: { json: boolean }) => {
      await withCliContext(async ({ db, config }) => {
        const ctx: WorkflowContext = { repos: createWorkflowRepos(db), tz: config.tz, clock: systemClock };
        const filter = target ? targetFilter(ctx, target) : undefined;
        if (opts.json) {
          for (const r of progressRows(ctx, filter)) process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        const day = today(ctx);
        const names = new Map(ctx.repos.roster.people().map((p) => [p.openId, p.name]));
        const villages = allVillageLines(ctx, filter, day);
        if (!villages.length) {
          process.stdout.write('没有村(社区)。先用 import 导入花名册和计划。\n');
          return;
        }
        for (const { village, lines } of villages) {
          process.stdout.write(`${village.county} ${village.township} ${village.name}（${village.type}，选举日 ${village.electionDay ?? '未定'}）\n`);
          for (const l of lines) {
            const cols = [
              String(l.stage.order).padStart(2),
              pad(l.stage.name, 16),
              pad(l.status, 4),
              `截止 ${l.deadline ?? '—'}`,
              l.completedOn ? `完成 ${l.completedOn}` : '',
              l.updatedBy ? (names.get(l.updatedBy) ?? l.updatedBy) : '',
              l.overdueDays > 0 ? `逾期${l.overdueDays}天` : '',
            ];
            process.stdout.write('  ' + cols.filter(Boolean).join('  ') + '\n');
          }
        }
        process.stdout.write(`（${formatDateCn(day)}，${config.tz}）\n`);
      });
    });
}

function targetFilter(ctx: WorkflowContext, target: string): (v: Village) => boolean {
  const v = matchVillage(ctx.repos.roster, target);
  if (v.kind === 'found') return (x) => x.id === v.value.id;
  const t = matchTownship(ctx.repos.roster, target);
  if (t.kind === 'found') return (x) => x.townshipId === t.value.id;
  if (v.kind === 'ambiguous') throw new UserError(`「${target}」对应多个村(社区)：${v.options.join('、')}`);
  if (t.kind === 'ambiguous') throw new UserError(`「${target}」对应多个乡镇：${t.options.join('、')}`);
  throw new UserError(`找不到村(社区)或乡镇「${target}」。${suggestionText([...v.suggestions, ...t.suggestions])}`.trim());
}

/** Pads by display width (CJK characters count double). */
function pad(s: string, width: number): string {
  const w = [...s].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
  return s + ' '.repeat(Math.max(0, width - w));
}
