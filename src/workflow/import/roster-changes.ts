import { createHash } from 'node:crypto';
import type { RosterRepo } from '../../store/roster-repo.js';
import { cleanName, editDistance, stripSuffix } from '../names.js';
import type { ImportIssue } from './sheets.js';
import type { ImportPlan } from './validate.js';

/**
 * What a valid re-import takes away or renames (issue 17): the roster is
 * authoritative, so these are shown to the admin and applied only once
 * confirmed (runImport's `confirm`).
 * - People: someone in the database, in a township (or, for county-level
 *   people, a county) that the 人员 sheet lists people for, whom no row of the
 *   sheet matches, is dropped. A sheet for one township never drops another's.
 * - Villages: in a township the 村社区 sheet lists, a village of the database
 *   that the sheet no longer has and a new village of the sheet are one
 *   village renamed when the row says so (原名称) or when the names are alike
 *   and pair one to one (南关村 → 南关新村). A rename keeps the village's row,
 *   so its stages, talks, risks and audit follow it.
 * - A village simply missing from the sheet is kept as it is, and listed.
 */
export interface RosterChanges {
  removedPeople: { id: number; name: string; openId: string | null; role: string; place: string }[];
  renames: { villageId: number; county: string; township: string; from: string; to: string; explicit: boolean }[];
  /** Kept, but the admin is told (warnings). */
  missingVillages: { villageId: number; county: string; township: string; name: string }[];
}

export function hasChanges(c: RosterChanges): boolean {
  return c.removedPeople.length > 0 || c.renames.length > 0;
}

/** Names what was shown: a confirmation applies only the changes it was shown. */
export function changesToken(c: RosterChanges): string {
  const what = { p: c.removedPeople.map((p) => p.id), r: c.renames.map((r) => [r.villageId, r.to]) };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** The lines an admin reads before confirming (removals first, then renames). */
export function changeLines(c: RosterChanges): string[] {
  return [
    ...c.removedPeople.map((p) => `移出花名册：${p.name}（${p.role}，${p.place}）——确认后其所有操作权限立即取消，待发提醒不再发送，负责的村显示为无人负责`),
    ...c.renames.map((r) => `村社区改名：${r.township}「${r.from}」→「${r.to}」${r.explicit ? '（按原名称列）' : '（名称相近，按改名处理）'}——确认后原有进度、谈话、风险、审计记录随之保留在新名称下`),
  ];
}

/** Lines for villages missing from the sheet, kept as they are. */
export function missingLines(c: RosterChanges): string[] {
  return c.missingVillages.map((v) => `村社区表中没有「${v.township}${v.name}」：原有记录和负责人保留不变；如已撤并或改名，请在新名称一行的「原名称」列填写「${v.name}」后重新导入`);
}

const key = (...parts: string[]) => parts.join('\u0000');

/** Alike enough to be a rename when the pairing is one to one: one edit apart, or one contains the other. */
function alike(a: string, b: string): boolean {
  const x = stripSuffix(a);
  const y = stripSuffix(b);
  return editDistance(x, y) <= 1 || (Math.min(x.length, y.length) >= 2 && (x.includes(y) || y.includes(x)));
}

export function rosterChanges(plan: ImportPlan, roster: RosterRepo, sheets: { people: boolean; villages: boolean }): { changes: RosterChanges; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const changes: RosterChanges = { removedPeople: [], renames: [], missingVillages: [] };
  const counties = new Map(roster.counties().map((c) => [c.id, c.name]));
  const townships = new Map(roster.townships().map((t) => [t.id, { name: t.name, county: counties.get(t.parentId!) ?? '' }]));

  if (sheets.people && plan.people.length) {
    const listed = new Set(plan.people.flatMap((p) => (p.existingId === null ? [] : [p.existingId])));
    const scopes = new Set(plan.people.map((p) => key(p.county, p.township ?? '')));
    for (const p of roster.people()) {
      if (listed.has(p.id) || p.scopeId === null) continue;
      const t = townships.get(p.scopeId);
      const scope = t ? key(t.county, t.name) : counties.has(p.scopeId) ? key(counties.get(p.scopeId)!, '') : null;
      if (scope === null || !scopes.has(scope)) continue;
      changes.removedPeople.push({ id: p.id, name: p.name, openId: p.openId, role: p.role, place: t ? `${t.county}${t.name}` : counties.get(p.scopeId)! });
    }
  }

  if (sheets.villages && plan.villages.length) {
    const inSheet = new Set(plan.villages.map((v) => key(v.county, v.township, v.name)));
    const sheetTownships = new Set(plan.villages.map((v) => key(v.county, v.township)));
    const existing = roster.villages().filter((v) => sheetTownships.has(key(v.county, v.township)));
    const existingByName = new Map(existing.map((v) => [key(v.county, v.township, v.name), v]));
    const missing = existing.filter((v) => !inSheet.has(key(v.county, v.township, v.name)));
    const fresh = plan.villages.filter((v) => !existingByName.has(key(v.county, v.township, v.name)));
    const taken = new Set<number>();
    for (const v of fresh) {
      if (!v.formerName) continue;
      const former = cleanName(v.formerName);
      const old = existingByName.get(key(v.county, v.township, former));
      const at = (reason: string): ImportIssue => ({ sheet: '村社区', row: v.row, column: '原名称', reason });
      if (!old) issues.push(at(`原名称「${former}」不在${v.township}已导入的村社区中：请核对原名称，或清空该格按新村导入`));
      else if (inSheet.has(key(v.county, v.township, former))) issues.push(at(`原名称「${former}」本表中仍有一行：改名时请删除原名称那一行`));
      else if (taken.has(old.id)) issues.push(at(`原名称「${former}」已被另一行用作原名称：一个村只能改成一个名称`));
      else {
        taken.add(old.id);
        changes.renames.push({ villageId: old.id, county: v.county, township: v.township, from: old.name, to: v.name, explicit: true });
      }
    }
    // Alike names pair one to one within a township; anything ambiguous stays a new village and a missing one.
    const open = fresh.filter((v) => !v.formerName);
    const left = missing.filter((m) => !taken.has(m.id));
    for (const m of left) {
      const mine = open.filter((n) => n.county === m.county && n.township === m.township && alike(m.name, n.name));
      if (mine.length !== 1) continue;
      const n = mine[0]!;
      const rivals = left.filter((o) => o.county === n.county && o.township === n.township && alike(o.name, n.name));
      if (rivals.length !== 1) continue;
      taken.add(m.id);
      changes.renames.push({ villageId: m.id, county: m.county, township: m.township, from: m.name, to: n.name, explicit: false });
    }
    for (const m of missing) if (!taken.has(m.id)) changes.missingVillages.push({ villageId: m.id, county: m.county, township: m.township, name: m.name });
  }
  return { changes, issues };
}
