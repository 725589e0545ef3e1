import ExcelJS from 'exceljs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

const ENTRY = 'src/cli/main.ts';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('npm run cli -- digest preview / report export', () => {
  let dir: string;
  const run = (args: string[]) => runTs(ENTRY, args, { env: { DATA_DIR: dir } });
  beforeAll(() => {
    dir = tempDir('hj-cli-report-');
    const db = openTestDb(join(dir, 'huanjie.db'));
    const repos = createWorkflowRepos(db);
    seedCampaign(repos, sampleCampaign({ townships: 3, villagesPerTownship: [14, 13, 13], extraCadres: 12 }));
    const v = repos.roster.villages().find((x) => x.name === '城东村' && x.township === '沁河镇')!;
    repos.plan.setStage({ village_id: v.id, stage_key: 'audit', status: '已完成', completed_on: '2026-11-04', note: null, updated_by: 'ou_cadre_t0_v1', updated_at: Date.parse('2026-11-04T02:00:00Z') });
    db.close();
  });

  it('prints the card a leader would get on a day, without sending; --json gives the data', async () => {
    const r = await run(['digest', 'preview', '--leader', 'ou_leader_t0', '--date', '2026-11-05']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/┏ 换届工作日报 · 11月5日 星期四 — 沁河镇（沁源县 乡镇级）· 14 个村\(社区\)/);
    expect(r.stdout).toMatch(/昨日完成（11月4日）[\s\S]*城东村·审计/);
    expect(r.stdout).toMatch(/未发送/);

    const j = await run(['digest', 'preview', '--leader', 'ou_leader_county', '--date', '2026-11-05', '--json']);
    expect(j.code).toBe(0);
    const d = JSON.parse(j.stdout) as { scope: { kind: string; name: string }; villages: number; completion: { done: number }; overdue: { total: number } };
    expect(d).toMatchObject({ scope: { kind: 'county', name: '沁源县' }, villages: 40, completion: { done: 1 }, overdue: { total: 239 } });
  }, 90_000);

  it('finds the leader by name, writes the chart with --png, and refuses a cadre and a bad date', async () => {
    const png = join(dir, 'chart.png');
    const r = await run(['digest', 'preview', '--leader', '换届办管理员', '--date', '2026-11-09', '--png', png]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/周调度/); // a Monday
    expect(r.stdout).toMatch(/未能回答或被点踩的问题/); // an admin
    expect(readFileSync(png).subarray(0, 4).equals(PNG)).toBe(true);

    const cadre = await run(['digest', 'preview', '--leader', 'ou_cadre_t0_v0']);
    expect(cadre.code).toBe(2);
    expect(cadre.stderr).toMatch(/不接收日报：日报、逾期清单和导出仅供领导/);
    const bad = await run(['digest', 'preview', '--leader', 'ou_leader_t0', '--date', '2026-02-30']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/日期「2026-02-30」不对/);
  }, 90_000);

  it('report export writes the workbook for a leader’s scope, or everything', async () => {
    const file = join(dir, 'out.xlsx');
    const r = await run(['report', 'export', file, '--leader', 'ou_leader_t2', '--date', '2026-11-05']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/已导出 .*out\.xlsx/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(file) as unknown as ArrayBuffer);
    const detail = wb.getWorksheet('进度总表')!;
    // Title, 制表单位/截至, a note, then the header (row 4) and one row per village and stage.
    expect(detail.rowCount).toBe(4 + 13 * 16);
    expect(new Set(detail.getColumn(2).values.slice(5))).toEqual(new Set(['灵空山镇']));
    const m = wb.getWorksheet('进度一览')!;
    expect(m.getCell('A1').value).toBe('沁源县灵空山镇村(社区)“两委”换届工作进度表');
    // --date 2026-11-05 is past: the figures are as of the end of that day, in Shanghai time.
    expect([...new Set((m.getRow(2).values as unknown[]).filter(Boolean))]).toEqual(['制表单位：灵空山镇党委', '截至 2026年11月5日 23:59']);
    expect(m.pageSetup).toMatchObject({ orientation: 'landscape', fitToWidth: 1, fitToHeight: 0, paperSize: 9, printTitlesRow: '4:4' });
    // A township leader sees the county's ranking, their own township marked.
    expect([5, 6, 7].map((r) => wb.getWorksheet('乡镇排名')!.getCell(r, 2).value).filter((v) => String(v).endsWith('（本乡镇）'))).toEqual(['灵空山镇（本乡镇）']);

    const all = join(dir, 'all.xlsx');
    expect((await run(['report', 'export', all, '--date', '2026-11-05'])).code).toBe(0);
    expect(existsSync(all)).toBe(true);
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load(readFileSync(all) as unknown as ArrayBuffer);
    expect(wb2.getWorksheet('进度总表')!.rowCount).toBe(4 + 40 * 16);
    expect(wb2.getWorksheet('进度一览')!.getCell('A1').value).toBe('各县(市、区)村(社区)“两委”换届工作进度表');
    // Without --leader: every county's townships, grouped by county (it used to rank the counties only).
    const rank = wb2.getWorksheet('乡镇排名')!;
    expect(rank.getCell('A5').value).toMatch(/^沁源县（各县第 1 名）：3 个乡镇、40 个村\(社区\)/);
    expect([6, 7, 8].map((r) => rank.getCell(r, 2).value).sort()).toEqual(['沁河镇', '灵空山镇', '郭道镇'].sort());
  }, 90_000);
});
