import type { Db } from './db.js';
import type { StageStatus } from '../workflow/types.js';

/** Per-village deadline overrides and the current status of each stage. */

export interface StageProgressRow {
  village_id: number;
  stage_key: string;
  status: StageStatus;
  completed_on: string | null;
  note: string | null;
  updated_by: string;
  updated_at: number;
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
    allDone: db.prepare(`SELECT village_id, stage_key FROM wf_stage_progress WHERE status = '已完成'`),
    doneOfCounty: db
      .prepare(
        `SELECT p.village_id, p.stage_key FROM wf_regions t JOIN wf_regions v ON v.parent_id = t.id JOIN wf_stage_progress p ON p.village_id = v.id
          WHERE t.parent_id = ? AND t.kind = 'township' AND p.status = '已完成'`,
      )
      .raw(true),
    overridesOfCounty: db.prepare(
      `SELECT o.village_id, o.stage_key, o.deadline FROM wf_regions t JOIN wf_regions v ON v.parent_id = t.id JOIN wf_stage_overrides o ON o.village_id = v.id
        WHERE t.parent_id = ? AND t.kind = 'township'`,
    ),
    one: db.prepare(`SELECT * FROM wf_stage_progress WHERE village_id = ? AND stage_key = ?`),
    upsert: db.prepare(
      `INSERT INTO wf_stage_progress (village_id, stage_key, status, completed_on, note, updated_by, updated_at)
       VALUES (@village_id, @stage_key, @status, @completed_on, @note, @updated_by, @updated_at)
       ON CONFLICT (village_id, stage_key) DO UPDATE SET status = excluded.status, completed_on = excluded.completed_on,
         note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    ),
  };
  return {
    overrides(villageId: number): Map<string, string> {
      return new Map((s.overrides.all(villageId) as { stage_key: string; deadline: string }[]).map((r) => [r.stage_key, r.deadline]));
    },
    /** Deadline overrides by village: all of them, or one county's. */
    allOverrides(countyId?: number): Map<number, Map<string, string>> {
      const m = new Map<number, Map<string, string>>();
      const rows = countyId === undefined ? s.allOverrides.all() : s.overridesOfCounty.all(countyId);
      for (const r of rows as { village_id: number; stage_key: string; deadline: string }[]) {
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
    /** The stages reported 已完成, by village, all or one county's (the reminder scan needs nothing else of the progress rows). */
    allDone(countyId?: number): Map<number, Set<string>> {
      const m = new Map<number, Set<string>>();
      const add = (village: number, stage: string) => {
        let v = m.get(village);
        if (!v) m.set(village, (v = new Set()));
        v.add(stage);
      };
      if (countyId === undefined) for (const r of s.allDone.iterate() as Iterable<{ village_id: number; stage_key: string }>) add(r.village_id, r.stage_key);
      else for (const [village, stage] of s.doneOfCounty.iterate(countyId) as Iterable<[number, string]>) add(village, stage);
      return m;
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
    setStage(row: StageProgressRow): void {
      s.upsert.run(row);
    },
  };
}

export type PlanRepo = ReturnType<typeof createPlanRepo>;
