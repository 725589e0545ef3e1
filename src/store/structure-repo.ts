import type { Db } from './db.js';

/** The new committee's structure per village, and campaign settings (targets). */

export interface StructureRow {
  village_id: number;
  one_shoulder: 0 | 1 | null;
  graduates: number | null;
  under35: number | null;
  women: number | null;
  party_ratio: number | null;
  updated_by: string;
  updated_at: number;
  /** The instant of the message that set this state (ordering, issue 17); null for rows older than the column. */
  as_of?: number | null;
}

export function createStructureRepo(db: Db) {
  const s = {
    get: db.prepare(`SELECT * FROM wf_structures WHERE village_id = ?`),
    all: db.prepare(`SELECT * FROM wf_structures`),
    upsert: db.prepare(
      `INSERT INTO wf_structures (village_id, one_shoulder, graduates, under35, women, party_ratio, updated_by, updated_at, as_of)
       VALUES (@village_id, @one_shoulder, @graduates, @under35, @women, @party_ratio, @updated_by, @updated_at, @as_of)
       ON CONFLICT (village_id) DO UPDATE SET one_shoulder = excluded.one_shoulder, graduates = excluded.graduates,
         under35 = excluded.under35, women = excluded.women, party_ratio = excluded.party_ratio,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at, as_of = excluded.as_of`,
    ),
    setting: db.prepare(`SELECT value FROM wf_settings WHERE key = ?`),
    setSetting: db.prepare(`INSERT INTO wf_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
  };
  return {
    get(villageId: number): StructureRow | undefined {
      return s.get.get(villageId) as StructureRow | undefined;
    },
    all(): StructureRow[] {
      return s.all.all() as StructureRow[];
    },
    /** as_of defaults to updated_at. */
    upsert(r: StructureRow): void {
      s.upsert.run({ ...r, as_of: r.as_of ?? r.updated_at });
    },
    setting(key: string): unknown {
      const r = s.setting.get(key) as { value: string } | undefined;
      return r ? (JSON.parse(r.value) as unknown) : undefined;
    },
    setSetting(key: string, value: unknown): void {
      s.setSetting.run(key, JSON.stringify(value));
    },
  };
}

export type StructureRepo = ReturnType<typeof createStructureRepo>;
