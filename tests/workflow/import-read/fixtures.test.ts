import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImportBytes, readImportFile } from '../../../src/workflow/import/read.js';
import type { SheetData } from '../../../src/workflow/import/sheets.js';

/**
 * County files as real programs write them (tests/fixtures/import, made by
 * make_fixtures.py with openpyxl, xlwt and LibreOffice): each is read into the
 * same canonical sheets, with Excel's row numbers, merges filled, phones as
 * digits and date cells as YYYY-MM-DD.
 */
const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const sheet = (sheets: SheetData[], name: string) => sheets.find((s) => s.name === name)!;
const TITLE = '沁源县2026年村(社区)“两委”换届包联干部名单';

const PEOPLE = [
  { 姓名: '王建国', 手机号: '13912345678', 角色: '领导', 乡镇: '沁河镇', 负责村社区: '' },
  { 姓名: '李明', 手机号: '13987654321', 角色: '干部', 乡镇: '沁河镇', 负责村社区: '城西村、城东村' },
  { 姓名: '赵丽', 手机号: '15034567890', 角色: '干部', 乡镇: '沁河镇', 负责村社区: '西关社区' },
  { 姓名: '陈刚', 手机号: '18603551234', 角色: '干部', 乡镇: '郭道镇', 负责村社区: '郭道村' },
  { 姓名: '刘芳', 手机号: '13700001111', 角色: '工作组', 乡镇: '郭道镇', 负责村社区: '郭道村、南石村' },
];
// Date cells become YYYY-MM-DD; dates typed as text pass through for the validator; a serial number as typed.
const VILLAGES = [
  { 乡镇: '沁河镇', 村社区: '城西村', 类型: '村', 选举日: '2026-03-15' },
  { 乡镇: '沁河镇', 村社区: '城东村', 类型: '村', 选举日: '2026.3.15' },
  { 乡镇: '沁河镇', 村社区: '西关社区', 类型: '社区', 选举日: '2026年3月15日' },
  { 乡镇: '郭道镇', 村社区: '郭道村', 类型: '村', 选举日: '2026/3/16' },
  { 乡镇: '郭道镇', 村社区: '南石村', 类型: '', 选举日: '46097' },
];

describe('a county workbook: title lines, two-row merged header, merged 乡镇, 序号, extra columns, footers', () => {
  const county = [
    { file: 'county-openpyxl.xlsx', writer: 'openpyxl', full: true },
    { file: 'county-xlwt.xls', writer: 'xlwt (.xls)', full: false },
    { file: 'county-libreoffice.xlsx', writer: 'LibreOffice (.xlsx)', full: true },
    { file: 'county-libreoffice.xls', writer: 'LibreOffice (.xls)', full: true },
    { file: 'county-xlwt-libreoffice.xlsx', writer: 'xlwt then LibreOffice', full: false },
  ];
  for (const c of county) {
    it(`written by ${c.writer}`, async () => {
      const r = await readImportBytes(c.file, readFileSync(join(FIX, c.file)));
      expect(r.issues).toEqual([]);
      expect(r.sheets.map((s) => s.name)).toEqual(c.full ? ['人员', '村社区', '节点', '谈话'] : ['人员', '村社区']);

      const people = sheet(r.sheets, '人员');
      expect(people).toMatchObject({ file: c.file, sheetName: 'Sheet1' });
      expect(people.headers).toEqual(['姓名', '手机号', '角色', '乡镇', '负责村社区']);
      // Header in rows 3–4 (联系方式 over 手机号码/办公电话): data from Excel row 5; the footer lines are not rows.
      expect(people.rows.map((x) => x.row)).toEqual([5, 6, 7, 8, 9]);
      expect(people.rows.map((x) => x.cells)).toEqual(PEOPLE);
      expect(people.rows.every((x) => x.file === c.file && x.sheetName === 'Sheet1')).toBe(true);

      const villages = sheet(r.sheets, '村社区');
      expect(villages).toMatchObject({ sheetName: '村（社区）名单', headers: ['乡镇', '村社区', '类型', '选举日'] });
      expect(villages.rows.map((x) => x.row)).toEqual([4, 5, 6, 7, 8]);
      expect(villages.rows.map((x) => x.cells)).toEqual(VILLAGES);

      if (c.full) {
        expect(sheet(r.sheets, '节点').rows).toEqual([
          { row: 2, file: c.file, sheetName: '时间节点', cells: { 村社区: '城西村', 阶段: '选民名单公布', 截止日期: '2026-03-05' } },
          { row: 3, file: c.file, sheetName: '时间节点', cells: { 村社区: '郭道村', 阶段: '选民登记', 截止日期: '2026年3月1日' } },
        ]);
        expect(sheet(r.sheets, '谈话').rows.map((x) => x.cells)).toEqual([
          { 谈话类别: '选前谈话', 谈话对象: '张三', 村社区: '城西村', 谈话人: '李明', 截止日期: '2026-03-10' },
          { 谈话类别: '选前谈话', 谈话对象: '孙七', 村社区: '郭道村', 谈话人: '陈刚、刘芳', 截止日期: '2026.3.11' },
        ]);
        expect(r.notes).toContain('工作表「填表说明」：不是人员、村社区、节点或谈话表（没有找到相应的表头），已忽略');
      }
      expect(r.titles).toEqual([TITLE, '填报单位(盖章):沁源县委组织部', '沁源县2026年村(社区)“两委”换届选举日安排表']);
      expect(r.notes).toEqual(
        expect.arrayContaining([
          '工作表「Sheet1」：识别为人员表（表头在第4行，5 行数据）',
          '工作表「Sheet1」：以下列未使用，已忽略：序号、职务、办公电话',
          '工作表「Sheet1」：跳过表尾 3 行（合计、填表人、备注等）',
          '工作表「村（社区）名单」：以下列未使用，已忽略：序号、备注',
        ]),
      );
      // Empty sheets (Sheet3) are not mentioned; each note is said once.
      expect(r.notes.some((n) => n.includes('Sheet3'))).toBe(false);
      expect(new Set(r.notes).size).toBe(r.notes.length);
    });
  }
});

describe('CSV files', () => {
  it('GBK with a title line and a footer, file name not a sheet name', async () => {
    const r = await readImportFile(join(FIX, '包村干部-gbk.csv'));
    expect(r.issues).toEqual([]);
    const people = sheet(r.sheets, '人员');
    expect(people).toMatchObject({ file: '包村干部-gbk.csv', sheetName: '包村干部-gbk', headers: ['姓名', '手机号', '角色', '乡镇', '负责村社区'] });
    expect(people.rows.map((x) => x.row)).toEqual([4, 5, 6, 7, 8]);
    expect(people.rows.map((x) => x.cells)).toEqual(PEOPLE);
    expect(r.titles).toEqual([TITLE]);
    expect(r.notes).toEqual(['文件「包村干部-gbk.csv」：识别为人员表（表头在第3行，5 行数据）', '文件「包村干部-gbk.csv」：以下列未使用，已忽略：序号', '文件「包村干部-gbk.csv」：跳过表尾 1 行（合计、填表人、备注等）']);
  });

  it('UTF-8 with BOM, header aliases 村名/选举时间, no 县 or 类型 column (both optional now)', async () => {
    const r = await readImportFile(join(FIX, 'villages-utf8.csv'));
    expect(r.issues).toEqual([]);
    const v = sheet(r.sheets, '村社区');
    expect(v.headers).toEqual(['乡镇', '村社区', '选举日']);
    expect(v.rows[0]).toEqual({ row: 2, file: 'villages-utf8.csv', sheetName: 'villages-utf8', cells: { 乡镇: '沁河镇', 村社区: '城西村', 选举日: '2026-03-15' } });
  });
});

describe('the template, opened and saved again by openpyxl', () => {
  it('is not "corrupt": its sheets are recognised and the example rows skipped', async () => {
    const r = await readImportFile(join(FIX, 'template-openpyxl.xlsx'));
    expect(r.issues).toEqual([]);
    expect(r.sheets.map((s) => [s.name, s.sheetName, s.rows.length])).toEqual([
      ['人员', '人员', 0],
      ['村社区', '村社区', 0],
      ['节点', '节点', 0],
      ['谈话', '谈话', 0],
    ]);
    expect(r.notes).toContain('工作表「说明」：不是人员、村社区、节点或谈话表（没有找到相应的表头），已忽略');
  });

  it('with rows added in openpyxl: a phone typed as a number, a date cell', async () => {
    const r = await readImportFile(join(FIX, 'template-openpyxl-filled.xlsx'));
    expect(r.issues).toEqual([]);
    expect(sheet(r.sheets, '人员').rows).toEqual([
      { row: expect.any(Number), file: 'template-openpyxl-filled.xlsx', sheetName: '人员', cells: expect.objectContaining({ 姓名: '李明', 飞书open_id: 'ou_0000000000000000000000000000li', 手机号: '13987654321', 负责村社区: '城西村' }) },
    ]);
    expect(sheet(r.sheets, '村社区').rows.map((x) => x.cells)).toEqual([{ 县: '沁源县', 乡镇: '沁河镇', 村社区: '城西村', 类型: '村', 选举日: '2026-03-15' }]);
  });
});

describe('a 1,000-row sheet called 花名册', () => {
  it('reads every row with its Excel row number; phones as digits', async () => {
    const r = await readImportFile(join(FIX, 'thousand.xlsx'));
    const p = sheet(r.sheets, '人员');
    expect(p.sheetName).toBe('花名册');
    expect(p.rows).toHaveLength(1000);
    expect(p.rows[0]).toMatchObject({ row: 2, cells: { 姓名: '干部0000', 手机号: '13900000000' } });
    expect(p.rows[999]).toMatchObject({ row: 1001, cells: { 姓名: '干部0999', 手机号: '13900000999', 负责村社区: '村49' } });
    expect(r.notes).toEqual(['工作表「花名册」：识别为人员表（表头在第1行，1000 行数据）', '工作表「花名册」：以下列未使用，已忽略：序号']);
  });
});
