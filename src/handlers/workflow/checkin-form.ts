import { z } from 'zod';
import { card, md, type Card, type CardElement } from '../../bot/cards.js';
import { AppError, asAppError } from '../../errors.js';
import { parseInput, type FieldLabels } from '../../validation.js';
import { recordStage } from '../../workflow/checkin.js';
import type { WorkflowContext } from '../../workflow/context.js';
import { readDate, todayIn } from '../../workflow/dates.js';
import { canWriteVillage, deny, isKnown, loadPrincipal, notInRosterMessage, type Principal } from '../../workflow/permissions.js';
import { villagesOf } from '../../workflow/progress.js';
import { stageByKey, stagesFor } from '../../workflow/stage-templates.js';
import { STAGE_STATUSES } from '../../workflow/types.js';
import type { CardActionHandler } from '../card-action.js';
import { sendTo } from '../reply.js';
import { contextFor, type WorkflowDeps } from './services.js';

/**
 * 提交进度 as a card form (JSON 2.0 `form`): village (the sender's), stage,
 * status, optional date and note. The submission comes back as
 * card.action.trigger with action.value.action = 'checkin_submit' and the
 * fields in form_value; it is recorded exactly like the chat command, keyed by
 * the callback's event id.
 */
export const CHECKIN_ACTION = 'checkin_submit';
/** Lark's select_static is meant for short lists; beyond this the chat command is the way. */
const MAX_VILLAGE_OPTIONS = 100;

const option = (text: string, value: string) => ({ text: { tag: 'plain_text', content: text }, value });
const placeholder = (content: string) => ({ tag: 'plain_text', content });

/** `prefill` (from a reminder's 已完成 button) selects the village and stage and proposes 已完成. */
export function buildCheckinForm(ctx: WorkflowContext, p: Principal, prefill?: { villageId: number; stageKey: string }): Card {
  const villages = villagesOf(ctx, p).filter((v) => canWriteVillage(p, v));
  if (!villages.length) {
    return card({ title: '提交进度', template: 'grey', elements: [md('花名册中还没有分配给您的村(社区)，无法提交进度。如有疑问请联系换届办。')] });
  }
  const counts = new Map<string, number>();
  for (const v of villages) counts.set(v.name, (counts.get(v.name) ?? 0) + 1);
  const shown = villages.slice(0, MAX_VILLAGE_OPTIONS);
  // Stage keys are shared by the 村 and 社区 templates; the option shows both names where they differ.
  const village = stagesFor('村');
  const community = stagesFor('社区');
  const stageOptions = village.map((s) => {
    const other = community.find((c) => c.key === s.key);
    return option(other && other.name !== s.name ? `${s.name}/${other.name}` : s.name, s.key);
  });
  const form: CardElement = {
    tag: 'form',
    name: 'checkin_form',
    elements: [
      {
        tag: 'select_static',
        name: 'village',
        required: true,
        placeholder: placeholder('村(社区)'),
        options: shown.map((v) => option((counts.get(v.name) ?? 0) > 1 ? `${v.township}${v.name}` : v.name, String(v.id))),
        ...(prefill && shown.some((v) => v.id === prefill.villageId) ? { initial_option: String(prefill.villageId) } : {}),
      },
      {
        tag: 'select_static',
        name: 'stage',
        required: true,
        placeholder: placeholder('阶段'),
        options: stageOptions,
        ...(prefill && stageOptions.some((o) => o.value === prefill.stageKey) ? { initial_option: prefill.stageKey } : {}),
      },
      {
        tag: 'select_static',
        name: 'status',
        required: true,
        placeholder: placeholder('状态'),
        options: STAGE_STATUSES.map((s) => option(s, s)),
        ...(prefill ? { initial_option: '已完成' } : {}),
      },
      { tag: 'date_picker', name: 'date', required: false, placeholder: placeholder('完成日期（默认今天）') },
      { tag: 'input', name: 'note', required: false, max_length: 500, placeholder: placeholder('备注（选填）') },
      {
        tag: 'button',
        name: 'checkin_submit',
        type: 'primary',
        form_action_type: 'submit',
        text: { tag: 'plain_text', content: '提交' },
        behaviors: [{ type: 'callback', value: { action: CHECKIN_ACTION } }],
      },
    ],
  };
  const more = villages.length > MAX_VILLAGE_OPTIONS ? `\n（仅列出前 ${MAX_VILLAGE_OPTIONS} 个村(社区)；其他请用命令「完成 村名 阶段」。）` : '';
  return card({
    title: '提交进度',
    template: 'blue',
    summary: '提交换届进度',
    elements: [md(`选择村(社区)、阶段和状态后提交；也可以直接发送「完成 村名 阶段」。${more}`), form],
  });
}

const formSchema = z.object({
  // A select's value is a string; a number that is a well-formed id is taken as one.
  village: z.preprocess((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v), z.string().regex(/^\d{1,12}$/, '请选择村(社区)')),
  stage: z.string().min(1, '请选择阶段').max(40),
  status: z.enum(STAGE_STATUSES, { message: '请选择状态' }),
  note: z.string().max(500, '备注过长（最多 500 字）').optional(),
  date: z.string().max(40).optional(),
});
/** The form's fields as the person sees them, and what to do when one is wrong (src/validation.ts). */
const FORM_FIELDS: FieldLabels = {
  village: { label: '村(社区)', hint: '请在表单中重新选择村(社区)' },
  stage: { label: '阶段', hint: '请在表单中重新选择阶段' },
  status: { label: '状态', hint: '请在表单中重新选择状态' },
  note: { label: '备注', hint: '请精简到 500 字以内后重新提交' },
  date: { label: '完成日期', hint: '请在日期选择器中选择日期，或不选（默认今天）' },
};

export function checkinSubmitHandler(deps: WorkflowDeps): CardActionHandler {
  return (input) => {
    const ctx = contextFor(deps, input.ctx.clock);
    const eventId = input.env.eventId;
    try {
      const p = loadPrincipal(deps.repos.roster, input.actor);
      if (!isKnown(p)) deny(deps.repos.audit, p, '提交进度', null, notInRosterMessage(p), ctx.clock.now());
      const fv = Object.fromEntries(Object.entries(input.formValue).map(([k, v]) => [k, typeof v === 'string' ? v.trim() || undefined : v]));
      const parsed = parseInput(formSchema, fv, { fields: FORM_FIELDS, hint: '请重新打开表单填写后提交' });
      if (!parsed.ok) return { toast: { type: 'error', content: parsed.message } };
      const f = parsed.data;
      const village = ctx.repos.roster.village(Number(f.village));
      if (!village) return { toast: { type: 'error', content: '该村(社区)已不在名单中，请重新打开表单。' } };
      const stage = stageByKey(village.type, f.stage);
      if (!stage) return { toast: { type: 'error', content: '请选择阶段。' } };
      if (!canWriteVillage(p, village)) {
        deny(deps.repos.audit, p, '提交进度', `village:${village.id}`, `「${village.township}${village.name}」不是您负责的村(社区)，不能登记进度。`, ctx.clock.now());
      }
      // A card action has no create_time: it is as of its receipt, one instant for its 今天 and its order.
      const sentAt = ctx.clock.now();
      let date: string | undefined;
      if (f.date) {
        // date_picker sends "2026-11-20 +0800": read by the same rules as a date typed in chat.
        const d = readDate(f.date, todayIn(ctx.tz, sentAt));
        if (d?.kind !== 'date') return { toast: { type: 'error', content: d?.message ?? `「${f.date}」不是日期，请在日期选择器中选择完成的日期，或不选（默认今天）。` } };
        date = d.date;
      }
      const r = recordStage(ctx, { sourceId: `card:${eventId}`, actor: p.openId, actorName: p.name, village, stage, status: f.status, date, note: f.note, sentAt });
      sendTo(input.ctx.outbox, { type: 'open_id', id: p.openId }, `checkin:${eventId}`).text(`✅ 已登记：${r.summary}。\n如有误，发送「撤销」可撤回。`);
      return { toast: { type: 'success', content: '已登记' } };
    } catch (e) {
      const err = asAppError(e);
      if (!(e instanceof AppError)) input.ctx.logger.error({ err: e }, 'check-in form failed');
      return { toast: { type: 'error', content: err.userMessage } };
    }
  };
}
