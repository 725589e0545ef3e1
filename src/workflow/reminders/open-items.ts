import { allVillageLines } from '../progress.js';
import { daysBetween } from '../dates.js';
import type { WorkflowContext } from '../context.js';
import type { IsoDate, Person } from '../types.js';

/** Something not yet done that has a deadline, with the people who must do it. */
export interface OpenItem {
  /** Stable identity: `stage:<villageId>:<stageKey>` or `talk:<talkId>` (snoozes refer to it). */
  key: string;
  kind: 'stage' | 'talk';
  villageId: number | null;
  village: string;
  townshipId: number;
  township: string;
  countyId: number;
  /** Stage name, or 「类别：对象」 for a talk. */
  what: string;
  stageKey?: string;
  talkId?: number;
  due: IsoDate;
  /** Who is reminded: the village's assigned cadres and work-team members, or the talk's interviewers. */
  assignees: Person[];
}

/**
 * Every open item of the campaign in one pass over the tables (no per-village
 * queries: the reminder scan must stay under a second for a whole province).
 */
export function openItems(ctx: WorkflowContext, day: IsoDate): OpenItem[] {
  const people = new Map(ctx.repos.roster.people().map((p) => [p.id, p]));
  const assignees = new Map<number, Person[]>();
  for (const a of ctx.repos.roster.allAssignments()) {
    const p = people.get(a.personId);
    if (!p) continue;
    let l = assignees.get(a.villageId);
    if (!l) assignees.set(a.villageId, (l = []));
    l.push(p);
  }
  const items: OpenItem[] = [];
  const villages = new Map<number, { village: string; townshipId: number; township: string; countyId: number }>();
  for (const { village, lines } of allVillageLines(ctx, undefined, day)) {
    villages.set(village.id, { village: village.name, townshipId: village.townshipId, township: village.township, countyId: village.countyId });
    const who = assignees.get(village.id) ?? [];
    for (const l of lines) {
      if (l.status === '已完成' || !l.deadline || l.stage.optional) continue;
      items.push({
        key: `stage:${village.id}:${l.stage.key}`,
        kind: 'stage',
        villageId: village.id,
        village: village.name,
        townshipId: village.townshipId,
        township: village.township,
        countyId: village.countyId,
        what: l.stage.name,
        stageKey: l.stage.key,
        due: l.deadline,
        assignees: who,
      });
    }
  }
  const townships = new Map(ctx.repos.roster.townships().map((t) => [t.id, t]));
  for (const t of ctx.repos.talks.all()) {
    if (t.status === '已谈' || !t.due_date) continue;
    const v = villages.get(t.region_id);
    const town = v ? undefined : townships.get(t.region_id);
    items.push({
      key: `talk:${t.id}`,
      kind: 'talk',
      villageId: v ? t.region_id : null,
      village: v?.village ?? town?.name ?? '',
      townshipId: v?.townshipId ?? t.region_id,
      township: v?.township ?? town?.name ?? '',
      countyId: v?.countyId ?? town?.parentId ?? -1,
      what: `${t.category}：${t.subject}`,
      talkId: t.id,
      due: t.due_date,
      assignees: t.interviewer_ids.map((id) => people.get(id)).filter((p): p is Person => !!p),
    });
  }
  return items;
}

/** > 0 overdue by that many days, 0 due today, < 0 due in that many days. */
export function overdueDays(item: Pick<OpenItem, 'due'>, day: IsoDate): number {
  return daysBetween(item.due, day);
}
