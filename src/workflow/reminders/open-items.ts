import { addDays } from '../dates.js';
import type { WorkflowContext } from '../context.js';
import { stagesFor } from '../stage-templates.js';
import type { IsoDate, Person, Region, VillageType } from '../types.js';
import { REMIND_DAYS_BEFORE } from './select.js';

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
 * The open items of one county that matter on `day`: not done, and overdue or
 * due in 0, 1 or 3 days. The slot planner works county by county, so that its
 * memory is bounded by the largest county, not the province. One read per
 * county for the villages (with their people, stages done and overrides) and
 * one for the talks; no objects for the items that are not due (the whole
 * scan must stay under a second for a province: 30,000 villages, 100,000 talks).
 */
export function dueOpenItems(
  ctx: WorkflowContext,
  day: IsoDate,
  county: { id: number; name: string },
  people: ReadonlyMap<number, Person>,
  townships: ReadonlyMap<number, Region>,
): OpenItem[] {
  const upcoming = REMIND_DAYS_BEFORE.map((d) => addDays(day, d));
  const relevant = (due: IsoDate) => due < day || upcoming.includes(due);
  // Each stage's deadline (election day + offset) per village type and election day, computed once:
  // a province has few distinct election days, and this runs for every stage of every village.
  const memo = new Map<string, IsoDate[]>();
  const deadlines = (type: VillageType, electionDay: string) => {
    const k = `${type}|${electionDay}`;
    let d = memo.get(k);
    if (d === undefined) memo.set(k, (d = stagesFor(type).map((s) => addDays(electionDay, s.offsetDays))));
    return d;
  };
  const items: OpenItem[] = [];
  const villages = new Map<number, { village: string; townshipId: number; township: string }>();
  for (const v of ctx.repos.plan.countyPlan(county.id)) {
    villages.set(v.id, { village: v.name, townshipId: v.townshipId, township: v.township });
    let assignees: Person[] | undefined;
    const stages = stagesFor(v.type);
    const planned = v.electionDay ? deadlines(v.type, v.electionDay) : null;
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      if (stage.optional || v.done?.has(stage.key)) continue;
      const due = v.overrides?.get(stage.key) ?? (planned ? planned[i]! : null);
      if (!due || !relevant(due)) continue;
      assignees ??= v.assigneeIds.map((id) => people.get(id)).filter((p): p is Person => !!p);
      items.push({
        key: `stage:${v.id}:${stage.key}`,
        kind: 'stage',
        villageId: v.id,
        village: v.name,
        townshipId: v.townshipId,
        township: v.township,
        countyId: county.id,
        what: stage.name,
        stageKey: stage.key,
        due,
        assignees,
      });
    }
  }
  for (const t of ctx.repos.talks.openDue(day, upcoming, county.id)) {
    const v = villages.get(t.region_id);
    const town = v ? undefined : townships.get(t.region_id);
    // Neither a village nor a township: a talk held at county level (the county itself).
    const atCounty = !v && !town;
    items.push({
      key: `talk:${t.id}`,
      kind: 'talk',
      villageId: v ? t.region_id : null,
      village: v?.village ?? town?.name ?? (atCounty ? county.name : ''),
      townshipId: v?.townshipId ?? t.region_id,
      township: v?.township ?? town?.name ?? (atCounty ? county.name : ''),
      countyId: county.id,
      what: `${t.category}：${t.subject}`,
      talkId: t.id,
      due: t.due_date,
      assignees: t.interviewer_ids.map((id) => people.get(id)).filter((p): p is Person => !!p),
    });
  }
  return items;
}
