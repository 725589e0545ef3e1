import { z } from 'zod';
import type { RosterRepo } from '../../store/roster-repo.js';
import type { TalksRepo } from '../../store/talks-repo.js';
import { normalizeEmail, normalizePhone } from '../contacts.js';
import { addDays } from '../dates.js';
import { canonicalName, cleanName, exactNameIndex, invisibleChars, invisibleLabel, matchName, suggestionText } from '../names.js';
import { matchStage } from '../lookup.js';
import { findTalkCategory } from '../talks.js';
import type { IsoDate, Role, VillageType } from '../types.js';
import { matchPeople } from './people.js';
import { SHEETS, type ImportIssue, type SheetData, type SheetRow } from './sheets.js';
import { countyFromTitles, dateError, parseImportDate, parseRole, parseVillageType } from './values.js';

export { parseImportDate } from './values.js';

/**
 * Validates every row (zod) and the references between sheets and to what is
 * already in the database, producing either a plan to apply or the complete
 * list of problems by sheet, row and column. Nothing here writes.
 *
 * No cascades: a sheet missing a column is one problem and its rows are not
 * checked; a village or person whose own row failed is not reported again by
 * every row that names it.
 */

export interface VillageKey {
  county: string;
  township: string;
  name: string;
}

/** An interviewer: a person already in the database (by id), or a 人员 row of this import (index into plan.people). */
export type InterviewerRef = { person: number } | { row: number };

export interface PlannedPerson {
  name: string;
  openId: string | null;
  phone: string | null;
  email: string | null;
  role: Role;
  county: string;
  township: string | null;
  villages: VillageKey[];
  row: number;
  /** The person this row updates (matched by open_id, phone or email), or null for a new one. */
  existingId: number | null;
}

export interface ImportPlan {
  /** formerName: the 原名称 cell (a rename to confirm, src/workflow/import/roster-changes.ts), or null. */
  villages: (VillageKey & { type: VillageType; electionDay: IsoDate; row: number; formerName: string | null })[];
  people: PlannedPerson[];
  overrides: { village: VillageKey; stageKey: string; deadline: IsoDate; row: number }[];
  talks: { category: string; subject: string; region: { kind: 'village'; village: VillageKey } | { kind: 'township'; county: string; township: string }; interviewers: InterviewerRef[]; due: IsoDate; row: number }[];
}

export interface ValidateOptions {
  /** The county of rows without one (CLI --county). */
  county?: string | null;
  /** Title lines above the headers: a one-county workbook names its county there. */
  titles?: readonly string[];
  /** Today in the campaign time zone: election days far off are warned about. */
  today?: IsoDate;
  /** What the reader already reported (a missing column is not reported twice). */
  readIssues?: readonly ImportIssue[];
}

export interface ValidateResult {
  plan: ImportPlan;
  issues: ImportIssue[];
  /** Imported anyway, but shown and recorded. */
  warnings: ImportIssue[];
}

const text = (label: string, max = 50) =>
  z
    .string()
    .min(1, `${label}不能为空`)
    .max(max, `${label}过长（最多 ${max} 字）`)
    .refine((v) => !/[\u0000-\u001f]/.test(v), `${label}含有控制字符，请删除后重新输入`);
const optionalText = (label: string, max = 50) => z.string().max(max, `${label}过长（最多 ${max} 字）`);
const date = (label: string) =>
  z
    .string()
    .min(1, `${label}不能为空，请写日期，例如 2026-11-20`)
    .transform((v, ctx) => {
      const d = parseImportDate(v);
      if (!d) {
        ctx.addIssue({ code: 'custom', message: dateError(v) });
        return z.NEVER;
      }
      return d;
    });
/** A list cell: 、，; / or spaces between items; a phone written with spaces (139 8765 4321) stays one item. */
const list = (v: string) =>
  v
    .split(/[、,，;；/]+/)
    .flatMap((x) => (normalizePhone(x) ? [x.trim()] : x.split(/\s+/)))
    .map((x) => x.trim())
    .filter(Boolean);

const personRow = z.object({
  姓名: text('姓名', 30),
  飞书open_id: z.string().transform((v, ctx) => {
    if (!v) return null;
    if (/^ou_[0-9A-Za-z_-]{1,100}$/.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `「${v.slice(0, 40)}」不是飞书 open_id：应以 ou_ 开头（可在飞书管理后台导出）；不知道时可留空，填写手机号即可` });
    return z.NEVER;
  }),
  手机号: z.string().transform((v, ctx) => {
    if (!v) return null;
    const p = normalizePhone(v);
    if (p) return p;
    const landline = /^0\d{2,3}[-\s]?\d{7,8}$/.test(v.replace(/\s/g, ''));
    ctx.addIssue({
      code: 'custom',
      message: landline
        ? `「${v}」是固定电话，无法用来找到飞书账号：请填写本人的 11 位手机号，例如 13912345678`
        : `「${v.slice(0, 40)}」不是有效手机号：应为 11 位手机号，例如 13912345678（可带空格、横线或 +86）`,
    });
    return z.NEVER;
  }),
  邮箱: z.string().transform((v, ctx) => {
    if (!v) return null;
    const e = normalizeEmail(v);
    if (e) return e;
    ctx.addIssue({ code: 'custom', message: `「${v.slice(0, 60)}」不是有效邮箱，应形如 zhangsan@example.com` });
    return z.NEVER;
  }),
  角色: z.string().transform((v, ctx) => {
    const r = parseRole(v);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.ok;
  }),
  县: optionalText('县', 30),
  乡镇: optionalText('乡镇', 30),
  负责村社区: z.string().max(2000, '负责村社区过长（最多 2000 字）').transform(list),
});

const villageRow = z
  .object({
    县: optionalText('县', 30),
    乡镇: text('乡镇', 30),
    村社区: text('村社区', 30),
    类型: z.string(),
    选举日: date('选举日'),
    原名称: optionalText('原名称', 30),
  })
  .transform((v, ctx) => {
    const t = parseVillageType(v.类型, v.村社区);
    if ('error' in t) {
      ctx.addIssue({ code: 'custom', path: ['类型'], message: t.error });
      return z.NEVER;
    }
    return { ...v, 类型: t.ok };
  });

const overrideRow = z.object({ 村社区: text('村社区', 60), 阶段: text('阶段', 30), 截止日期: date('截止日期'), 乡镇: optionalText('乡镇', 30) });

const talkRow = z.object({
  谈话类别: text('谈话类别', 30),
  谈话对象: text('谈话对象', 30),
  村社区: text('村社区', 60),
  谈话人: z.string().min(1, '谈话人不能为空').max(200, '谈话人过长（最多 200 字）').transform(list),
  截止日期: date('截止日期'),
  乡镇: optionalText('乡镇', 30),
});

const vkey = (k: VillageKey) => `${k.county}\u0000${k.township}\u0000${k.name}`;

/** One problem at a row, with the file and tab it was read from. */
function issueAt(sheet: SheetData, r: SheetRow | null, column: string | null, reason: string): ImportIssue {
  const i: ImportIssue = { sheet: sheet.name, row: r ? r.row : null, column, reason };
  const file = r?.file ?? sheet.file;
  const sheetName = r?.sheetName ?? sheet.sheetName;
  if (file !== undefined) i.file = file;
  if (sheetName !== undefined) i.sheetName = sheetName;
  return i;
}

/** Every column of the sheet's kind present ('' when absent), so the schemas see strings only. */
function cellsOf(sheet: SheetData, r: SheetRow): Record<string, string> {
  const spec = SHEETS.find((s) => s.name === sheet.name);
  const out: Record<string, string> = {};
  for (const c of spec?.columns ?? []) {
    const raw = r.cells[c.name] ?? '';
    out[c.name] = NAME_COLUMNS.has(c.name) ? cleanName(raw) : raw;
  }
  return out;
}

/** Columns holding names of places and people: read in their one form (cleanName), as commands are. */
const NAME_COLUMNS = new Set(['姓名', '县', '乡镇', '村社区', '负责村社区', '谈话对象', '谈话人', '原名称']);

function parseRows<T>(sheet: SheetData, schema: z.ZodType<T>, issues: ImportIssue[], fill?: (cells: Record<string, string>) => void): { ok: { r: SheetRow; v: T }[]; failed: { r: SheetRow; cells: Record<string, string> }[] } {
  const ok: { r: SheetRow; v: T }[] = [];
  const failed: { r: SheetRow; cells: Record<string, string> }[] = [];
  for (const r of sheet.rows) {
    const cells = cellsOf(sheet, r);
    fill?.(cells);
    const p = schema.safeParse(cells);
    if (p.success) {
      ok.push({ r, v: p.data });
      continue;
    }
    failed.push({ r, cells });
    for (const i of p.error.issues) {
      const column = String(i.path[0] ?? '') || null;
      // A library message never reaches a person.
      const reason = !/[\u4e00-\u9fff]/.test(i.message) ? `「${column ?? '该列'}」的内容无法识别，请按模板填写` : i.message;
      issues.push(issueAt(sheet, r, column, reason));
    }
  }
  return { ok, failed };
}

export function validateImport(sheets: readonly SheetData[], db: { roster: RosterRepo; talks: TalksRepo }, opts: ValidateOptions = {}): ValidateResult {
  const issues: ImportIssue[] = [];
  const warnings: ImportIssue[] = [];
  const sheet = (n: string) => sheets.find((s) => s.name === n);
  const readIssues = opts.readIssues ?? [];

  // Structure first: a sheet that lacks a column is one problem, and its rows are not checked.
  const usable = (s: SheetData | undefined): s is SheetData => {
    if (!s) return false;
    const spec = SHEETS.find((x) => x.name === s.name);
    let ok = true;
    for (const c of spec?.columns ?? []) {
      if (!c.required || s.headers.includes(c.name)) continue;
      ok = false;
      const reported = readIssues.some((i) => i.sheet === s.name && i.column === c.name);
      if (!reported) issues.push(issueAt(s, null, c.name, `缺少该列：请在表头加一列「${c.name}」`));
    }
    // Whether readIssues say something structural about the sheet (its header row) the reader already refused.
    if (readIssues.some((i) => i.sheet === s.name && i.row === null)) ok = false;
    return ok;
  };
  const villageSheet = sheet('村社区');
  const peopleSheet = sheet('人员');
  const villagesOk = usable(villageSheet);
  let peopleOk = usable(peopleSheet);
  // The reader drops a sheet it could not make sense of (a column missing) and says so: what it held is unknown.
  const droppedByReader = (kind: string) => !sheet(kind) && readIssues.some((i) => i.sheet === kind);
  const villagesBroken = (!!villageSheet && !villagesOk) || droppedByReader('村社区');
  if (peopleOk && !['飞书open_id', '手机号', '邮箱'].some((c) => peopleSheet!.headers.includes(c))) {
    issues.push(issueAt(peopleSheet!, null, '手机号', '缺少联系方式列：每人须有 飞书open_id、手机号、邮箱 中至少一项，请加一列「手机号」'));
    peopleOk = false;
  }
  const peopleBroken = (!!peopleSheet && !peopleOk) || droppedByReader('人员');

  // The county of rows that do not name one: --county, else the one county the title names.
  const dbCounties = db.roster.counties().map((c) => c.name);
  const defaultCounty = opts.county?.trim() || countyFromTitles(opts.titles ?? [], dbCounties);
  const needsCounty = [villagesOk ? villageSheet : undefined, peopleOk ? peopleSheet : undefined].find(
    (s) => s && (!s.headers.includes('县') || s.rows.some((r) => !r.cells['县'])),
  );
  const countyUnknown = !!needsCounty && !defaultCounty;
  if (countyUnknown) {
    issues.push(
      issueAt(
        needsCounty,
        null,
        '县',
        '不知道这些行属于哪个县：表中没有「县」列（或有的行没有填县），标题行也没有写明县名。请加一列「县」，或在表头上方写上标题如「沁源县2026年村（社区）换届人员名单」；命令行导入可加 --county 沁源县',
      ),
    );
  }
  const fillCounty = (cells: Record<string, string>) => {
    if (!cells['县']) cells['县'] = defaultCounty || '';
  };

  const villagesIn = villagesOk ? parseRows(villageSheet!, villageRow, issues, fillCounty) : { ok: [], failed: [] };
  const peopleIn = peopleOk ? parseRows(peopleSheet!, personRow, issues, fillCounty) : { ok: [], failed: [] };
  const overrideSheet = sheet('节点');
  const talkSheet = sheet('谈话');
  const overridesIn = usable(overrideSheet) ? parseRows(overrideSheet, overrideRow, issues).ok : [];
  const talksIn = usable(talkSheet) ? parseRows(talkSheet, talkRow, issues).ok : [];

  // The universe of villages: the database, overlaid with the sheet.
  const villages = new Map<string, VillageKey & { type: VillageType }>();
  for (const v of db.roster.villages()) villages.set(vkey({ county: v.county, township: v.township, name: v.name }), { county: v.county, township: v.township, name: v.name, type: v.type });
  const plan: ImportPlan = { villages: [], people: [], overrides: [], talks: [] };
  const seenVillage = new Map<string, SheetRow>();
  const today = opts.today;
  const yearAhead = today ? addDays(today, 366) : undefined;
  // Each village already imported by the one form of its name: a name differing only by invisible characters is the same name.
  const dbByClean = new Map(db.roster.villages().map((v) => [vkey({ county: v.county, township: v.township, name: cleanName(v.name) }), v.name]));
  for (const { r, v } of villagesIn.ok) {
    const key = { county: v.县, township: v.乡镇, name: v.村社区 };
    const prev = seenVillage.get(vkey(key));
    const lookAlike = lookAlikeVillage(r.cells['村社区'] ?? '', key, prev, dbByClean.get(vkey(key)));
    if (lookAlike) {
      issues.push(issueAt(villageSheet!, r, '村社区', lookAlike));
      continue;
    }
    if (prev) {
      issues.push(issueAt(villageSheet!, r, '村社区', `与第${prev.row}行重复（${v.乡镇}${v.村社区}）：每个村(社区)只写一行`));
      continue;
    }
    seenVillage.set(vkey(key), r);
    villages.set(vkey(key), { ...key, type: v.类型 });
    plan.villages.push({ ...key, type: v.类型, electionDay: v.选举日, row: r.row, formerName: v.原名称 || null });
    if (today && v.选举日 < today) warnings.push(issueAt(villageSheet!, r, '选举日', `选举日早于今天（${today}）：如是笔误请改正后重新导入`));
    else if (yearAhead && v.选举日 >= yearAhead) warnings.push(issueAt(villageSheet!, r, '选举日', `选举日在一年以后：请确认年份是否写错`));
  }
  // Rows of 村社区 that failed validation still name their village: references to it are not reported again.
  const failedVillages = new Set<string>();
  for (const { cells } of villagesIn.failed) {
    const key = { county: cells['县'] ?? '', township: cells['乡镇'] ?? '', name: cells['村社区'] ?? '' };
    if (!key.township || !key.name || villages.has(vkey(key))) continue;
    villages.set(vkey(key), { ...key, type: /社区$/.test(key.name) ? '社区' : '村' });
    failedVillages.add(vkey(key));
  }
  const all = [...villages.values()];
  const counties = new Set(all.map((v) => v.county));
  const townships = new Set(all.map((v) => `${v.county}\u0000${v.township}`));
  for (const t of db.roster.townships()) {
    const c = db.roster.region(t.parentId!);
    if (c) townships.add(`${c.name}\u0000${t.name}`), counties.add(c.name);
  }

  // Exact names first, from an index: a province's 30,000 villages are never scanned per row.
  const byName = exactNameIndex(all, (v) => [v.name, `${v.township}${v.name}`]);
  const found = new Map<string, { ok: VillageKey & { type: VillageType }; failed: boolean } | { error: string | null }>();
  let fuzzyBudget = 500;
  const findVillage = (name: string, county: string | null, township: string | null) => {
    const k = `${name}\u0000${county ?? ''}\u0000${township ?? ''}`;
    let f = found.get(k);
    if (!f) found.set(k, (f = lookVillage(name, county, township)));
    return f;
  };
  const lookVillage = (name: string, county: string | null, township: string | null): { ok: VillageKey & { type: VillageType }; failed: boolean } | { error: string | null } => {
    const exact = (byName.get(canonicalName(name)) ?? []).filter((v) => (!county || v.county === county) && (!township || v.township === township));
    const ok = (v: VillageKey & { type: VillageType }) => ({ ok: v, failed: failedVillages.has(vkey(v)) });
    if (exact.length === 1) return ok(exact[0]!);
    // The village sheet itself is broken: what it would have held is unknown, so nothing is reported against it.
    if (villagesBroken) return { error: null };
    const where = township ? `${township}` : county ? `${county}` : '';
    // Suggestions cost a scan of the villages in scope; past the budget, a file full of wrong names gets no suggestions.
    if (fuzzyBudget-- <= 0) return { error: `「${name}」不在${where}的村社区名单中（村社区表或已导入的数据）` };
    const scoped = all.filter((v) => (!county || v.county === county) && (!township || v.township === township));
    const r = matchName(
      name,
      scoped.map((v) => ({ value: v, label: township ? v.name : `${v.township}${v.name}`, names: [v.name, `${v.township}${v.name}`] })),
    );
    if (r.kind === 'found') return ok(r.value);
    if (r.kind === 'ambiguous') return { error: `「${name}」在${where}对应多个村(社区)：${r.options.join('、')}，请写全称或填写乡镇列` };
    return { error: `「${name}」不在${where}的村社区名单中（村社区表或已导入的数据）。${suggestionText(r.suggestions)}`.trim() };
  };

  // People: who each row is, then their places.
  // Dropped people too: a row naming one again restores them (same person, same open_id).
  const existingPeople = db.roster.everyone();
  const identity = matchPeople(
    peopleIn.ok.map(({ r, v }) => ({ r, name: v.姓名, openId: v.飞书open_id, phone: v.手机号, email: v.邮箱 })),
    existingPeople,
  );
  for (const i of identity.issues) issues.push(issueAt(peopleSheet!, i.r, i.column, i.reason));
  // Names of people whose rows failed: a talk naming them is not reported again.
  const failedPeople = new Set(peopleIn.failed.map((f) => canonicalName(f.cells['姓名'] ?? '')));
  peopleIn.ok.forEach(({ r, v }, idx) => {
    const existingId = identity.existingIds[idx];
    if (existingId === undefined) {
      failedPeople.add(canonicalName(v.姓名));
      return;
    }
    if (!v.飞书open_id && !v.手机号 && !v.邮箱) {
      issues.push(issueAt(peopleSheet!, r, '手机号', '飞书open_id、手机号、邮箱都没有填写：每人至少填一项（一般填本人手机号）'));
      failedPeople.add(canonicalName(v.姓名));
      return;
    }
    const township = v.乡镇 || null;
    const county = v.县;
    let bad = countyUnknown && !county;
    if (!bad && !villagesBroken) {
      if (!counties.has(county)) {
        issues.push(issueAt(peopleSheet!, r, '县', `「${county}」不在村社区名单中（村社区表或已导入的数据）`));
        bad = true;
      } else if (township && !townships.has(`${county}\u0000${township}`)) {
        issues.push(issueAt(peopleSheet!, r, '乡镇', `${county}没有「${township}」（村社区表或已导入的数据中）`));
        bad = true;
      }
    }
    const vs: VillageKey[] = [];
    const seenV = new Set<string>();
    if (!bad) {
      for (const name of v.负责村社区) {
        const f = findVillage(name, countyUnknown ? null : county, township);
        if ('error' in f) {
          if (f.error) issues.push(issueAt(peopleSheet!, r, '负责村社区', f.error));
        } else if (!f.failed && !seenV.has(vkey(f.ok))) {
          seenV.add(vkey(f.ok));
          vs.push({ county: f.ok.county, township: f.ok.township, name: f.ok.name });
        }
      }
    }
    if (v.角色 !== '领导' && v.角色 !== '管理员' && !v.负责村社区.length) {
      issues.push(issueAt(peopleSheet!, r, '负责村社区', `${v.角色}须填写负责的村(社区)，多个用、分隔`));
    }
    plan.people.push({ name: v.姓名, openId: v.飞书open_id, phone: v.手机号, email: v.邮箱, role: v.角色, county, township, villages: vs, row: r.row, existingId });
  });

  // Interviewers are found among the people after this import (renamed people under their new name), by
  // name, phone or open_id. Built only when there are talks: a province's people-only roster skips it.
  const refKey = (ref: InterviewerRef) => ('row' in ref ? `r${ref.row}` : `p${ref.person}`);
  const byPersonName = new Map<string, InterviewerRef[]>();
  const byContact = new Map<string, InterviewerRef>();
  if (talksIn.length) {
    const addName = (name: string, ref: InterviewerRef) => {
      const k = canonicalName(name);
      const l = byPersonName.get(k);
      if (l) l.push(ref);
      else byPersonName.set(k, [ref]);
    };
    const claimed = new Set(plan.people.map((p) => p.existingId).filter((id): id is number => id !== null));
    for (const p of existingPeople) {
      if (claimed.has(p.id)) continue;
      addName(p.name, { person: p.id });
      for (const c of [p.openId, p.phone]) if (c) byContact.set(c, { person: p.id });
    }
    plan.people.forEach((p, idx) => {
      addName(p.name, { row: idx });
      for (const c of [p.openId, p.phone]) if (c) byContact.set(c, { row: idx });
    });
  }

  // Deadline overrides.
  const seenOverride = new Map<string, number>();
  for (const { r, v } of overridesIn) {
    const f = findVillage(v.村社区, null, v.乡镇 || null);
    if ('error' in f) {
      if (f.error) issues.push(issueAt(overrideSheet!, r, '村社区', f.error));
      continue;
    }
    if (f.failed) continue;
    const s = matchStage(f.ok.type, v.阶段);
    if (s.kind !== 'found') {
      const hint = s.kind === 'ambiguous' ? `可能是：${s.options.join('、')}` : suggestionText(s.suggestions);
      issues.push(issueAt(overrideSheet!, r, '阶段', `${f.ok.type}的阶段中没有「${v.阶段}」。${hint}`.trim()));
      continue;
    }
    const k = `${vkey(f.ok)}\u0000${s.value.key}`;
    const prev = seenOverride.get(k);
    if (prev) {
      issues.push(issueAt(overrideSheet!, r, '阶段', `与第${prev}行重复（${f.ok.name}「${s.value.name}」）`));
      continue;
    }
    seenOverride.set(k, r.row);
    plan.overrides.push({ village: { county: f.ok.county, township: f.ok.township, name: f.ok.name }, stageKey: s.value.key, deadline: v.截止日期, row: r.row });
  }

  // Talks.
  const seenTalk = new Map<string, number>();
  const townshipsByName = new Map<string, [string, string][]>();
  for (const t of townships) {
    const [c, name] = t.split('\u0000') as [string, string];
    townshipsByName.set(name, [...(townshipsByName.get(name) ?? []), [c, name]]);
  }
  const villageNames = new Set(all.map((x) => x.name));
  for (const { r, v } of talksIn) {
    const at = (column: string, reason: string) => issues.push(issueAt(talkSheet!, r, column, reason));
    const cat = findTalkCategory(v.谈话类别);
    if (!cat) {
      at('谈话类别', `「${v.谈话类别}」不是谈话类别，应为 五必谈五类、选前谈话、任前谈话 或 落选/离任谈话`);
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
        if (f.error) at('村社区', f.error);
        continue;
      }
      if (f.failed) continue;
      region = { kind: 'village', village: { county: f.ok.county, township: f.ok.township, name: f.ok.name } };
    }
    const interviewers: InterviewerRef[] = [];
    for (const who of v.谈话人) {
      const contact = /^ou_/.test(who) ? who : normalizePhone(who);
      if (contact) {
        const ref = byContact.get(contact);
        if (ref) interviewers.push(ref);
        else if (!peopleBroken) at('谈话人', `${/^ou_/.test(who) ? 'open_id' : '手机号'}「${who}」不在人员名单中：请先在人员表中加上此人`);
        continue;
      }
      const refs = byPersonName.get(canonicalName(who)) ?? [];
      if (refs.length === 1) interviewers.push(refs[0]!);
      else if (refs.length > 1) at('谈话人', `「${who}」在人员名单中有 ${refs.length} 人重名：请改写为此人的手机号`);
      else if (!peopleBroken && !failedPeople.has(canonicalName(who))) at('谈话人', `「${who}」不在人员名单中：请先在人员表中加上此人，或核对姓名`);
    }
    const rk = region.kind === 'village' ? vkey(region.village) : `${region.county}\u0000${region.township}`;
    const k = `${cat.name}\u0000${canonicalName(v.谈话对象)}\u0000${rk}`;
    const prev = seenTalk.get(k);
    if (prev) {
      at('谈话对象', `与第${prev}行重复（同一谈话对象、类别和村只写一行）`);
      continue;
    }
    seenTalk.set(k, r.row);
    const unique = new Map(interviewers.map((x) => [refKey(x), x]));
    plan.talks.push({ category: cat.name, subject: v.谈话对象, region, interviewers: [...unique.values()], due: v.截止日期, row: r.row });
  }
  return { plan, issues, warnings };
}

/**
 * Why a 村社区 row is refused as a look-alike (issue 17), or null: its cell holds invisible
 * characters (zero-width space, soft hyphen, bidi controls…) and without them it is the name of
 * another row or of a village already imported; or a village already imported carries such
 * characters and prints like this one. Imported side by side they would be three villages that
 * print the same, and a cadre typing the name would reach one of them at random.
 */
function lookAlikeVillage(raw: string, key: VillageKey, prev: SheetRow | undefined, existing: string | undefined): string | null {
  const hidden = invisibleChars(raw);
  const what = hidden.length ? `含有看不见的字符（${hidden.map(invisibleLabel).join('、')}）` : '';
  if (hidden.length && prev) return `「${key.name}」${what}，去掉后与第${prev.row}行「${key.name}」相同：请在单元格中重新输入村名、删除多余字符后重新导入`;
  if (hidden.length && existing !== undefined) return `「${key.name}」${what}，去掉后与已导入的「${key.township}${key.name}」相同：如是同一个村，请在单元格中重新输入村名后重新导入；如是另一个村，请改用能区分的名称`;
  if (existing !== undefined && existing !== key.name) {
    return `已导入的村社区「${key.township}${existing}」含有看不见的字符（${invisibleChars(existing).map(invisibleLabel).join('、')}），与本行「${key.name}」看起来相同：请联系技术人员处理已有数据（见 docs/workflow.md「名称中的隐藏字符」），本次未导入`;
  }
  return null;
}
