import { z } from 'zod';
import { AppError, asAppError } from '../../errors.js';
import { inTransaction, type Db } from '../../store/db.js';
import type { ScheduleRepo } from '../../store/schedule-repo.js';
import { today } from '../../workflow/context.js';
import { addDays, formatDateCn } from '../../workflow/dates.js';
import { isKnown, loadPrincipal, NOT_IN_ROSTER } from '../../workflow/permissions.js';
import type { CardActionHandler } from '../card-action.js';
import { sendTo } from '../reply.js';
import { buildCheckinForm } from './checkin-form.js';
import { contextFor, type WorkflowDeps } from './services.js';

const ITEM_KEY = /^(stage:(\d{1,12}):([a-z0-9_]{1,40})|talk:(\d{1,12}))$/;

/** 已完成 on a reminder: sends the check-in form with the village and stage chosen (talks: how to record one). */
export function reminderDoneHandler(deps: WorkflowDeps): CardActionHandler {
  return (input) => {
    const ctx = contextFor(deps, input.ctx.clock);
    const m = ITEM_KEY.exec(String(input.value.item ?? ''));
    if (!m) return { toast: { type: 'error', content: '无法识别的提醒事项。' } };
    const p = loadPrincipal(deps.repos.roster, input.actor);
    if (!isKnown(p)) return { toast: { type: 'error', content: NOT_IN_ROSTER } };
    const reply = sendTo(input.ctx.outbox, { type: 'open_id', id: p.openId }, `reminder-done:${input.env.eventId}`);
    if (m[4]) {
      const talk = ctx.repos.talks.get(Number(m[4]));
      if (!talk) return { toast: { type: 'warning', content: '该谈话已不在计划中。' } };
      reply.text(`请发送：谈话 ${talk.subject} 完成 ${formatDateCn(today(ctx))}${talk.category === '选前谈话' ? ' 已签承诺书' : ''}\n（日期可写“今天”“昨天”或具体日期。）`);
      return { toast: { type: 'info', content: '已发送登记方法' } };
    }
    reply.card(buildCheckinForm(ctx, p, { villageId: Number(m[2]), stageKey: m[3]! }));
    return { toast: { type: 'info', content: '已发送登记表单，确认后提交即可' } };
  };
}

const snoozeSchema = z.object({ item: z.string().regex(ITEM_KEY), days: z.union([z.literal(1), z.literal(3)]) });

/** 延后 on a reminder: no reminder of that item to this person for 1 or 3 days. */
export function reminderSnoozeHandler(deps: WorkflowDeps, db: Db, schedule: ScheduleRepo): CardActionHandler {
  return (input) => {
    try {
      const ctx = contextFor(deps, input.ctx.clock);
      const parsed = snoozeSchema.safeParse({ item: input.value.item, days: Number(input.value.days) });
      if (!parsed.success) return { toast: { type: 'error', content: '无法识别的延后操作。' } };
      const p = loadPrincipal(deps.repos.roster, input.actor);
      if (!isKnown(p)) return { toast: { type: 'error', content: NOT_IN_ROSTER } };
      const until = addDays(today(ctx), parsed.data.days);
      const now = ctx.clock.now();
      inTransaction(db, () => {
        schedule.snooze(p.openId, parsed.data.item, until, `card:${input.env.eventId}`, now);
        deps.repos.audit.record({ at: now, actor: p.openId, action: 'reminder:snooze', target: parsed.data.item, after: { until } });
      });
      return { toast: { type: 'success', content: `已延后，${formatDateCn(until)}再提醒。` } };
    } catch (e) {
      const err = asAppError(e);
      if (!(e instanceof AppError)) input.ctx.logger.error({ err: e }, 'snooze failed');
      return { toast: { type: 'error', content: err.userMessage } };
    }
  };
}
