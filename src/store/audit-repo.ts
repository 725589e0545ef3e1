import type { Db } from './db.js';

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  target?: string | null;
  before?: unknown;
  after?: unknown;
  detail?: string | null;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  before: string | null;
  after: string | null;
  detail: string | null;
}

export function createAuditRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor, action, target, before, after, detail)
     VALUES (@at, @actor, @action, @target, @before, @after, @detail)`,
  );
  const recent = db.prepare(`SELECT * FROM audit_log ORDER BY id DESC LIMIT ?`);
  const byActor = db.prepare(`SELECT * FROM audit_log WHERE actor = ? ORDER BY id DESC LIMIT ?`);
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return {
    record(e: AuditEntry): number {
      return Number(
        insert.run({
          at: e.at,
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          before: json(e.before),
          after: json(e.after),
          detail: e.detail ?? null,
        }).lastInsertRowid,
      );
    },
    recent(limit = 50): AuditRow[] {
      return recent.all(limit) as AuditRow[];
    },
    byActor(actor: string, limit = 50): AuditRow[] {
      return byActor.all(actor, limit) as AuditRow[];
    },
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
