import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellValue } from '../../../src/workflow/import/header.js';
import { readImportBytes, readImportFile } from '../../../src/workflow/import/read.js';
import { canonicalHeader, formatIssue, SHEETS } from '../../../src/workflow/import/sheets.js';
import { numberText, serialToIso } from '../../../src/workflow/import/xls-workbook.js';
import { tempDir } from '../../helpers/test-runtime.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const csv = (name: string, lines: string[]) => readImportBytes(name, Buffer.from(lines.join('\r\n')));
const spec = (n: string) => SHEETS.find((s) => s.name === n)!;

describe('header spellings', () => {
  it.each([
    ['人员', '干部姓名', '姓名'],
    ['人员', ' 姓 名 ＊', '姓名'],
    ['人员', '姓名*', '姓名'],
    ['人员', '姓名（必填）', '姓名'],
    ['人员', '手机号码', '手机号'],
    ['人员', '联系电话', '手机号'],
    ['人员', 'E-mail', '邮箱'],
    ['人员', 'ＥＭＡＩＬ', '邮箱'],
    ['人员', '电子邮箱', '邮箱'],
    ['人员', '人员类别', '角色'],
    ['人员', '所在乡镇', '乡镇'],
    ['人员', '乡镇（街道）', '乡镇'],
    ['人员', '包联村（社区）', '负责村社区'],
    ['人员', '包联村【社区】', '负责村社区'],
    ['人员', '联系村', '负责村社区'],
    ['村社区', '村（社区）名称', '村社区'],
    ['村社区', '行政村', '村社区'],
    ['村社区', '计划选举日期', '选举日'],
    ['村社区', '选举时间', '选举日'],
    ['村社区', '乡镇名称', '乡镇'],
  ])('%s: 「%s」 is 「%s」', (kind, header, column) => {
    expect(canonicalHeader(spec(kind), header)).toBe(column);
  });

  it('open_id, 县 and 类型 are optional; 手机号 and 邮箱 are columns of 人员', () => {
    const cols = (n: string) => Object.fromEntries(spec(n).columns.map((c) => [c.name, c.required]));
    expect(cols('人员')).toMatchObject({ 姓名: true, 飞书open_id: false, 手机号: false, 邮箱: false, 县: false });
    expect(cols('村社区')).toMatchObject({ 县: false, 类型: false, 乡镇: true, 村社区: true, 选举日: true });
  });
});

describe('sheets recognised by their header, not their name', () => {
  it('each kind from a CSV of any name', async () => {
    const people = await csv('a.csv', ['姓名,手机', '张三,13900000000']);
    // Recognised as 人员 (姓名 + 手机), refused for the columns it lacks.
    expect(people.issues.map((i) => [i.sheet, i.column])).toEqual([['人员', '角色、乡镇、负责村社区']]);
    const villages = await csv('b.csv', ['乡镇,村社区,类型', '沁河镇,城西村,村']);
    expect(villages.issues.map((i) => [i.sheet, i.column])).toEqual([['村社区', '选举日']]);
    expect((await csv('c.csv', ['村社区,阶段,截止日期', '城西村,选民登记,2026-03-01'])).sheets.map((s) => s.name)).toEqual(['节点']);
    expect((await csv('d.csv', ['谈话对象,谈话类别,村社区,谈话人,截止日期', '李四,选前谈话,城西村,张三,2026-03-01'])).sheets.map((s) => s.name)).toEqual(['谈话']);
  });

  it('titles, blank lines and notes above the header; footers, blank rows, example and repeated header rows skipped', async () => {
    const r = await csv('名单.csv', [
      '沁源县2026年换届包村干部名单,,,,',
      ',,,,',
      '说明：本表 3 月 5 日前报送,,,,',
      '姓名,角色,乡镇,负责村社区,手机号',
      '（示例）张三,干部,沁河镇,城西村,13900000000',
      '李明,干部,沁河镇,城西村,13900000001',
      ',,,,',
      '姓名,角色,乡镇,负责村社区,手机号',
      '赵丽,干部,沁河镇,城东村,1.3900000002E10',
      '陈刚,干部,沁河镇,城东村,13900000003.0',
      '合计,2人,,,',
      '审核人：王五,,,,',
      '2026年3月1日,,,,',
    ]);
    expect(r.issues).toEqual([]);
    expect(r.titles).toEqual(['沁源县2026年换届包村干部名单', '说明:本表 3 月 5 日前报送']);
    expect(r.sheets[0]!.rows.map((x) => [x.row, x.cells['姓名'], x.cells['手机号']])).toEqual([
      [6, '李明', '13900000001'],
      [9, '赵丽', '13900000002'],
      [10, '陈刚', '13900000003'],
    ]);
    expect(r.notes).toContain('文件「名单.csv」：跳过表尾 3 行（合计、填表人、备注等）');
  });

  it('a folder with .xls, .xlsx and .csv: each file\'s sheets recognised; two of a kind concatenated, rows keep their file', async () => {
    const d = tempDir('hj-read-');
    copyFileSync(join(FIX, 'county-xlwt.xls'), join(d, '县名单.xls'));
    copyFileSync(join(FIX, '包村干部-gbk.csv'), join(d, '包村干部.csv'));
    copyFileSync(join(FIX, 'villages-utf8.csv'), join(d, '补充村.csv'));
    copyFileSync(join(FIX, 'no-sheet.xlsx'), join(d, '工资.xlsx'));
    writeFileSync(join(d, 'readme.txt'), 'not imported');
    const r = await readImportFile(d);
    expect(r.issues).toEqual([]);
    const people = r.sheets.find((s) => s.name === '人员')!;
    expect(people.rows.map((x) => `${x.file}:${x.sheetName}:${x.row}`)).toEqual([
      ...[4, 5, 6, 7, 8].map((n) => `包村干部.csv:包村干部:${n}`),
      ...[5, 6, 7, 8, 9].map((n) => `县名单.xls:Sheet1:${n}`),
    ]);
    const villages = r.sheets.find((s) => s.name === '村社区')!;
    expect(villages.headers).toEqual(['乡镇', '村社区', '类型', '选举日']);
    expect(villages.rows).toHaveLength(10);
    // The CSV has no 类型 column: its rows have it empty, as a blank cell.
    expect(villages.rows.find((x) => x.file === '补充村.csv')!.cells).toEqual({ 乡镇: '沁河镇', 村社区: '城西村', 类型: '', 选举日: '2026-03-15' });
    expect(r.notes).toEqual(
      expect.arrayContaining([
        '文件「工资.xlsx」工作表「工资表」：不是人员、村社区、节点或谈话表（没有找到相应的表头），已忽略',
        '人员表来自 2 个工作表（文件「包村干部.csv」、文件「县名单.xls」工作表「Sheet1」），已合并读取',
      ]),
    );
  });

  it('a formula cell (openpyxl, no cached value) is refused by file, sheet, row and column; the row is not emitted', async () => {
    const r = await readImportFile(join(FIX, 'formula-openpyxl.xlsx'));
    expect(r.issues.map(formatIssue)).toEqual([expect.stringMatching(/^文件「formula-openpyxl.xlsx」工作表「Sheet1」（人员）第3行 「手机号」：单元格是公式（=B2&""），不能导入/)]);
    expect(r.sheets[0]!.rows.map((x) => x.row)).toEqual([2, 4]);
  });

  it('formatIssue says where only when the tab is not named after its kind', () => {
    expect(formatIssue({ sheet: '人员', row: 5, column: '手机号', reason: 'x', file: '花名册.xlsx', sheetName: 'Sheet1' })).toBe('文件「花名册.xlsx」工作表「Sheet1」（人员）第5行 「手机号」：x');
    expect(formatIssue({ sheet: '人员', row: 5, column: '手机号', reason: 'x', file: '花名册.xlsx', sheetName: '人员' })).toBe('人员 第5行 「手机号」：x');
    expect(formatIssue({ sheet: '人员', row: null, column: null, reason: 'x', file: 'a.csv', sheetName: 'a' })).toBe('文件「a.csv」（人员）：x');
  });
});

describe('cell values', () => {
  it('numbers as typed: phones never in E-notation or with .0', () => {
    expect(numberText(13912345678)).toBe('13912345678');
    expect(numberText(2026)).toBe('2026');
    expect(numberText(0.1 + 0.2)).toBe('0.3');
    expect(cellValue('13912345678.0')).toBe('13912345678');
    expect(cellValue('1.3912345678E10')).toBe('13912345678');
    // Digits lost when the file was saved are not made up.
    expect(cellValue('1.39123E+10')).toBe('1.39123E+10');
    expect(cellValue(' 城西村\u3000 ')).toBe('城西村');
    expect(cellValue('ＡＢＣ１２３')).toBe('ABC123');
  });

  it('serial days are calendar dates, in either date system, with no time zone shift', () => {
    expect(serialToIso(46096)).toBe('2026-03-15');
    expect(serialToIso(46096.99)).toBe('2026-03-15');
    expect(serialToIso(46096 - 1462, true)).toBe('2026-03-15');
  });
});
