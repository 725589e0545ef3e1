import { addDays } from '../dates.js';
import type { WorkflowContext } from '../context.js';
import { stagesFor } from '../stage-templates.js';
import type { IsoDate, Person, VillageType } from '../types.js';
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
 * The open items that matter on `day`: not done, and overdue or due in 0, 1
 * or 3 days — of the whole campaign, or of one county when `countyId` is given
 * (the slot planner works county by county so that its memory is bounded by
 * the largest county, not the province). One pass over the tables with no
 * per-village queries and no objects for the items that are not due (the scan
 * must stay well under a second for a whole province: 30,000 villages,
 * 100,000 talks).
 */
export function dueOpenItems(
  ctx: WorkflowContext,
  day: IsoDate,
  roster: readonly Person[] = ctx.repos.roster.people(),
  countyId?: number,
  people: ReadonlyMap<number, Person> = new Map(roster.map((p) => [p.id, p])),
): OpenItem[] {
  const upcoming = REMIND_DAYS_BEFORE.map((d) => addDays(day, d));
  const relevant = (due: IsoDate) => due < day || upcoming.includes(due);
  const { roster: rr, plan } = ctx.repos;
  const assignees = new Map<number, Person[]>();
  for (const a of countyId === undefined ? rr.allAssignments() : rr.assignmentsOfCounty(countyId)) {
    const p = people.get(a.personId);
    if (!p) continue;
    let l = assignees.get(a.villageId);
    if (!l) assignees.set(a.villageId, (l = []));
    l.push(p);
  }
  const overrides = plan.allOverrides(countyId);
  const done = plan.allDone(countyId);
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
  const villages = new Map<number, { village: string; townshipId: number; township: string; countyId: number }>();
  for (const v of countyId === undefined ? rr.villages() : rr.villagesOfCounty(countyId)) {
    villages.set(v.id, { village: v.name, townshipId: v.townshipId, township: v.township, countyId: v.countyId });
    const over = overrides.get(v.id);
    const finished = done.get(v.id);
    const stages = stagesFor(v.type);
    const planned = v.electionDay ? deadlines(v.type, v.electionDay) : null;
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      if (stage.optional || finished?.has(stage.key)) continue;
      const due = over?.get(stage.key) ?? (planned ? planned[i]! : null);
      if (!due || !relevant(due)) continue;
      items.push({
        key: `stage:${v.id}:${stage.key}`,
        kind: 'stage',
        villageId: v.id,
        village: v.name,
        townshipId: v.townshipId,
        township: v.township,
        countyId: v.countyId,
        what: stage.name,
        stageKey: stage.key,
        due,
        assignees: assignees.get(v.id) ?? [],
      });
    }
  }
  const townships = new Map(rr.townships().map((t) => [t.id, t]));
  for (const t of ctx.repos.talks.openDue(day, upcoming, countyId)) {
    const v = villages.get(t.region_id);
    const town = v ? undefined : townships.get(t.region_id);
    // Neither a village nor a township: a talk held at county level.
    const county = v || town ? undefined : rr.region(t.region_id);
    items.push({
      key: `talk:${t.id}`,
      kind: 'talk',
      villageId: v ? t.region_id : null,
      village: v?.village ?? town?.name ?? county?.name ?? '',
      townshipId: v?.townshipId ?? t.region_id,
      township: v?.township ?? town?.name ?? county?.name ?? '',
      countyId: v?.countyId ?? town?.parentId ?? county?.id ?? -1,
      what: `${t.category}：${t.subject}`,
      talkId: t.id,
      due: t.due_date,
      assignees: t.interviewer_ids.map((id) => people.get(id)).filter((p): p is Person => !!p),
    });
  }
  return items;
}
