import type { Db } from '../../src/store/db.js';
import { stagesFor } from '../../src/workflow/stage-templates.js';
import type { VillageType } from '../../src/workflow/types.js';
import { sampleCampaign, type Campaign } from '../helpers/roster.js';

/** 2026-11-20 10:00 in Shanghai: the sample campaign's elections (11-28) are 8 days away, so early stages are overdue. */
export const WEB_NOW = Date.parse('2026-11-20T02:00:00Z');
export { TEST_DASHBOARD_SECRET as DASHBOARD_SECRET } from '../helpers/secrets.js';

/**
 * The sample campaign with village names that differ between townships
 * (the plain sample repeats 城西村 in every township), so a name in a
 * response says which township it came from.
 */
export function distinctCampaign(): Campaign {
  const c = sampleCampaign({ townships: 2, villagesPerTownship: 3 });
  const second = c.townships[1]!;
  const rename = (name: string) => `二${name}`;
  const renamed = new Map<string, string>();
  for (const v of c.villages) {
    if (v.township !== second) continue;
    renamed.set(v.name, rename(v.name));
    v.name = rename(v.name);
  }
  for (const p of c.people) if (p.township === second) p.villages = p.villages.map((v) => renamed.get(v) ?? v);
  for (const t of c.talks) if (t.township === second && renamed.has(t.place)) t.place = renamed.get(t.place)!;
  return c;
}

export function townshipId(db: Db, name: string): number {
  return (db.prepare(`SELECT id FROM wf_regions WHERE kind = 'township' AND name = ?`).get(name) as { id: number }).id;
}

export function villagesOf(db: Db, townshipName: string): { id: number; name: string; type: VillageType }[] {
  return db
    .prepare(`SELECT v.id, v.name, v.village_type AS type FROM wf_regions v JOIN wf_regions t ON t.id = v.parent_id WHERE v.kind = 'village' AND t.name = ? ORDER BY v.name`)
    .all(townshipName) as { id: number; name: string; type: VillageType }[];
}

/** Required stages done / required stages in all, counted straight from the tables (not through the digest code). */
export function expectedCompletion(db: Db, townshipName: string): { villages: number; done: number; total: number } {
  const vs = villagesOf(db, townshipName);
  let done = 0;
  let total = 0;
  for (const v of vs) {
    const required = stagesFor(v.type).filter((s) => !s.optional).map((s) => s.key);
    total += required.length;
    const rows = db.prepare(`SELECT stage_key FROM wf_stage_progress WHERE village_id = ? AND status = '已完成'`).all(v.id) as { stage_key: string }[];
    done += rows.filter((r) => required.includes(r.stage_key)).length;
  }
  return { villages: vs.length, done, total };
}

/** Flips one character of a token's payload part, keeping its signature. */
export function alterPayload(token: string): string {
  const [body, sig] = token.split('.') as [string, string];
  const json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  json.s = typeof json.s === 'number' ? json.s + 1 : 1;
  return `${Buffer.from(JSON.stringify(json)).toString('base64url')}.${sig}`;
}
