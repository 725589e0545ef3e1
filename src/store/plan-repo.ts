import type { Db } from './db.js';
import type { StageStatus, VillageType } from '../workflow/types.js';

/** Per-village deadline overrides and the current status of each stage. */

export interface StageProgressRow {
  village_id: number;
  stage_key: string;
  status: StageStatus;
  completed_on: string | null;
  note: string | null;
  updated_by: string;
  updated_at: number;
  /** The instant of the message that set this state (ordering, issue 17); null for rows older than the column. */
  as_of: number | null;
}

/** A village as the reminder scan reads it: its people (ids), stages done, deadline overrides. */
export interface CountyVillagePlan {
  id: number;
  name: string;
  type: VillageType;
  electionDay: string | null;
  townshipId: number;
  township: string;
  assigneeIds: number[];
  done: Set<string> | null;
  overrides: Map<string, string> | null;
}

export function createPlanRepo(db: Db) {
  const s = {
    overrides: db.prepare(`SELECT stage_key, deadline FROM wf_stage_overrides WHERE village_id = ?`),
    allOverrides: db.prepare(`SELECT village_id, stage_key, deadline FROM wf_stage_overrides`),
    override: db.prepare(`SELECT deadline FROM wf_stage_overrides WHERE village_id = ? AND stage_key = ?`),
    upsertOverride: db.prepare(
      `INSERT INTO wf_stage_overrides (village_id, stage_key, deadline) VALUES (?, ?, ?)
       ON CONFLICT (village_id, stage_key) DO UPDATE SET deadline = excluded.deadline`,
    ),
    progress: db.prepare(`SELECT * FROM wf_stage_progress WHERE village_id = ?`),
    allProgress: db.prepare(`SELECT * FROM wf_stage_progress`),
    // Stage keys and dates contain neither ',' nor '=' (keys are identifiers, dates ISO).
    countyPlan: db
      .prepare(
        `SELECT v.id, v.name, v.village_type, v.election_day, t.id, t.name,
           (SELECT group_concat(a.person_id) FROM wf_assignments a WHERE a.village_id = v.id),
           (SELECT group_concat(p.stage_key, ',') FROM wf_stage_progress p WHERE p.village_id = v.id AND p.status = '已完成'),
           (SELECT group_concat(o.stage_key || '=' || o.deadline, ',') FROM wf_stage_overrides o WHERE o.village_id = v.id)
         FROM wf_regions t JOIN wf_regions v ON v.parent_id = t.id AND v.kind = 'village'
         WHERE t.parent_id = ? AND t.kind = 'township'`,
      )
      .raw(true),
    one: db.prepare(`SELECT * FROM wf_stage_progress WHERE village_id = ? AND stage_key = ?`),
    upsert: db.prepare(
      `INSERT INTO wf_stage_progress (village_id, stage_key, status, completed_on, note, updated_by, updated_at, as_of)
       VALUES (@village_id, @stage_key, @status, @completed_on, @note, @updated_by, @updated_at, @as_of)
       ON CONFLICT (village_id, stage_key) DO UPDATE SET status = excluded.status, completed_on = excluded.completed_on,
         note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at, as_of = excluded.as_of`,
    ),
  };
  return {
    overrides(villageId: number): Map<string, string> {
      return new Map((s.overrides.all(villageId) as { stage_key: string; deadline: string }[]).map((r) => [r.stage_key, r.deadline]));
    },
    allOverrides(): Map<number, Map<string, string>> {
      const m = new Map<number, Map<string, string>>();
      for (const r of s.allOverrides.all() as { village_id: number; stage_key: string; deadline: string }[]) {
        let v = m.get(r.village_id);
        if (!v) m.set(r.village_id, (v = new Map()));
        v.set(r.stage_key, r.deadline);
      }
      return m;
    },
    override(villageId: number, stageKey: string): string | undefined {
      return (s.override.get(villageId, stageKey) as { deadline: string } | undefined)?.deadline;
    },
    setOverride(villageId: number, stageKey: string, deadline: string): void {
      s.upsertOverride.run(villageId, stageKey, deadline);
    },
    progress(villageId: number): Map<string, StageProgressRow> {
      return new Map((s.progress.all(villageId) as StageProgressRow[]).map((r) => [r.stage_key, r]));
    },
    /**
     * One county's villages with what the reminder scan needs of each, in one
     * read (one row per village: far fewer rows and objects than four reads).
     */
    countyPlan(countyId: number): CountyVillagePlan[] {
      type Raw = [number, string, VillageType, string | null, number, string, string | null, string | null, string | null];
      return (s.countyPlan.all(countyId) as Raw[]).map(([id, name, type, electionDay, townshipId, township, people, done, overrides]) => ({
        id,
        name,
        type,
        electionDay,
        townshipId,
        township,
        assigneeIds: people ? people.split(',').map(Number) : [],
        done: done ? new Set(done.split(',')) : null,
        overrides: overrides ? new Map(overrides.split(',').map((kv) => kv.split('=') as [string, string])) : null,
      }));
    },
    allProgress(): Map<number, Map<string, StageProgressRow>> {
      const m = new Map<number, Map<string, StageProgressRow>>();
      for (const r of s.allProgress.all() as StageProgressRow[]) {
        let v = m.get(r.village_id);
        if (!v) m.set(r.village_id, (v = new Map()));
        v.set(r.stage_key, r);
      }
      return m;
    },
    stage(villageId: number, stageKey: string): StageProgressRow | undefined {
      return s.one.get(villageId, stageKey) as StageProgressRow | undefined;
    },
    /** as_of defaults to updated_at (seeds and imports: true as of when written). */
    setStage(row: Omit<StageProgressRow, 'as_of'> & { as_of?: number | null }): void {
      s.upsert.run({ ...row, as_of: row.as_of ?? row.updated_at });
    },
  };
}

export type PlanRepo = ReturnType<typeof createPlanRepo>;
