import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { tableSnapshot } from '../helpers/snapshot.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../src/store/workflow-repos.js';
import { formatIssue, readImportFile, runImport, writeTemplate, type ImportOutcome } from '../../src/workflow/import/index.js';
import { campaignRows, sampleCampaign, writeCsvDir, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';

let dir: string;
let db: Db;
let repos: WorkflowRepos;
let n = 0;
beforeEach(() => {
  dir = tempDir('hj-import-');
  db = openTestDb(join(dir, 'db.sqlite'));
  repos = createWorkflowRepos(db);
});
afterEach(() => db.close());

const TABLES = ['wf_regions', 'wf_people', 'wf_assignments', 'wf_stage_overrides', 'wf_talks', 'wf_talk_interviewers'];
const state = () => TABLES.map((t) => tableSnapshot(db, t)).join('\n');
const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;

async function importFile(path: string): Promise<ImportOutcome> {
  return runImport(repos, await readImportFile(path), { actor: 'ou_admin_test', sourceId: `t${n++}`, fileName: path, now: Date.parse('2026-10-01T00:00:00Z') });
}

async function importRows(rows: Record<string, Record<string, string>[]>, columns?: Record<string, string[]>): Promise<ImportOutcome> {
  const file = join(dir, `w${n}.xlsx`);
  await writeXlsx(file, rows, { columns });
  return importFile(file);
}

function issues(o: ImportOutcome): string[] {
  return o.ok ? [] : o.issues.map(formatIssue);
}

describe('import of a valid workbook', () => {
  it('creates regions, villages, people with their villages, overrides and talks; audit for each', async () => {
    const c = sampleCampaign();
    c.overrides.push({ village: '城西村', township: '沁河镇', stage: '选民名单公布', deadline: '2026-11-06' });
    const o = await importRows(campaignRows(c));
    expect(issues(o)).toEqual([]);
    expect(o.ok && o.counts).toMatchObject({
      regions: { created: 3 },
      villages: { created: 6, updated: 0 },
      people: { created: c.people.length },
      overrides: { created: 1 },
      talks: { created: 8 },
    });
    expect(count('wf_regions')).toBe(1 + 2 + 6);
    expect(count('wf_people')).toBe(c.people.length);
    const team = repos.roster.personByOpenId('ou_team_t0')!;
    expect(repos.roster.assignedVillageIds(team.id)).toHaveLength(3);
    const cw = repos.roster.villages().find((v) => v.name === '城西村' && v.township === '沁河镇')!;
    expect(cw).toMatchObject({ type: '村', electionDay: '2026-11-28', county: '沁源县' });
    expect(repos.plan.override(cw.id, 'voter_list')).toBe('2026-11-06');
    expect(repos.audit.recent(500).filter((r) => r.action === 'import.person')).toHaveLength(c.people.length);
    expect(repos.audit.recent(1)[0]).toMatchObject({ action: 'import', actor: 'ou_admin_test' });
  });

  it('re-import updates in place: same ids, changed fields, counts of unchanged', async () => {
    const c = sampleCampaign();
    expect((await importRows(campaignRows(c))).ok).toBe(true);
    const ids = state();
    const again = await importRows(campaignRows(c));
    expect(again.ok && again.counts.people).toEqual({ created: 0, updated: 0, unchanged: c.people.length });
    expect(state()).toBe(ids);
    c.villages[0]!.electionDay = '2026-12-05';
    c.people.find((p) => p.openId === 'ou_cadre_t0_v0')!.villages = ['城西村', '城东村'];
    const renamed = c.people.find((p) => p.openId === 'ou_cadre_t0_v1')!;
    const oldName = renamed.name;
    renamed.name = '改名后';
    // The talks sheet names interviewers: under the old name the import is refused, under the new one it passes.
    expect(issues(await importRows(campaignRows(c)))).toEqual([`谈话 第3行 「谈话人」：「${oldName}」不在人员名单中：请先在人员表中加上此人，或核对姓名`]);
    for (const t of c.talks) t.interviewers = t.interviewers.map((x) => (x === oldName ? '改名后' : x));
    const third = await importRows(campaignRows(c));
    expect(issues(third)).toEqual([]);
    expect(third.ok && third.counts.villages).toEqual({ created: 0, updated: 1, unchanged: 5 });
    expect(third.ok && third.counts.people).toEqual({ created: 0, updated: 2, unchanged: c.people.length - 2 });
    expect(count('wf_people')).toBe(c.people.length);
    const p = repos.roster.personByOpenId('ou_cadre_t0_v0')!;
    expect(repos.roster.assignedVillageIds(p.id)).toHaveLength(2);
    expect(repos.roster.personByOpenId('ou_cadre_t0_v1')!.name).toBe('改名后');
    const row = repos.audit.recent(100).find((r) => r.action === 'import.village')!;
    expect(JSON.parse(row.before!)).toEqual({ type: '村', electionDay: '2026-11-28' });
    expect(JSON.parse(row.after!)).toEqual({ type: '村', electionDay: '2026-12-05' });
  });

  it('reads CSV files named after the sheets, UTF-8 with BOM and GB18030', async () => {
    const c = sampleCampaign();
    const rows = campaignRows(c);
    const csv = join(dir, 'csv');
    writeCsvDir(csv, rows);
    // Excel on Chinese Windows saves "CSV" as GB18030: re-encode one file that way.
    const gbk = join(dir, 'csv', '村社区.csv');
    const text = ['县,乡镇,村社区,类型,选举日', ...rows['村社区']!.map((r) => [r['县'], r['乡镇'], r['村社区'], r['类型'], r['选举日']].join(','))].join('\r\n');
    writeFileSync(gbk, iconv.encode(text, 'gb18030'));
    const o = await importFile(csv);
    expect(issues(o)).toEqual([]);
    expect(repos.roster.villages().map((v) => v.name)).toContain('南关社区');
  });

  it('accepts dates as Excel dates, 2026/11/28 and 2026年11月28日, and header spellings', async () => {
    const file = join(dir, 'dates.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('村社区');
    ws.addRow(['县（区）', '乡镇（街道）', '村（社区）', '类型', '选举日期']);
    ws.addRow(['沁源县', '沁河镇', '城西村', '村', new Date(Date.UTC(2026, 10, 28))]);
    ws.addRow(['沁源县', '沁河镇', '城东村', '村', '2026/11/29']);
    ws.addRow(['沁源县', '沁河镇', '南关社区', '社区', '2026年11月30日']);
    await wb.xlsx.writeFile(file);
    const o = await importFile(file);
    expect(issues(o)).toEqual([]);
    expect(repos.roster.villages().map((v) => v.electionDay).sort()).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
  });

  it('the template imports as nothing (its example rows are skipped) and round-trips the sheet names', async () => {
    const file = join(dir, 'template.xlsx');
    await writeTemplate(file);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['人员', '村社区', '节点', '谈话', '说明']);
    expect(wb.getWorksheet('人员')!.getRow(1).values).toEqual([undefined, '姓名', '飞书open_id', '手机号', '邮箱', '角色', '县', '乡镇', '负责村社区']);
    const o = await importFile(file);
    expect(issues(o)).toEqual([]);
    expect(count('wf_people') + count('wf_regions')).toBe(0);
  });
});

describe('broken workbooks apply nothing and say where', () => {
  let base: string;
  beforeEach(async () => {
    // A valid campaign already imported: a broken re-import must leave it exactly as it is.
    expect((await importRows(campaignRows(sampleCampaign()))).ok).toBe(true);
    base = state();
  });
  const refused = async (o: ImportOutcome, ...expected: RegExp[]) => {
    expect(o.ok).toBe(false);
    const list = issues(o);
    for (const e of expected) expect(list.some((l) => e.test(l)), `${e} in\n${list.join('\n')}`).toBe(true);
    expect(state()).toBe(base);
  };

  it('a missing column is one line, not one per row', async () => {
    const rows = campaignRows(sampleCampaign());
    // 飞书open_id is optional since issue 14; without any contact column the sheet is refused once.
    const o = await importRows(rows, { 人员: ['姓名', '角色', '县', '乡镇', '负责村社区'] });
    await refused(o, /^人员 「手机号」：缺少联系方式列/);
    expect(issues(o)).toHaveLength(1);
    const noRole = await importRows(rows, { 人员: ['姓名', '飞书open_id', '县', '乡镇', '负责村社区'] });
    await refused(noRole, /「角色」：缺少/);
    expect(!noRole.ok && noRole.lines).toHaveLength(1);
  });

  it('an unknown village in 人员, with a suggestion', async () => {
    const c = sampleCampaign();
    c.people.find((p) => p.openId === 'ou_cadre_t0_v0')!.villages = ['城西屯'];
    await refused(await importRows(campaignRows(c)), /^人员 第\d+行 「负责村社区」：「城西屯」不在沁河镇的村社区名单中.*您是不是要找：城西村/);
  });

  it('a bad date, and an impossible one', async () => {
    const c = sampleCampaign();
    c.villages[1]!.electionDay = '11月28日';
    c.villages[2]!.electionDay = '2026-02-30';
    await refused(await importRows(campaignRows(c)), /^村社区 第3行 「选举日」：「11月28日」不是有效日期/, /^村社区 第4行 「选举日」：「2026-02-30」不是有效日期/);
  });

  it('a duplicate open_id', async () => {
    const c = sampleCampaign();
    c.people.push({ ...c.people[3]!, name: '另一人' });
    await refused(await importRows(campaignRows(c)), new RegExp(`^人员 第${c.people.length + 1}行 「飞书open_id」：与第5行重复`));
  });

  it('many problems at once: bad role, bad open_id, unknown stage and talk category, unknown interviewer', async () => {
    const c = sampleCampaign();
    c.people[2]!.role = '书记' as never;
    c.people[3]!.openId = 'zhangsan';
    c.overrides.push({ village: '城西村', township: '沁河镇', stage: '开大会', deadline: '2026-11-01' });
    c.talks[0]!.category = '闲聊';
    c.talks[1]!.interviewers = ['查无此人'];
    await refused(
      await importRows(campaignRows(c)),
      /^人员 第4行 「角色」：「书记」不是有效角色/,
      /^人员 第5行 「飞书open_id」：「zhangsan」不是飞书 open_id：应以 ou_ 开头/,
      /^节点 第2行 「阶段」：村的阶段中没有「开大会」/,
      /^谈话 第2行 「谈话类别」：「闲聊」不是谈话类别/,
      /^谈话 第3行 「谈话人」：「查无此人」不在人员名单中/,
    );
  });

  it('a 10,000-row sheet with one bad row near the end', async () => {
    const c = sampleCampaign({ townships: 1, villagesPerTownship: 20, talks: false });
    const rows = campaignRows(c);
    const names = c.villages.map((v) => v.name);
    for (let i = 0; i < 10_000 - c.people.length; i++) {
      rows['人员']!.push({ 姓名: `测试${i}`, 飞书open_id: `ou_bulk_${i}`, 角色: '干部', 县: '沁源县', 乡镇: '沁河镇', 负责村社区: names[i % names.length]! });
    }
    rows['人员']![9_990]!['负责村社区'] = '不存在村';
    const o = await importRows(rows);
    await refused(o, /^人员 第9992行 「负责村社区」：「不存在村」不在沁河镇的村社区名单中/);
    expect(issues(o)).toHaveLength(1);
    // And the same sheet without the bad row imports whole.
    rows['人员']![9_990]!['负责村社区'] = names[0]!;
    const ok = await importRows(rows);
    expect(issues(ok)).toEqual([]);
    expect(count('wf_people')).toBeGreaterThanOrEqual(10_000);
  }, 120_000);

  it('a file that is not a workbook', async () => {
    const file = join(dir, 'x.xlsx');
    writeFileSync(file, 'not a zip');
    await expect(readImportFile(file)).rejects.toThrow(/无法读取该 .xlsx 文件/);
    mkdirSync(join(dir, 'empty'));
    await expect(readImportFile(join(dir, 'empty'))).rejects.toThrow(/目录中没有可导入的文件/);
    expect(state()).toBe(base);
  });
});
