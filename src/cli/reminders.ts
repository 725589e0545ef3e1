import type { Command } from 'commander';
import { renderCardText } from '../bot/card-text.js';
import { UserError } from '../errors.js';
import { createScheduleRepo } from '../store/schedule-repo.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import type { WorkflowContext } from '../workflow/context.js';
import { reminderCard } from '../workflow/reminders/card.js';
import { computeReminders } from '../workflow/reminders/planner.js';
import { todayIn } from '../workflow/dates.js';
import { slotOn } from '../workflow/schedule/daily-slots.js';
import { withCliContext } from './context.js';

/**
 * `reminders due --at <ISO time> [--json]`: the reminder slot of that day, as the
 * scheduler would send it (same computation, nothing sent, nothing recorded).
 * --json: one line per message, {"to","slot","kind","items":[{"village","stage"|"talk","due","overdue_days"[,"catch_up"]}]}
 * (catch_up: an escalation sent late, 补充督办, docs/reminders.md).
 */
export function registerReminderCommands(program: Command): void {
  const r = program.command('reminders').description('提醒');
  r.command('due')
    .description('预演：某一时刻会发出的提醒（不发送、不记录）')
    .requiredOption('--at <time>', 'ISO 时间，例如 2026-11-20T09:00:00+08:00')
    .option('--json', '每条消息一行 JSON', false)
    .action(async (opts: { at: string; json: boolean }) => {
      const ms = Date.parse(opts.at);
      if (!Number.isFinite(ms)) throw new UserError(`--at 不是有效的时间：${opts.at}（例如 2026-11-20T09:00:00+08:00）`);
      await withCliContext(async ({ db, config }) => {
        const ctx: WorkflowContext = { repos: createWorkflowRepos(db), tz: config.tz, clock: { now: () => ms } };
        const day = todayIn(config.tz, ms);
        const slot = slotOn(day, config.reminderTime, config.tz);
        const slotLabel = `${day} ${config.reminderTime}`;
        if (ms < slot.at) process.stderr.write(`注意：${opts.at} 早于当天的提醒时间 ${config.reminderTime}，以下是当天该时刻将发出的提醒。\n`);
        const messages = computeReminders(ctx, createScheduleRepo(db), day);
        if (opts.json) {
          for (const m of messages) {
            const items = m.items.map((i) => ({
              village: i.village,
              ...(i.kind === 'stage' ? { stage: i.what } : { talk: i.what }),
              due: i.due,
              overdue_days: i.overdueDays,
              ...(i.catchUp ? { catch_up: true } : {}),
            }));
            process.stdout.write(JSON.stringify({ to: m.to.openId, slot: slotLabel, kind: m.kind, items }) + '\n');
          }
          return;
        }
        if (!messages.length) {
          process.stdout.write(`${slotLabel}：没有需要提醒的事项。\n`);
          return;
        }
        process.stdout.write(`${slotLabel}：共 ${messages.length} 条消息\n\n`);
        for (const m of messages) {
          process.stdout.write(`→ ${m.to.name}（${m.to.openId}）${m.kind === 'escalation' ? '督办' : '提醒'} ${m.items.length} 项\n`);
          process.stdout.write(renderCardText(reminderCard(m, day)) + '\n\n');
        }
      });
    });
}
