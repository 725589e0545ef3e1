import { UserError } from '../errors.js';
import { applyChange, replayOf, type ChangeResult } from './changes.js';
import type { WorkflowContext } from './context.js';
import { formatDateCn, futureDateRefusal, todayIn } from './dates.js';
import { isSuperseded, refuseSuperseded } from './ordering.js';
import { stagesFor, type StageTemplate } from './stage-templates.js';
import type { StageProgressRow } from '../store/plan-repo.js';
import type { IsoDate, StageStatus, Village } from './types.js';

/**
 * Recording a stage status for a village (进度 / 完成 / the card form). The
 * caller has parsed and authorised; this decides whether the change is
 * allowed by the plan (prerequisites, dates) and records it.
 */
export interface StageCheckin {
  sourceId: string;
  actor: string;
  actorName: string;
  village: Village;
  stage: StageTemplate;
  status: StageStatus;
  /** The day it was done (已完成) or the day reported; default today. */
  date?: IsoDate;
  note?: string;
  /**
   * When the sender sent it (the message's create_time; a card action: when it was received);
   * default now. Its day is 今天 for the date rules, and it orders check-ins (ordering.ts).
   */
  sentAt?: number;
}

/** Statuses that mean the stage has started, so its prerequisites must be done (先审计、后换届). */
const STARTED: ReadonlySet<StageStatus> = new Set(['进行中', '已完成']);

export function recordStage(ctx: WorkflowContext, c: StageCheckin): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  const sentAt = c.sentAt ?? ctx.clock.now();
  const t = todayIn(ctx.tz, sentAt);
  const future = c.date ? futureDateRefusal(c.date, t) : null;
  if (future) throw new UserError(future);
  const progress = ctx.repos.plan.progress(c.village.id);
  const stages = stagesFor(c.village.type);
  const label = `${c.village.name}「${c.stage.name}」`;
  const current = progress.get(c.stage.key);
  const completedOn = c.status === '已完成' ? (c.date ?? t) : null;
  const note = c.note?.trim() ? c.note.trim().slice(0, 500) : null;
  const dateNote = c.date && c.status !== '已完成' ? `${formatDateCn(c.date, t)}` : null;
  const fullNote = [dateNote, note].filter(Boolean).join(' ') || null;
  if (current && current.status === c.status && current.completed_on === completedOn && current.note === fullNote) {
    throw new UserError(`${label}已经是“${c.status}”${completedOn ? `（${formatDateCn(completedOn, t)}）` : ''}，无需重复登记。`);
  }
  const target = `village:${c.village.id}/stage:${c.stage.key}`;
  // Checked here (before the plan's rules judge an outdated message) and again inside the write lock.
  const refuseIfOutdated = (row: StageProgressRow | undefined) => {
    if (!row || !isSuperseded(row.as_of, sentAt)) return;
    refuseSuperseded(ctx, {
      sourceId: c.sourceId,
      actor: c.actor,
      kind: 'checkin.stage',
      target,
      sentAt,
      asOf: row.as_of!,
      current: row,
      attempted: { status: c.status, completed_on: completedOn, note: fullNote },
      now: `${label}现在是“${row.status}”${row.completed_on ? `（${formatDateCn(row.completed_on, t)}）` : ''}`,
    });
  };
  refuseIfOutdated(current);

  if (STARTED.has(c.status)) {
    const missing = c.stage.prerequisites
      .map((k) => stages.find((s) => s.key === k)!)
      .filter((s) => progress.get(s.key)?.status !== '已完成');
    if (missing.length) {
      const list = missing.map((s) => `「${s.name}」（${progress.get(s.key)?.status ?? '未开始'}）`).join('、');
      const why = missing.some((s) => s.key === 'audit') ? '按照“先审计、后换届”，' : '';
      throw new UserError(`${why}${label}的前置阶段尚未完成：${list}。请先登记前置阶段完成。`, 'conflict');
    }
  }
  if (completedOn) {
    for (const k of c.stage.prerequisites) {
      const p = progress.get(k);
      if (p?.completed_on && p.completed_on > completedOn) {
        const s = stages.find((x) => x.key === k)!;
        throw new UserError(`${label}的完成日期 ${formatDateCn(completedOn, t)} 早于前置阶段「${s.name}」的完成日期 ${formatDateCn(p.completed_on, t)}，请核对日期。`, 'conflict');
      }
    }
  }
  if (current?.status === '已完成' && c.status !== '已完成') {
    const dependants = stages.filter((s) => s.prerequisites.includes(c.stage.key) && STARTED.has(progress.get(s.key)?.status ?? '未开始'));
    if (dependants.length) {
      throw new UserError(
        `${label}之后的「${dependants.map((s) => s.name).join('、')}」已经开始，不能把它改回“${c.status}”。如确需更正，请先更正后续阶段。`,
        'conflict',
      );
    }
  }

  const when = completedOn ? `，完成日期 ${formatDateCn(completedOn, t)}` : '';
  const summary = `${c.village.township}${c.village.name}「${c.stage.name}」${current ? `由“${current.status}”改为` : '登记为'}“${c.status}”${when}${note ? `，备注：${note}` : ''}`;
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.actor,
    kind: 'checkin.stage',
    target,
    touches: [{ entity: 'stage_progress', key: { village_id: c.village.id, stage_key: c.stage.key } }],
    mutate: () => {
      refuseIfOutdated(ctx.repos.plan.stage(c.village.id, c.stage.key));
      ctx.repos.plan.setStage({
        village_id: c.village.id,
        stage_key: c.stage.key,
        status: c.status,
        completed_on: completedOn,
        note: fullNote,
        updated_by: c.actor,
        updated_at: ctx.clock.now(),
        as_of: sentAt,
      });
    },
    summary,
  });
}

/** Undo guard: a stage cannot go back to not-done while a stage that needs it has started. */
export function stageUndoGuard(ctx: WorkflowContext, villageId: number, stageKey: string, restoredStatus: StageStatus | undefined): void {
  const village = ctx.repos.roster.village(villageId);
  if (!village) return;
  if (restoredStatus === '已完成') return;
  const progress = ctx.repos.plan.progress(villageId);
  if (progress.get(stageKey)?.status !== '已完成') return;
  const stages = stagesFor(village.type);
  const dependants = stages.filter((s) => s.prerequisites.includes(stageKey) && STARTED.has(progress.get(s.key)?.status ?? '未开始'));
  if (dependants.length) {
    const name = stages.find((s) => s.key === stageKey)?.name ?? stageKey;
    throw new UserError(`「${name}」之后的「${dependants.map((s) => s.name).join('、')}」已经开始，不能撤销「${name}」的完成登记。`, 'conflict');
  }
}
