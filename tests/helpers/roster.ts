import ExcelJS from 'exceljs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../src/store/workflow-repos.js';
import { runImport, type ImportCounts } from '../../src/workflow/import/index.js';
import type { SheetData } from '../../src/workflow/import/sheets.js';
import { SHEETS } from '../../src/workflow/import/sheets.js';

/**
 * A sample campaign for tests: one county, N townships, villages per
 * township, a cadre per village, a work team and a leader per township, a
 * county leader and an admin, and (optionally) talks. Parameterisable, so
 * issue 5 can build a 3-township, 40-village, 60-person campaign:
 *   sampleCampaign({ villagesPerTownship: [14, 13, 13], cadresPerVillage: 1, extraCadres: 12 })
 * The same data can be written as .xlsx or CSV, or imported straight.
 */
export interface CampaignSpec {
  county?: string;
  /** Number of townships (default 2) or their names. */
  townships?: number | string[];
  /** Villages per township: one number for all, or one per township (default 3). */
  villagesPerTownship?: number | number[];
  /** Every n-th village of a township is a 社区 (0 = none; default 3). */
  communityEvery?: number;
  /** Election day of every village, or a function of the village index (default 2026-11-28). */
  electionDay?: string | ((i: number) => string);
  cadresPerVillage?: number;
  /** Cadres following several villages of their township (in addition), spread round-robin. */
  extraCadres?: number;
  /** Include talks: a 选前谈话 per village and a 五必谈·乡镇党委书记 per township (default true). */
  talks?: boolean;
}

export interface CampaignPerson {
  name: string;
  openId: string;
  role: '管理员' | '领导' | '干部' | '工作组';
  county: string;
  township: string;
  villages: string[];
}

export interface Campaign {
  county: string;
  townships: string[];
  villages: { county: string; township: string; name: string; type: '村' | '社区'; electionDay: string }[];
  people: CampaignPerson[];
  talks: { category: string; subject: string; place: string; township: string; interviewers: string[]; due: string }[];
  overrides: { village: string; township: string; stage: string; deadline: string }[];
  /** Handy open_ids. */
  ids: { admin: string; countyLeader: string; townshipLeaders: string[]; teams: string[]; cadres: string[][] };
}

const TOWNSHIP_NAMES = ['沁河镇', '郭道镇', '灵空山镇', '王和镇', '李元镇', '中峪乡', '法中乡', '交口乡', '聪子峪乡', '韩洪乡'];
const VILLAGE_STEMS = ['城西', '城东', '南关', '北关', '河西', '河东', '前进', '红旗', '新建', '太平', '永和', '长胜', '东风', '向阳', '和平', '团结', '光明', '幸福', '丰收', '胜利'];
const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰', '涛', '明', '超', '秀英', '华', '平', '刚', '桂英'];

function personName(i: number): string {
  return `${SURNAMES[i % SURNAMES.length]}${GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]}${i >= SURNAMES.length * GIVEN.length ? Math.floor(i / 400) : ''}`;
}

export function sampleCampaign(spec: CampaignSpec = {}): Campaign {
  const county = spec.county ?? '沁源县';
  const townships = Array.isArray(spec.townships) ? spec.townships : TOWNSHIP_NAMES.slice(0, spec.townships ?? 2);
  const perTownship = (i: number) => (Array.isArray(spec.villagesPerTownship) ? (spec.villagesPerTownship[i] ?? 0) : (spec.villagesPerTownship ?? 3));
  const every = spec.communityEvery ?? 3;
  const election = (i: number) => (typeof spec.electionDay === 'function' ? spec.electionDay(i) : (spec.electionDay ?? '2026-11-28'));
  const villages: Campaign['villages'] = [];
  let vi = 0;
  townships.forEach((t, ti) => {
    for (let j = 0; j < perTownship(ti); j++) {
      const type = every > 0 && (j + 1) % every === 0 ? '社区' : '村';
      const stem = VILLAGE_STEMS[j % VILLAGE_STEMS.length]! + (j >= VILLAGE_STEMS.length ? String(Math.floor(j / VILLAGE_STEMS.length) + 1) : '');
      villages.push({ county, township: t, name: `${stem}${type}`, type, electionDay: election(vi++) });
    }
  });
  let pi = 0;
  const people: CampaignPerson[] = [];
  const add = (p: Omit<CampaignPerson, 'name'> & { name?: string }) => {
    const person = { name: p.name ?? personName(pi), ...p } as CampaignPerson;
    pi++;
    people.push(person);
    return person.openId;
  };
  const admin = add({ name: '换届办管理员', openId: 'ou_admin_0001', role: '管理员', county, township: '', villages: [] });
  const countyLeader = add({ openId: 'ou_leader_county', role: '领导', county, township: '', villages: [] });
  const townshipLeaders: string[] = [];
  const teams: string[] = [];
  const cadres: string[][] = [];
  townships.forEach((t, ti) => {
    const vs = villages.filter((v) => v.township === t).map((v) => v.name);
    townshipLeaders.push(add({ openId: `ou_leader_t${ti}`, role: '领导', county, township: t, villages: [] }));
    teams.push(add({ openId: `ou_team_t${ti}`, role: '工作组', county, township: t, villages: vs }));
    const list: string[] = [];
    vs.forEach((v, vj) => {
      for (let k = 0; k < (spec.cadresPerVillage ?? 1); k++) list.push(add({ openId: `ou_cadre_t${ti}_v${vj}${k ? `_${k}` : ''}`, role: '干部', county, township: t, villages: [v] }));
    });
    cadres.push(list);
  });
  for (let k = 0; k < (spec.extraCadres ?? 0); k++) {
    const ti = k % townships.length;
    const vs = villages.filter((v) => v.township === townships[ti]).map((v) => v.name);
    add({ openId: `ou_cadre_extra_${k}`, role: '干部', county, township: townships[ti]!, villages: vs.filter((_, i) => i % 2 === k % 2).slice(0, 4) });
  }
  const talks: Campaign['talks'] = [];
  if (spec.talks ?? true) {
    villages.forEach((v, i) => {
      const cadre = people.find((p) => p.role === '干部' && p.villages.includes(v.name) && p.township === v.township)!;
      talks.push({ category: '选前谈话', subject: `候选人${v.name.slice(0, 2)}${i}`, place: v.name, township: v.township, interviewers: [cadre.name], due: '2026-11-10' });
    });
    townships.forEach((t, ti) => {
      const leader = people.find((p) => p.openId === countyLeader)!;
      talks.push({ category: '五必谈·乡镇党委书记', subject: `${t}书记`, place: t, township: t, interviewers: [leader.name], due: '2026-10-20' });
      void ti;
    });
  }
  return { county, townships, villages, people, talks, overrides: [], ids: { admin, countyLeader, townshipLeaders, teams, cadres } };
}

/** The campaign as sheet rows, by sheet name (column name → cell text). */
export function campaignRows(c: Campaign): Record<string, Record<string, string>[]> {
  return {
    人员: c.people.map((p) => ({ 姓名: p.name, 飞书open_id: p.openId, 角色: p.role, 县: p.county, 乡镇: p.township, 负责村社区: p.villages.join('、') })),
    村社区: c.villages.map((v) => ({ 县: v.county, 乡镇: v.township, 村社区: v.name, 类型: v.type, 选举日: v.electionDay })),
    节点: c.overrides.map((o) => ({ 村社区: o.village, 阶段: o.stage, 截止日期: o.deadline, 乡镇: o.township })),
    谈话: c.talks.map((t) => ({ 谈话类别: t.category, 谈话对象: t.subject, 村社区: t.place, 谈话人: t.interviewers.join('、'), 截止日期: t.due, 乡镇: t.township })),
  };
}

/** Rows as the reader would produce them (header row 1, data from row 2). */
export function toSheetData(rows: Record<string, Record<string, string>[]>): SheetData[] {
  return Object.entries(rows)
    .filter(([, r]) => r.length > 0)
    .map(([name, r]) => ({ name, headers: Object.keys(r[0]!), rows: r.map((cells, i) => ({ row: i + 2, cells })) }));
}

/** Writes sheets as an .xlsx workbook (columns in the SPEC order, plus any extra columns present). */
export async function writeXlsx(path: string, rows: Record<string, Record<string, string>[]>, opts: { columns?: Record<string, string[]> } = {}): Promise<void> {
  const wb = new ExcelJS.Workbook();
  for (const [name, r] of Object.entries(rows)) {
    if (!r.length && name !== '人员' && name !== '村社区') continue;
    const ws = wb.addWorksheet(name);
    const cols = opts.columns?.[name] ?? columnsOf(name, r);
    ws.addRow(cols);
    for (const row of r) ws.addRow(cols.map((c) => row[c] ?? ''));
  }
  await wb.xlsx.writeFile(path);
}

/** Writes one CSV per sheet (UTF-8 with BOM, as Excel saves "CSV UTF-8"). */
export function writeCsvDir(dir: string, rows: Record<string, Record<string, string>[]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, r] of Object.entries(rows)) {
    if (!r.length) continue;
    const cols = columnsOf(name, r);
    const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    writeFileSync(join(dir, `${name}.csv`), '\uFEFF' + [cols, ...r.map((x) => cols.map((c) => x[c] ?? ''))].map((l) => l.map(esc).join(',')).join('\r\n') + '\r\n');
  }
}

function columnsOf(name: string, r: Record<string, string>[]): string[] {
  const spec = SHEETS.find((s) => s.name === name);
  const base = spec ? spec.columns.filter((c) => c.required).map((c) => c.name) : [];
  const extra = [...new Set(r.flatMap((x) => Object.keys(x)))].filter((c) => !base.includes(c));
  return [...base, ...extra];
}

/** Imports the campaign into a database (through the real validator and apply); throws on any problem. */
export function seedCampaign(db: Db | WorkflowRepos, c: Campaign, actor = 'test'): ImportCounts {
  const repos = 'roster' in db ? db : createWorkflowRepos(db);
  const o = runImport(repos, { sheets: toSheetData(campaignRows(c)), issues: [] }, { actor, sourceId: `seed:${Math.random()}`, fileName: 'seed', now: Date.now() });
  if (!o.ok) throw new Error('sample campaign does not import: ' + o.issues.slice(0, 5).map((i) => `${i.sheet}:${i.row}:${i.column}:${i.reason}`).join(' | '));
  return o.counts;
}
