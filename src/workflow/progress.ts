import { today, type WorkflowContext } from './context.js';
import { daysBetween } from './dates.js';
import { inScope, type Principal } from './permissions.js';
import { completion, villagePlan, type StageLine } from './plan.js';
import { talkPlace } from './talks.js';
import type { IsoDate, Person, Village } from './types.js';

/**
 * Read models over the plan: a village's stages, flat rows for the CLI, and
 * the inputs of reminders and digests (issue 5): due items per person,
 * overdue lists with who is responsible, township ranking.
 */

export function villageLines(ctx: WorkflowContext, village: Village, day = today(ctx)): StageLine[] {
  return villagePlan(village, ctx.repos.plan.overrides(village.id), ctx.repos.plan.progress(village.id), day);
}

/** Every village with its stage lines, in one pass over the tables. */
export function allVillageLines(ctx: WorkflowContext, filter?: (v: Village) => boolean, day = today(ctx)): { village: Village; lines: StageLine[] }[] {
  const overrides = ctx.repos.plan.allOverrides();
  const progress = ctx.repos.plan.allProgress();
  return ctx.repos.roster
    .villages()
    .filter((v) => !filter || filter(v))
    .map((v) => ({ village: v, lines: villagePlan(v, overrides.get(v.id), progress.get(v.id), day) }));
}

/** The SPEC §3.3 `progress --json` line. */
export interface ProgressRow {
  village: string;
  township: string;
  stage: string;
  order: number;
  status: string;
  deadline: IsoDate | null;
  completed_at: IsoDate | null;
  by: string | null;
}

export function progressRows(ctx: WorkflowContext, filter?: (v: Village) => boolean): ProgressRow[] {
  const names = new Map(ctx.repos.roster.people().map((p) => [p.openId, p.name]));
  return allVillageLines(ctx, filter).flatMap(({ village, lines }) =>
    lines.map((l) => ({
      village: village.name,
      township: village.township,
      stage: l.stage.name,
      order: l.stage.order,
      status: l.status,
      deadline: l.deadline,
      completed_at: l.completedOn,
      by: l.updatedBy ? (names.get(l.updatedBy) ?? l.updatedBy) : null,
    })),
  );
}

/** The villages a principal works on: assigned ones, or the whole scope for leaders and admins. */
export function villagesOf(ctx: WorkflowContext, p: Principal): Village[] {
  const all = ctx.repos.roster.villages();
  if (p.isAdmin && p.scopeId === null) return all;
  if (p.isAdmin || p.role === '领导') return all.filter((v) => inScope(p, v) || p.villageIds.has(v.id));
  return all.filter((v) => p.villageIds.has(v.id));
}

/** Something a person has to do by a date. */
export interface DueItem {
  kind: 'stage' | 'talk';
  village: string;
  township: string;
  villageId: number | null;
  /** Stage name, or the talk as 「类别：对象」. */
  what: string;
  stageKey?: string;
  talkId?: number;
  due: IsoDate;
  status: string;
  /** > 0 overdue by that many days; 0 due today; < 0 due in that many days. */
  overdueDays: number;
}

/**
 * A person's open items with a deadline: stages of the villages assigned to
 * them that are not 已完成, and talks where they are the interviewer and that
 * are not held yet. Sorted by due date. `horizonDays` limits to items due
 * within that many days from `day` (overdue ones are always included).
 */
export function dueItemsFor(ctx: WorkflowContext, person: Pick<Person, 'id'>, opts: { day?: IsoDate; horizonDays?: number } = {}): DueItem[] {
  const day = opts.day ?? today(ctx);
  const villageIds = new Set(ctx.repos.roster.assignedVillageIds(person.id));
  const items: DueItem[] = [];
  for (const { village, lines } of allVillageLines(ctx, (v) => villageIds.has(v.id), day)) {
    for (const l of lines) {
      if (l.status === '已完成' || !l.deadline || l.stage.optional) continue;
      items.push({
        kind: 'stage',
        village: village.name,
        township: village.township,
        villageId: village.id,
        what: l.stage.name,
        stageKey: l.stage.key,
        due: l.deadline,
        status: l.status,
        overdueDays: daysBetween(l.deadline, day),
      });
    }
  }
  for (const t of ctx.repos.talks.all()) {
    if (t.status === '已谈' || !t.due_date || !t.interviewer_ids.includes(person.id)) continue;
    const place = talkPlace(ctx, t.region_id);
    const v = place.villageId !== null ? ctx.repos.roster.village(place.villageId) : undefined;
    items.push({
      kind: 'talk',
      village: v?.name ?? place.label,
      township: v?.township ?? place.label,
      villageId: place.villageId,
      what: `${t.category}：${t.subject}`,
      talkId: t.id,
      due: t.due_date,
      status: t.status,
      overdueDays: daysBetween(t.due_date, day),
    });
  }
  const h = opts.horizonDays;
  return items.filter((i) => h === undefined || i.overdueDays > 0 || -i.overdueDays <= h).sort((a, b) => a.due.localeCompare(b.due) || a.village.localeCompare(b.village));
}

/** Overdue stages with the people assigned to the village (the named list leaders act on). */
export function overdueStages(ctx: WorkflowContext, filter?: (v: Village) => boolean, day = today(ctx)): { village: Village; line: StageLine; responsible: Person[] }[] {
  const out: { village: Village; line: StageLine; responsible: Person[] }[] = [];
  for (const { village, lines } of allVillageLines(ctx, filter, day)) {
    const late = lines.filter((l) => l.overdueDays > 0);
    if (!late.length) continue;
    const responsible = ctx.repos.roster.assignees(village.id);
    for (const line of late) out.push({ village, line, responsible });
  }
  return out.sort((a, b) => b.line.overdueDays - a.line.overdueDays);
}

/** Per township: villages, required stages done/total, overdue stage count, stages completed on `day` − 1 (晾晒 inputs). */
export function townshipStats(ctx: WorkflowContext, day = today(ctx)): { townshipId: number; township: string; county: string; villages: number; done: number; total: number; overdue: number; rate: number }[] {
  const by = new Map<number, { townshipId: number; township: string; county: string; villages: number; done: number; total: number; overdue: number; rate: number }>();
  for (const { village, lines } of allVillageLines(ctx, undefined, day)) {
    let t = by.get(village.townshipId);
    if (!t) by.set(village.townshipId, (t = { townshipId: village.townshipId, township: village.township, county: village.county, villages: 0, done: 0, total: 0, overdue: 0, rate: 0 }));
    const c = completion(lines);
    t.villages++;
    t.done += c.done;
    t.total += c.total;
    t.overdue += lines.filter((l) => l.overdueDays > 0).length;
  }
  const list = [...by.values()];
  for (const t of list) t.rate = t.total ? t.done / t.total : 0;
  return list.sort((a, b) => b.rate - a.rate || a.overdue - b.overdue || a.township.localeCompare(b.township));
}
