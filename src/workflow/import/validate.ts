import { z } from 'zod';
import type { RosterRepo } from '../../store/roster-repo.js';
import type { TalksRepo } from '../../store/talks-repo.js';
import { isValidIsoDate } from '../dates.js';
import { canonicalName, exactNameIndex, matchName, suggestionText } from '../names.js';
import { matchStage } from '../lookup.js';
import { findTalkCategory } from '../talks.js';
import type { IsoDate, Role, VillageType } from '../types.js';
import type { ImportIssue, SheetData } from './sheets.js';

/**
 * Validates every row (zod) and the references between sheets and to what is
 * already in the database, producing either a plan to apply or the complete
 * list of problems by sheet, row and column. Nothing here writes.
 */

export interface VillageKey {
  county: string;
  township: string;
  name: string;
}

export interface ImportPlan {
  villages: (VillageKey & { type: VillageType; electionDay: IsoDate; row: number })[];
  people: { name: string; openId: string; role: Role; county: string; township: string | null; villages: VillageKey[]; row: number }[];
  overrides: { village: VillageKey; stageKey: string; deadline: IsoDate; row: number }[];
  talks: { category: string; subject: string; region: { kind: 'village'; village: VillageKey } | { kind: 'township'; county: string; township: string }; interviewers: string[]; due: IsoDate; row: number }[];
}

const ROLE_WORDS: Record<string, Role> = {
  管理员: '管理员',
  换届办: '管理员',
  领导: '领导',
  县领导: '领导',
  乡镇领导: '领导',
  干部: '干部',
  包村干部: '干部',
  乡镇干部: '干部',
  工作组: '工作组',
  工作组成员: '工作组',
  指导组: '工作组',
  督导组: '工作组',
};

/** Dates as a spreadsheet holds them: 2026-11-20, 2026/11/20, 2026.11.20, 2026年11月20日, or an Excel serial number. */
export function parseImportDate(s: string): IsoDate | null {
  const t = s.trim();
  if (/^\d{5}(\.0+)?$/.test(t)) {
    const serial = Number(t);
    if (serial < 20000 || serial > 80000) return null;
    // Excel's day 0 is 1899-12-30 (after its 1900 leap-year bug).
    return new Date(Date.UTC(1899, 11, 30) + serial * 86_400_000).toISOString().slice(0, 10);
  }
  const m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  return isValidIsoDate(iso) ? iso : null;
}

const text = (label: string, max = 50) =>
  z
    .string()
    .min(1, `${label}不能为空`)
    .max(max, `${label}过长（最多 ${max} 字）`)
    .refine((v) => !/[\u0000-\u001f]/.test(v), `${label}含有控制字符`);
const optionalText = (label: string, max = 50) => z.string().max(max, `${label}过长（最多 ${max} 字）`);
const date = (label: string) =>
  z.string().min(1, `${label}不能为空`).transform((v, ctx) => {
    const d = parseImportDate(v);
    if (!d) {
      ctx.addIssue({ code: 'custom', message: `「${v}」不是有效日期，应为 YYYY-MM-DD，例如 2026-11-20` });
      return z.NEVER;
    }
    return d;
  });
const list = (v: string) =>
  v
    .split(/[、,，;；/\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const personRow = z.object({
  姓名: text('姓名', 30),
  飞书open_id: z.string().regex(/^ou_[0-9A-Za-z_-]{1,100}$/, '应为飞书 open_id（以 ou_ 开头），可在飞书管理后台导出'),
  角色: z.string().transform((v, ctx) => {
    const r = ROLE_WORDS[v.replace(/\s/g, '')];
    if (!r) {
      ctx.addIssue({ code: 'custom', message: `「${v}」不是有效角色，应为 管理员/领导/干部/工作组` });
      return z.NEVER;
    }
    return r;
  }),
  县: text('县', 30),
  乡镇: optionalText('乡镇', 30),
  负责村社区: z.string().max(2000, '负责村社区过长').transform(list),
});

const villageRow = z.object({
  县: text('县', 30),
  乡镇: text('乡镇', 30),
  村社区: text('村社区', 30),
  类型: z.string().transform((v, ctx) => {
    const t = v.replace(/\s/g, '');
    if (t === '村' || t === '行政村') return '村' as const;
    if (t === '社区' || t === '居委会' || t === '居民委员会') return '社区' as const;
    ctx.addIssue({ code: 'custom', message: `「${v}」不是有效类型，应为 村 或 社区` });
    return z.NEVER;
  }),
  选举日: date('选举日'),
});

const overrideRow = z.object({ 村社区: text('村社区', 60), 阶段: text('阶段', 30), 截止日期: date('截止日期'), 乡镇: optionalText('乡镇', 30).optional() });

const talkRow = z.object({
  谈话类别: text('谈话类别', 30),
  谈话对象: text('谈话对象', 30),
  村社区: text('村社区', 60),
  谈话人: z.string().min(1, '谈话人不能为空').max(200, '谈话人过长').transform(list),
  截止日期: date('截止日期'),
  乡镇: optionalText('乡镇', 30).optional(),
});

function rows<T>(sheet: SheetData | undefined, schema: z.ZodType<T>, issues: ImportIssue[]): { row: number; v: T }[] {
  if (!sheet) return [];
  const out: { row: number; v: T }[] = [];
  for (const r of sheet.rows) {
    const p = schema.safeParse(r.cells);
    if (p.success) out.push({ row: r.row, v: p.data });
    else for (const i of p.error.issues) issues.push({ sheet: sheet.name, row: r.row, column: String(i.path[0] ?? '') || null, reason: i.message });
  }
  return out;
}

const vkey = (k: VillageKey) => `${k.county}\u0000${k.township}\u0000${k.name}`;

export function validateImport(sheets: readonly SheetData[], db: { roster: RosterRepo; talks: TalksRepo }): { plan: ImportPlan; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const sheet = (n: string) => sheets.find((s) => s.name === n);
  // Only sheets whose columns are all there are checked row by row (the missing column is already reported).
  const villagesIn = rows(sheet('村社区'), villageRow, issues);
  const peopleIn = rows(sheet('人员'), personRow, issues);
  const overridesIn = rows(sheet('节点'), overrideRow, issues);
  const talksIn = rows(sheet('谈话'), talkRow, issues);

  // The universe of villages: the database, overlaid with the sheet.
  const villages = new Map<string, VillageKey & { type: VillageType }>();
  for (const v of db.roster.villages()) villages.set(vkey({ county: v.county, township: v.township, name: v.name }), { county: v.county, township: v.township, name: v.name, type: v.type });
  const plan: ImportPlan = { villages: [], people: [], overrides: [], talks: [] };
  const seenVillage = new Map<string, number>();
  for (const { row, v } of villagesIn) {
    const key = { county: v.县, township: v.乡镇, name: v.村社区 };
    const prev = seenVillage.get(vkey(key));
    if (prev) {
      issues.push({ sheet: '村社区', row, column: '村社区', reason: `与第${prev}行重复（${v.乡镇}${v.村社区}）` });
      continue;
    }
    seenVillage.set(vkey(key), row);
    villages.set(vkey(key), { ...key, type: v.类型 });
    plan.villages.push({ ...key, type: v.类型, electionDay: v.选举日, row });
  }
  // Rows of 村社区 that failed validation still name their village: references to it are not reported again.
  for (const r of sheet('村社区')?.rows ?? []) {
    const key = { county: r.cells['县'] ?? '', township: r.cells['乡镇'] ?? '', name: r.cells['村社区'] ?? '' };
    if (key.county && key.township && key.name && !villages.has(vkey(key))) villages.set(vkey(key), { ...key, type: r.cells['类型'] === '社区' ? '社区' : '村' });
  }
  const all = [...villages.values()];
  const counties = new Set(all.map((v) => v.county));
  const townships = new Set(all.map((v) => `${v.county}\u0000${v.township}`));
  for (const t of db.roster.townships()) {
    const c = db.roster.region(t.parentId!);
    if (c) townships.add(`${c.name}\u0000${t.name}`), counties.add(c.name);
  }

  // Exact names first, from an index: a 10,000-row roster would otherwise scan every village for every name.
  const byName = exactNameIndex(all, (v) => [v.name, `${v.township}${v.name}`]);
  const findVillage = (name: string, county: string | null, township: string | null): { ok: VillageKey & { type: VillageType } } | { error: string } => {
    const exact = (byName.get(canonicalName(name)) ?? []).filter((v) => (!county || v.county === county) && (!township || v.township === township));
    // One exact hit is what matchName's first tier would return; anything else takes the full path (fuzzy, messages).
    if (exact.length === 1) return { ok: exact[0]! };
    const scoped = all.filter((v) => (!county || v.county === county) && (!township || v.township === township));
    const r = matchName(
      name,
      scoped.map((v) => ({ value: v, label: township ? v.name : `${v.township}${v.name}`, names: [v.name, `${v.township}${v.name}`] })),
    );
    if (r.kind === 'found') return { ok: r.value };
    const where = township ? `${township}` : county ? `${county}` : '';
    if (r.kind === 'ambiguous') return { error: `「${name}」在${where}对应多个村(社区)：${r.options.join('、')}，请写全称或填写乡镇列` };
    return { error: `「${name}」不在${where}的村社区名单中（村社区表或已导入的数据）。${suggestionText(r.suggestions)}` };
  };

  // People.
  const seenOpenId = new Map<string, number>();
  const dbOpenIds = new Set(db.roster.people().map((p) => p.openId));
  for (const { row, v } of peopleIn) {
    const prev = seenOpenId.get(v.飞书open_id);
    if (prev) {
      issues.push({ sheet: '人员', row, column: '飞书open_id', reason: `与第${prev}行重复（同一人只能有一行，多个村用、分隔）` });
      continue;
    }
    seenOpenId.set(v.飞书open_id, row);
    const township = v.乡镇 || null;
    let bad = false;
    if (!counties.has(v.县)) {
      issues.push({ sheet: '人员', row, column: '县', reason: `「${v.县}」不在村社区名单中` });
      bad = true;
    } else if (township && !townships.has(`${v.县}\u0000${township}`)) {
      issues.push({ sheet: '人员', row, column: '乡镇', reason: `${v.县}没有「${township}」（村社区表或已导入的数据中）` });
      bad = true;
    }
    const vs: VillageKey[] = [];
    if (!bad) {
      for (const name of v.负责村社区) {
        const f = findVillage(name, v.县, township);
        if ('error' in f) issues.push({ sheet: '人员', row, column: '负责村社区', reason: f.error.trim() });
        else if (!vs.some((x) => vkey(x) === vkey(f.ok))) vs.push({ county: f.ok.county, township: f.ok.township, name: f.ok.name });
      }
    }
    if (v.角色 !== '领导' && v.角色 !== '管理员' && !v.负责村社区.length) {
      issues.push({ sheet: '人员', row, column: '负责村社区', reason: `${v.角色}须填写负责的村(社区)` });
    }
    plan.people.push({ name: v.姓名, openId: v.飞书open_id, role: v.角色, county: v.县, township, villages: vs, row });
  }
  // Interviewers are found by name among the people after this import (renamed people under their new name).
  const peopleByName = new Map<string, string[]>();
  const addName = (name: string, openId: string) => peopleByName.set(canonicalName(name), [...(peopleByName.get(canonicalName(name)) ?? []), openId]);
  const imported = new Set(plan.people.map((p) => p.openId));
  for (const p of db.roster.people()) if (p.openId && !imported.has(p.openId)) addName(p.name, p.openId);
  for (const p of plan.people) addName(p.name, p.openId);

  // Deadline overrides.
  const seenOverride = new Map<string, number>();
  for (const { row, v } of overridesIn) {
    const f = findVillage(v.村社区, null, v.乡镇 || null);
    if ('error' in f) {
      issues.push({ sheet: '节点', row, column: '村社区', reason: f.error.trim() });
      continue;
    }
    const s = matchStage(f.ok.type, v.阶段);
    if (s.kind !== 'found') {
      const hint = s.kind === 'ambiguous' ? `可能是：${s.options.join('、')}` : suggestionText(s.suggestions);
      issues.push({ sheet: '节点', row, column: '阶段', reason: `${f.ok.type}的阶段中没有「${v.阶段}」。${hint}`.trim() });
      continue;
    }
    const k = `${vkey(f.ok)}\u0000${s.value.key}`;
    const prev = seenOverride.get(k);
    if (prev) {
      issues.push({ sheet: '节点', row, column: '阶段', reason: `与第${prev}行重复（${f.ok.name}「${s.value.name}」）` });
      continue;
    }
    seenOverride.set(k, row);
    plan.overrides.push({ village: { county: f.ok.county, township: f.ok.township, name: f.ok.name }, stageKey: s.value.key, deadline: v.截止日期, row });
  }

  // Talks.
  const seenTalk = new Map<string, number>();
  const townshipsByName = new Map<string, [string, string][]>();
  for (const t of townships) {
    const [c, name] = t.split('\u0000') as [string, string];
    townshipsByName.set(name, [...(townshipsByName.get(name) ?? []), [c, name]]);
  }
  const villageNames = new Set(all.map((x) => x.name));
  for (const { row, v } of talksIn) {
    const cat = findTalkCategory(v.谈话类别);
    if (!cat) {
      issues.push({ sheet: '谈话', row, column: '谈话类别', reason: `「${v.谈话类别}」不是谈话类别（五必谈五类、选前谈话、任前谈话、落选/离任谈话）` });
      continue;
    }
    let region: ImportPlan['talks'][number]['region'];
    // A township's own talks (乡镇党委书记必谈) name the township instead of a village.
    const ts = townshipsByName.get(v.村社区) ?? [];
    if (ts.length === 1 && !villageNames.has(v.村社区)) {
      region = { kind: 'township', county: ts[0]![0], township: ts[0]![1] };
    } else {
      const f = findVillage(v.村社区, null, v.乡镇 || null);
      if ('error' in f) {
        issues.push({ sheet: '谈话', row, column: '村社区', reason: f.error.trim() });
        continue;
      }
      region = { kind: 'village', village: { county: f.ok.county, township: f.ok.township, name: f.ok.name } };
    }
    const interviewers: string[] = [];
    for (const who of v.谈话人) {
      if (/^ou_/.test(who)) {
        if (seenOpenId.has(who) || dbOpenIds.has(who)) interviewers.push(who);
        else issues.push({ sheet: '谈话', row, column: '谈话人', reason: `open_id「${who}」不在人员名单中` });
        continue;
      }
      const ids = peopleByName.get(canonicalName(who)) ?? [];
      if (ids.length === 1) interviewers.push(ids[0]!);
      else if (ids.length > 1) issues.push({ sheet: '谈话', row, column: '谈话人', reason: `「${who}」在人员名单中有重名（${ids.join('、')}），请填写 open_id` });
      else issues.push({ sheet: '谈话', row, column: '谈话人', reason: `「${who}」不在人员名单中` });
    }
    const rk = region.kind === 'village' ? vkey(region.village) : `${region.county}\u0000${region.township}`;
    const k = `${cat.name}\u0000${canonicalName(v.谈话对象)}\u0000${rk}`;
    const prev = seenTalk.get(k);
    if (prev) {
      issues.push({ sheet: '谈话', row, column: '谈话对象', reason: `与第${prev}行重复` });
      continue;
    }
    seenTalk.set(k, row);
    plan.talks.push({ category: cat.name, subject: v.谈话对象, region, interviewers, due: v.截止日期, row });
  }
  return { plan, issues };
}
