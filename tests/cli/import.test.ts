import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { campaignRows, sampleCampaign, writeCsvDir, writeXlsx } from '../helpers/roster.js';
import { englishIn, writeBook } from '../workflow/import-validate/world.js';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

const ENTRY = 'src/cli/main.ts';
const FIX = join(import.meta.dirname, '..', 'fixtures', 'import');
const TABLES = ['wf_regions', 'wf_people', 'wf_assignments', 'wf_stage_overrides', 'wf_talks', 'wf_talk_interviewers'];

/** Row counts of the roster tables (the database the CLI wrote in `dir`). */
function rowCounts(dir: string): Record<string, number> {
  const db = openTestDb(join(dir, 'huanjie.db'));
  try {
    return Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

describe('npm run cli -- import', () => {
  it('import template writes a workbook, refuses to overwrite', async () => {
    const dir = tempDir();
    const file = join(dir, '模板.xlsx');
    const r = await runTs(ENTRY, ['import', 'template', file], { env: { DATA_DIR: dir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('已生成导入模板');
    expect(existsSync(file)).toBe(true);
    const again = await runTs(ENTRY, ['import', 'template', file], { env: { DATA_DIR: dir } });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('已存在');
  }, 60_000);

  it('imports a valid workbook and a CSV folder; counts on stdout, exit 0', async () => {
    const dir = tempDir();
    const file = join(dir, 'roster.xlsx');
    const c = sampleCampaign();
    await writeXlsx(file, campaignRows(c));
    const r = await runTs(ENTRY, ['import', file], { env: { DATA_DIR: dir } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/人员：新增 \d+，更新 0，未变 0/);
    const csv = join(dir, 'csv');
    writeCsvDir(csv, campaignRows(c));
    const r2 = await runTs(ENTRY, ['import', csv], { env: { DATA_DIR: dir } });
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/人员：新增 0，更新 0，未变 \d+/);
  }, 60_000);

  it('refuses a broken workbook: problems by sheet/row/column on stderr, exit ≠ 0, nothing written', async () => {
    const dir = tempDir();
    const file = join(dir, 'broken.xlsx');
    const rows = campaignRows(sampleCampaign());
    rows['人员']![2]!['飞书open_id'] = rows['人员']![1]!['飞书open_id']!;
    rows['村社区']![0]!['类型'] = '镇';
    await writeXlsx(file, rows);
    const r = await runTs(ENTRY, ['import', file], { env: { DATA_DIR: dir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('导入未通过：2 处问题，未写入任何数据');
    expect(r.stderr).toContain('人员 第4行 「飞书open_id」：与第3行重复');
    expect(r.stderr).toContain('村社区 第2行 「类型」：「镇」不是有效类型');
    const db = openTestDb(join(dir, 'huanjie.db'));
    expect(db.prepare('SELECT COUNT(*) AS n FROM wf_regions').get()).toEqual({ n: 0 });
    db.close();
    const missing = await runTs(ENTRY, ['import', join(dir, 'nope.xlsx')], { env: { DATA_DIR: dir } });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('找不到文件');
  }, 60_000);

  it('a messy county roster (title line, merged 乡镇, phones only, no 县 column): imported, people unbound; the same with --county', async () => {
    for (const args of [[], ['--county', '沁源县']]) {
      const dir = tempDir();
      const r = await runTs(ENTRY, ['import', join(FIX, 'county-openpyxl.xlsx'), ...args], { env: { DATA_DIR: dir } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('人员：新增 5，更新 0，未变 0');
      expect(r.stdout).toContain('村社区：新增 5，更新 0，未变 0');
      expect(r.stdout).toContain('5 人尚未绑定飞书账号');
      // The fixture's election days are in March 2026: a warning, not a refusal.
      expect(r.stdout).toMatch(/注意：文件「county-openpyxl\.xlsx」工作表「村（社区）名单」（村社区）第4–8行 「选举日」：选举日早于今天/);
      expect(r.stdout).toContain('提示：工作表「Sheet1」：以下列未使用，已忽略');
      expect(englishIn(r.stdout.split('\n'))).toEqual([]);
      const db = openTestDb(join(dir, 'huanjie.db'));
      const people = db.prepare(`SELECT name, open_id, phone FROM wf_people ORDER BY phone`).all() as { name: string; open_id: string | null; phone: string }[];
      const counties = db.prepare(`SELECT name FROM wf_regions WHERE kind = 'county'`).pluck().all();
      db.close();
      expect(people).toHaveLength(5);
      expect(people.every((p) => p.open_id === null && /^1\d{10}$/.test(p.phone))).toBe(true);
      expect(counties).toEqual(['沁源县']);
    }
  }, 120_000);

  it('.xls from xlwt imports the same way; no title and no 县 column is one line until --county is given', async () => {
    const dir = tempDir();
    const xls = await runTs(ENTRY, ['import', join(FIX, 'county-xlwt.xls')], { env: { DATA_DIR: dir } });
    expect(xls.code).toBe(0);
    expect(xls.stdout).toContain('人员：新增 5');
    // thousand.xlsx: 1,000 cadres, phones as numbers, no 县 column, no title; its villages (村00–村49) first.
    await writeBook(join(dir, '村.xlsx'), { 村社区: [['县', '乡镇', '村社区', '选举日'], ...Array.from({ length: 50 }, (_, i) => ['沁源县', '沁河镇', `村${String(i).padStart(2, '0')}`, '2026-03-15'])] });
    expect((await runTs(ENTRY, ['import', join(dir, '村.xlsx')], { env: { DATA_DIR: dir } })).code).toBe(0);
    const before = rowCounts(dir);
    const refused = await runTs(ENTRY, ['import', join(FIX, 'thousand.xlsx')], { env: { DATA_DIR: dir } });
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines[0]).toBe('导入未通过：1 处问题，未写入任何数据。');
    expect(lines[1]).toMatch(/「县」：不知道这些行属于哪个县.*--county 沁源县$/);
    expect(rowCounts(dir)).toEqual(before);
    // The new roster leaves out the earlier 沁河镇 people: nothing is applied before it is confirmed.
    const preview = await runTs(ENTRY, ['import', join(FIX, 'thousand.xlsx'), '--county', '沁源县'], { env: { DATA_DIR: dir } });
    expect(preview.code).toBe(2);
    expect(preview.stdout).toContain('移出花名册：李明');
    expect(rowCounts(dir)).toEqual(before);
    const ok = await runTs(ENTRY, ['import', join(FIX, 'thousand.xlsx'), '--county', '沁源县', '--confirm'], { env: { DATA_DIR: dir } });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('人员：新增 1000，更新 0，未变 0');
    expect(ok.stdout).toContain('移出花名册：3 人');
    // 1000 new and the 2 of the first roster still on it; the 3 removed are no longer asked to bind.
    expect(ok.stdout).toContain('1002 人尚未绑定飞书账号');
    const empty = await runTs(ENTRY, ['import', join(FIX, 'thousand.xlsx'), '--county', ' '], { env: { DATA_DIR: dir } });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain('--county 后面要写县名');
  }, 180_000);

  it('bad input changes nothing: a garbled file, duplicated phones, a phone of two people, a missing column', async () => {
    const dir = tempDir();
    expect((await runTs(ENTRY, ['import', join(FIX, 'county-openpyxl.xlsx')], { env: { DATA_DIR: dir } })).code).toBe(0);
    // 李明 (13987654321) gets his open_id from a second roster: bound from now on.
    await writeBook(join(dir, 'bind.xlsx'), { 人员: [['姓名', '飞书open_id', '手机号', '角色', '县', '乡镇', '负责村社区'], ['李明', 'ou_li', '139-8765-4321', '干部', '沁源县', '沁河镇', '城西村、城东村']] });
    // A one-person sheet leaves the township's others out: applied only with --confirm, shown first.
    const shown = await runTs(ENTRY, ['import', join(dir, 'bind.xlsx')], { env: { DATA_DIR: dir } });
    expect(shown.code).toBe(2);
    expect(shown.stdout).toContain('移出花名册：王建国');
    const bind = await runTs(ENTRY, ['import', join(dir, 'bind.xlsx'), '--confirm'], { env: { DATA_DIR: dir } });
    expect(bind.stdout).toContain('人员：新增 0，更新 1，未变 0');
    expect(bind.stdout).toContain('移出花名册：2 人');
    expect(bind.stdout).toContain('2 人尚未绑定飞书账号');
    const before = rowCounts(dir);
    const garbled = await runTs(ENTRY, ['import', join(FIX, 'garbled.xlsx')], { env: { DATA_DIR: dir } });
    expect(garbled.code).not.toBe(0);
    expect(garbled.stderr).toMatch(/无法读取/);
    expect(englishIn(garbled.stderr.split('\n'))).toEqual([]);

    const head = ['姓名', '手机号', '角色', '乡镇', '负责村社区'];
    const cases: { name: string; rows: (string | number)[][]; expected: RegExp[] }[] = [
      {
        name: '重复手机号.xlsx',
        rows: [head, ['甲', 13500000001, '干部', '沁河镇', '城西村'], ['乙', '135 0000 0001', '干部', '沁河镇', '城东村']],
        expected: [/^ {2}人员 第4行 「手机号」：与第3行重复：同一个手机号（135\*\*\*\*0001）填给了「甲」和「乙」两人/],
      },
      {
        // 13987654321 is 李明's, who is bound to ou_li.
        name: '他人手机号.xlsx',
        rows: [['姓名', '飞书open_id', '手机号', '角色', '乡镇', '负责村社区'], ['王某', 'ou_wang', 13987654321, '干部', '沁河镇', '城西村']],
        expected: [/^ {2}人员 第3行 「手机号」：手机号（139\*\*\*\*4321）已属于已导入的「李明」，而「李明」已绑定另一个飞书账号/],
      },
      { name: '缺列.xlsx', rows: [['姓名', '手机号', '乡镇', '负责村社区'], ...Array.from({ length: 200 }, (_, i) => [`人${i}`, 13600000000 + i, '沁河镇', '城西村'])], expected: [/「角色」/] },
    ];
    for (const c of cases) {
      const file = join(dir, c.name);
      await writeBook(file, { 人员: [['沁源县2026年包联干部名单'], ...c.rows] });
      const r = await runTs(ENTRY, ['import', file], { env: { DATA_DIR: dir } });
      expect(r.code, c.name).toBe(1);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('  提示'));
      expect(lines[0], c.name).toMatch(/^导入未通过：\d+ 处问题，未写入任何数据。$/);
      expect(lines, c.name).toHaveLength(1 + c.expected.length);
      c.expected.forEach((e, i) => expect(lines[i + 1], c.name).toMatch(e));
      expect(englishIn(lines), c.name).toEqual([]);
      expect(rowCounts(dir), c.name).toEqual(before);
    }
  }, 180_000);
});
