import type { Db } from './db.js';

/** Talk sessions (谈心谈话) and their interviewers. */

export interface TalkRow {
  id: number;
  category: string;
  subject: string;
  region_id: number;
  due_date: string | null;
  status: '待谈' | '已谈';
  held_on: string | null;
  commitment_signed: 0 | 1 | null;
  note: string | null;
  updated_by: string | null;
  updated_at: number | null;
  /** The instant of the message that set this state (ordering, issue 17); null until recorded. */
  as_of: number | null;
}

export interface TalkWithPeople extends TalkRow {
  interviewer_ids: number[];
}

/** A talk is held in a village, a township or a county: the regions of county @county, itself included. */
const REGIONS_OF_COUNTY = `
  SELECT @county
  UNION ALL SELECT id FROM wf_regions WHERE parent_id = @county AND kind = 'township'
  UNION ALL SELECT v.id FROM wf_regions t JOIN wf_regions v ON v.parent_id = t.id WHERE t.parent_id = @county AND t.kind = 'township'`;

export function createTalksRepo(db: Db) {
  const s = {
    find: db.prepare(`SELECT * FROM wf_talks WHERE category = ? AND subject = ? AND region_id = ?`),
    byId: db.prepare(`SELECT * FROM wf_talks WHERE id = ?`),
    all: db.prepare(`SELECT * FROM wf_talks ORDER BY due_date IS NULL, due_date, id`),
    bySubject: db.prepare(`SELECT * FROM wf_talks WHERE subject = ? ORDER BY id`),
    insert: db.prepare(`INSERT INTO wf_talks (category, subject, region_id, due_date) VALUES (?, ?, ?, ?)`),
    setDue: db.prepare(`UPDATE wf_talks SET due_date = ? WHERE id = ?`),
    record: db.prepare(
      `UPDATE wf_talks SET status = @status, held_on = @held_on, commitment_signed = @commitment_signed, note = @note,
         updated_by = @updated_by, updated_at = @updated_at, as_of = @as_of WHERE id = @id`,
    ),
    interviewers: db.prepare(`SELECT person_id FROM wf_talk_interviewers WHERE talk_id = ? ORDER BY person_id`),
    allInterviewers: db.prepare(`SELECT talk_id, person_id FROM wf_talk_interviewers`),
    clearInterviewers: db.prepare(`DELETE FROM wf_talk_interviewers WHERE talk_id = ?`),
    addInterviewer: db.prepare(`INSERT OR IGNORE INTO wf_talk_interviewers (talk_id, person_id) VALUES (?, ?)`),
    // In plan order (first talk of each subject), as SQLite's DISTINCT scan gave; PostgreSQL's has no order.
    subjects: db.prepare(`SELECT subject FROM wf_talks GROUP BY subject ORDER BY MIN(id)`),
    // Talks of one county not held whose due date is past or on one of the given days (the reminder scan).
    openDue: db.prepare(
      `SELECT id, category, subject, region_id, due_date FROM wf_talks
        WHERE status = '待谈' AND due_date IS NOT NULL AND (due_date < @day OR due_date IN (@d1, @d2, @d3))
          AND region_id IN (${REGIONS_OF_COUNTY})`,
    ),
    openDueInterviewers: db.prepare(
      `SELECT ti.talk_id, ti.person_id FROM wf_talk_interviewers ti JOIN wf_talks t ON t.id = ti.talk_id
        WHERE t.status = '待谈' AND t.due_date IS NOT NULL AND (t.due_date < @day OR t.due_date IN (@d1, @d2, @d3))
          AND t.region_id IN (${REGIONS_OF_COUNTY})`,
    ),
  };
  const withPeople = (rows: TalkRow[]): TalkWithPeople[] => {
    const map = new Map<number, number[]>();
    for (const r of s.allInterviewers.all() as { talk_id: number; person_id: number }[]) {
      let l = map.get(r.talk_id);
      if (!l) map.set(r.talk_id, (l = []));
      l.push(r.person_id);
    }
    return rows.map((r) => ({ ...r, interviewer_ids: map.get(r.id) ?? [] }));
  };
  return {
    find(category: string, subject: string, regionId: number): TalkRow | undefined {
      return s.find.get(category, subject, regionId) as TalkRow | undefined;
    },
    get(id: number): TalkWithPeople | undefined {
      const r = s.byId.get(id) as TalkRow | undefined;
      if (!r) return undefined;
      return { ...r, interviewer_ids: (s.interviewers.all(id) as { person_id: number }[]).map((x) => x.person_id) };
    },
    /** One county's talks still to hold that are overdue on `day` or due on one of `days` (at most three), with their interviewers. */
    openDue(
      day: string,
      days: readonly string[],
      countyId: number,
    ): { id: number; category: string; subject: string; region_id: number; due_date: string; interviewer_ids: number[] }[] {
      const p = { day, d1: days[0] ?? day, d2: days[1] ?? day, d3: days[2] ?? day, county: countyId };
      const map = new Map<number, number[]>();
      for (const r of s.openDueInterviewers.all(p) as { talk_id: number; person_id: number }[]) {
        let l = map.get(r.talk_id);
        if (!l) map.set(r.talk_id, (l = []));
        l.push(r.person_id);
      }
      return (s.openDue.all(p) as { id: number; category: string; subject: string; region_id: number; due_date: string }[]).map((r) => ({
        ...r,
        interviewer_ids: map.get(r.id) ?? [],
      }));
    },
    all(): TalkWithPeople[] {
      return withPeople(s.all.all() as TalkRow[]);
    },
    bySubject(subject: string): TalkWithPeople[] {
      return withPeople(s.bySubject.all(subject) as TalkRow[]);
    },
    subjects(): string[] {
      return (s.subjects.all() as { subject: string }[]).map((r) => r.subject);
    },
    insert(category: string, subject: string, regionId: number, due: string | null): number {
      return Number(s.insert.run(category, subject, regionId, due).lastInsertRowid);
    },
    setDue(id: number, due: string | null): void {
      s.setDue.run(due, id);
    },
    setInterviewers(id: number, personIds: readonly number[]): void {
      s.clearInterviewers.run(id);
      for (const p of personIds) s.addInterviewer.run(id, p);
    },
    /** as_of defaults to updated_at. */
    record(r: Pick<TalkRow, 'id' | 'status' | 'held_on' | 'commitment_signed' | 'note' | 'updated_by' | 'updated_at'> & { as_of?: number | null }): void {
      s.record.run({ ...r, as_of: r.as_of ?? r.updated_at });
    },
  };
}

export type TalksRepo = ReturnType<typeof createTalksRepo>;
