import type { Db } from './db.js';

/**
 * The change log behind check-ins and 撤销: each change lists the rows it
 * touched with their state before and after, so undo can put back exactly
 * what was there (and can tell when someone else changed the row since).
 */

/** Tables a chat change may touch, with their key columns. Fixed here, never from input. */
export const ENTITIES = {
  stage_progress: { table: 'wf_stage_progress', key: ['village_id', 'stage_key'] },
  talk: { table: 'wf_talks', key: ['id'] },
  risk: { table: 'wf_risks', key: ['id'] },
  risk_followup: { table: 'wf_risk_followups', key: ['id'] },
  structure: { table: 'wf_structures', key: ['village_id'] },
} as const;

export type EntityName = keyof typeof ENTITIES;
export type EntityKey = Record<string, string | number>;
export type EntityRow = Record<string, unknown>;

export interface EntityRef {
  entity: EntityName;
  key: EntityKey;
}

export interface EntitySnapshot extends EntityRef {
  row: EntityRow | null;
}

export interface ChangeRow {
  id: number;
  source_id: string;
  actor: string;
  at: number;
  kind: string;
  target: string;
  before: string;
  after: string;
  summary: string;
  undoes: number | null;
  undone_by: number | null;
}

export function createChangesRepo(db: Db) {
  const s = {
    bySource: db.prepare(`SELECT * FROM wf_changes WHERE source_id = ?`),
    lastUndoable: db.prepare(
      `SELECT * FROM wf_changes WHERE actor = ? AND undoes IS NULL AND undone_by IS NULL ORDER BY id DESC LIMIT 1`,
    ),
    insert: db.prepare(
      `INSERT INTO wf_changes (source_id, actor, at, kind, target, before, after, summary, undoes)
       VALUES (@source_id, @actor, @at, @kind, @target, @before, @after, @summary, @undoes)`,
    ),
    markUndone: db.prepare(`UPDATE wf_changes SET undone_by = ? WHERE id = ?`),
    count: db.prepare(`SELECT COUNT(*) AS n FROM wf_changes`),
  };
  const keyCols = (e: EntityName) => ENTITIES[e].key as readonly string[];
  const where = (e: EntityName) => keyCols(e).map((k) => `${k} = @${k}`).join(' AND ');
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const stmt = (sql: string) => {
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = db.prepare(sql)));
    return st;
  };

  return {
    bySource(sourceId: string): ChangeRow | undefined {
      return s.bySource.get(sourceId) as ChangeRow | undefined;
    },
    lastUndoable(actor: string): ChangeRow | undefined {
      return s.lastUndoable.get(actor) as ChangeRow | undefined;
    },
    insert(c: Omit<ChangeRow, 'id' | 'undone_by' | 'before' | 'after' | 'undoes'> & { before: EntitySnapshot[]; after: EntitySnapshot[]; undoes?: number }): number {
      return Number(
        s.insert.run({ ...c, before: JSON.stringify(c.before), after: JSON.stringify(c.after), undoes: c.undoes ?? null }).lastInsertRowid,
      );
    },
    markUndone(id: number, byChangeId: number): void {
      s.markUndone.run(byChangeId, id);
    },
    count(): number {
      return (s.count.get() as { n: number }).n;
    },
    snapshot(ref: EntityRef): EntitySnapshot {
      const row = stmt(`SELECT * FROM ${ENTITIES[ref.entity].table} WHERE ${where(ref.entity)}`).get(ref.key) as EntityRow | undefined;
      return { ...ref, row: row ?? null };
    },
    /** Puts a row back as it was (null: the row did not exist). */
    restore(snap: EntitySnapshot): void {
      const { table } = ENTITIES[snap.entity];
      if (!snap.row) {
        stmt(`DELETE FROM ${table} WHERE ${where(snap.entity)}`).run(snap.key);
        return;
      }
      const cols = Object.keys(snap.row).filter((c) => /^[a-z_0-9]+$/.test(c));
      const exists = stmt(`SELECT 1 FROM ${table} WHERE ${where(snap.entity)}`).get(snap.key);
      // UPDATE rather than INSERT OR REPLACE: a REPLACE deletes first, and ON DELETE CASCADE would take dependants with it.
      if (exists) {
        const set = cols.filter((c) => !keyCols(snap.entity).includes(c)).map((c) => `${c} = @${c}`).join(', ');
        if (set) stmt(`UPDATE ${table} SET ${set} WHERE ${where(snap.entity)}`).run(snap.row);
      } else {
        stmt(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(snap.row);
      }
    },
  };
}

export type ChangesRepo = ReturnType<typeof createChangesRepo>;

export function createImportsRepo(db: Db) {
  const s = {
    bySource: db.prepare(`SELECT * FROM wf_imports WHERE source_id = ?`),
    insert: db.prepare(`INSERT INTO wf_imports (source_id, actor, at, file_name, ok, result) VALUES (?, ?, ?, ?, ?, ?)`),
  };
  return {
    bySource(sourceId: string): { ok: number; result: string; file_name: string } | undefined {
      return s.bySource.get(sourceId) as { ok: number; result: string; file_name: string } | undefined;
    },
    insert(sourceId: string, actor: string, at: number, fileName: string, ok: boolean, result: unknown): void {
      s.insert.run(sourceId, actor, at, fileName, ok ? 1 : 0, JSON.stringify(result));
    },
  };
}

export type ImportsRepo = ReturnType<typeof createImportsRepo>;
