import type { Db } from './db.js';

/** Risk register (问题清单) and follow-up records. */

export interface RiskRow {
  id: number;
  village_id: number;
  category: string;
  severity: '一般' | '较重' | '严重';
  description: string;
  must_check: 0 | 1;
  must_reasons: string | null;
  status: '未结' | '已结';
  opened_by: string;
  opened_at: number;
  closed_by: string | null;
  closed_at: number | null;
}

export interface FollowupRow {
  id: number;
  risk_id: number;
  note: string;
  by: string;
  at: number;
}

export function createRisksRepo(db: Db) {
  const s = {
    insert: db.prepare(
      `INSERT INTO wf_risks (village_id, category, severity, description, must_check, must_reasons, opened_by, opened_at)
       VALUES (@village_id, @category, @severity, @description, @must_check, @must_reasons, @opened_by, @opened_at)`,
    ),
    get: db.prepare(`SELECT * FROM wf_risks WHERE id = ?`),
    all: db.prepare(`SELECT * FROM wf_risks ORDER BY id`),
    byVillage: db.prepare(`SELECT * FROM wf_risks WHERE village_id = ? ORDER BY id`),
    close: db.prepare(`UPDATE wf_risks SET status = '已结', closed_by = ?, closed_at = ? WHERE id = ?`),
    addFollowup: db.prepare(`INSERT INTO wf_risk_followups (risk_id, note, by, at) VALUES (?, ?, ?, ?)`),
    followups: db.prepare(`SELECT * FROM wf_risk_followups WHERE risk_id = ? ORDER BY id`),
  };
  return {
    insert(r: Omit<RiskRow, 'id' | 'status' | 'closed_by' | 'closed_at'>): number {
      return Number(s.insert.run(r).lastInsertRowid);
    },
    get(id: number): RiskRow | undefined {
      return s.get.get(id) as RiskRow | undefined;
    },
    all(): RiskRow[] {
      return s.all.all() as RiskRow[];
    },
    byVillage(villageId: number): RiskRow[] {
      return s.byVillage.all(villageId) as RiskRow[];
    },
    close(id: number, by: string, at: number): void {
      s.close.run(by, at, id);
    },
    addFollowup(riskId: number, note: string, by: string, at: number): number {
      return Number(s.addFollowup.run(riskId, note, by, at).lastInsertRowid);
    },
    followups(riskId: number): FollowupRow[] {
      return s.followups.all(riskId) as FollowupRow[];
    },
  };
}

export type RisksRepo = ReturnType<typeof createRisksRepo>;
