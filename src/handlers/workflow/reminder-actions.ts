import { z } from 'zod';
import { AppError, asAppError } from '../../errors.js';
import { inTransaction, type Db } from '../../store/db.js';
import type { ScheduleRepo } from '../../store/schedule-repo.js';
import { today } from '../../workflow/context.js';
import { addDays, formatDateCn } from '../../workflow/dates.js';
import { canWriteVillage, isKnown, loadPrincipal, notInRosterMessage, type Principal } from '../../workflow/permissions.js';
import { canWriteTalk } from '../../workflow/talks.js';
import type { WorkflowContext } from '../../workflow/context.js';
import type { AuditRepo } from '../../store/audit-repo.js';
import type { CardActionHandler, CardActionResponse } from '../card-action.js';
import { sendTo } from '../reply.js';
import { buildCheckinForm } from './checkin-form.js';
import { contextFor, type WorkflowDeps } from './services.js';

const ITEM_KEY = /^(stage:(\d{1,12}):([a-z0-9_]{1,40})|talk:(\d{1,12}))$/;

/**
 * Whether the item on a reminder is the presser's to act on: a stage of a
 * village they may write, or a talk they may record. Reminders only go to
 * such people; a button pressed on anything else (a forwarded card, a forged
 * callback) is refused.
 */
function mayActOn(ctx: WorkflowContext, p: Principal, item: string): 'yes' | 'no' | 'gone' {
  const m = ITEM_KEY.exec(item);
  if (!m) return 'no';
  if (m[4]) {
    const talk = ctx.repos.talks.get(Number(m[4]));
    return !talk ? 'gone' : canWriteTalk(ctx, p, talk) ? 'yes' : 'no';
  }
  const v = ctx.repos.roster.village(Number(m[2]));
  return !v ? 'gone' : canWriteVillage(p, v) ? 'yes' : 'no';
}
const GONE = { toast: { type: 'warning', content: '该提醒事项已不在计划中，无需再处理；发送「我的」可查看当前待办。' } } satisfies CardActionResponse;

/** A refusal from a reminder button: audited like every other refusal (denied:<action>), answered with a toast. */
function refuse(audit: AuditRepo, actor: string, action: string, item: string | null, message: string, now: number): CardActionResponse {
  audit.record({ at: now, actor, action: `denied:${action}`, target: item, detail: message });
  return { toast: { type: 'error', content: message } };
}
const NOT_YOURS = '该提醒事项不是您负责的，不能在此操作；如有疑问请联系换届办。';

/** 已完成 on a reminder: sends the check-in form with the village and stage chosen (talks: how to record one). */
export function reminderDoneHandler(deps: WorkflowDeps): CardActionHandler {
  return (input) => {
    const ctx = contextFor(deps, input.ctx.clock);
    const m = ITEM_KEY.exec(String(input.value.item ?? ''));
    if (!m) return { toast: { type: 'error', content: '无法识别的提醒事项，请在最新的提醒卡片上操作，或发送「我的」查看待办。' } };
    const p = loadPrincipal(deps.repos.roster, input.actor);
    if (!isKnown(p)) return refuse(deps.repos.audit, p.openId, 'reminder_done', m[0], notInRosterMessage(p), ctx.clock.now());
    const may = mayActOn(ctx, p, m[0]);
    if (may === 'gone') return GONE;
    if (may === 'no') return refuse(deps.repos.audit, p.openId, 'reminder_done', m[0], NOT_YOURS, ctx.clock.now());
    const reply = sendTo(input.ctx.outbox, { type: 'open_id', id: p.openId }, `reminder-done:${input.env.eventId}`);
    if (m[4]) {
      const talk = ctx.repos.talks.get(Number(m[4]))!;
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
      if (!parsed.success) return { toast: { type: 'error', content: '无法识别的延后操作，请在最新的提醒卡片上点「延后1天」或「延后3天」。' } };
      const p = loadPrincipal(deps.repos.roster, input.actor);
      const now = ctx.clock.now();
      if (!isKnown(p)) return refuse(deps.repos.audit, p.openId, 'reminder_snooze', parsed.data.item, notInRosterMessage(p), now);
      const may = mayActOn(ctx, p, parsed.data.item);
      if (may === 'gone') return GONE;
      if (may === 'no') return refuse(deps.repos.audit, p.openId, 'reminder_snooze', parsed.data.item, NOT_YOURS, now);
      const until = addDays(today(ctx), parsed.data.days);
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
