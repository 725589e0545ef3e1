import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ROWS_PER_SHEET, readImportBytes, readImportFile } from '../../../src/workflow/import/read.js';
import { formatIssue } from '../../../src/workflow/import/sheets.js';
import { tempDir } from '../../helpers/test-runtime.js';
import { encryptXlsx } from '../../helpers/xlsx-abuse.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const fixture = (f: string) => readFileSync(join(FIX, f));
const ENCRYPTED = /设置了打开密码（已加密）.*清空密码/;

describe('files that cannot be read say why, in Chinese', () => {
  it('garbage named .xlsx or .xls', async () => {
    await expect(readImportBytes('花名册.xlsx', fixture('garbled.xlsx'))).rejects.toThrow(/无法读取该 .xlsx 文件：文件内容不是 Excel 工作簿/);
    await expect(readImportBytes('花名册.xls', fixture('garbled.xlsx'))).rejects.toThrow(/扩展名是 .xls，但内容不是 Excel 工作簿/);
  });

  it('a .xls that is really text (a web page or TSV export renamed)', async () => {
    await expect(readImportFile(join(FIX, 'text-as.xls'))).rejects.toThrow(/「text-as.xls」：扩展名是 .xls，但内容不是 Excel 工作簿.*另存为/);
  });

  it('a password-protected .xls (FILEPASS record written into an xlwt workbook)', async () => {
    await expect(readImportFile(join(FIX, 'encrypted-xlwt.xls'))).rejects.toThrow(ENCRYPTED);
  });

  it('an encrypted .xlsx (ECMA-376 agile), under either extension', async () => {
    const enc = encryptXlsx(fixture('thousand.xlsx'), 'pw', 1000);
    await expect(readImportBytes('花名册.xlsx', enc)).rejects.toThrow(ENCRYPTED);
    await expect(readImportBytes('花名册.xls', enc)).rejects.toThrow(ENCRYPTED);
  });

  it('a real workbook under the other extension is read all the same', async () => {
    const asXlsx = await readImportBytes('名单.xlsx', fixture('county-xlwt.xls'));
    expect(asXlsx.sheets.map((s) => s.name)).toEqual(['人员', '村社区']);
    const asXls = await readImportBytes('名单.xls', fixture('county-openpyxl.xlsx'));
    expect(asXls.sheets.map((s) => s.name)).toEqual(['人员', '村社区', '节点', '谈话']);
  });

  it('a workbook with no recognisable sheet: one message listing the headers expected and what was seen', async () => {
    const e = await readImportFile(join(FIX, 'no-sheet.xlsx')).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    const m = (e as Error).message;
    expect(m).toMatch(/^没有找到可导入的表/);
    for (const h of ['人员表：姓名', '村社区表：乡镇、村社区、选举日', '节点表：村社区、阶段、截止日期', '谈话表：谈话类别']) expect(m).toContain(h);
    expect(m).toContain('工作表「工资表」的第一行为「部门、金额、月份」');
  });

  it('an unsupported extension', async () => {
    await expect(readImportBytes('名单.docx', Buffer.from('x'))).rejects.toThrow(/只能导入 .xlsx、.xls 工作簿或 .csv 文件（收到「名单.docx」）/);
  });

  it('an empty folder, and one with only Excel lock files', async () => {
    const d = tempDir('hj-read-');
    await expect(readImportFile(d)).rejects.toThrow(/目录中没有可导入的文件（.xlsx、.xls 或 .csv）/);
    writeFileSync(join(d, '~$花名册.xlsx'), 'lock');
    await expect(readImportFile(d)).rejects.toThrow(/目录中没有可导入的文件/);
  });
});

describe('header problems are one issue per sheet, never one per row', () => {
  it('a required column missing: one issue naming the columns found and expected; the sheet is not emitted', async () => {
    const rows = ['姓名,手机号,乡镇', ...Array.from({ length: 50 }, (_, i) => `张${i},1390000${String(i).padStart(4, '0')},沁河镇`)];
    const r = await readImportBytes('干部.csv', Buffer.from(rows.join('\n')));
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ sheet: '人员', row: 1, column: '角色、负责村社区', file: '干部.csv', sheetName: '干部' });
    expect(formatIssue(r.issues[0]!)).toBe('文件「干部.csv」（人员）第1行 「角色、负责村社区」：缺少该列（表头在第1行，已识别：姓名、手机号、乡镇；人员表应有：姓名、角色、乡镇、负责村社区）');
    expect(r.sheets).toEqual([]);
  });

  it('a tab or CSV named after a kind is that kind even when its header is not recognisable: the missing columns are named', async () => {
    const r = await readImportBytes('人员.csv', Buffer.from('说明：3月5日前报送\n名称,电话\n张三,13900000000\n'));
    expect(r.issues.map(formatIssue)).toEqual([expect.stringMatching(/^人员 第2行 「姓名、角色、乡镇、负责村社区」：缺少该列（表头在第2行，已识别：手机号；/)]);
    expect(r.notes).toContain('文件「人员.csv」：识别为人员表（表头在第2行，表头有误，未读取）');
  });

  it('the same column twice with equally good names is refused; a vaguer second name is ignored with a note', async () => {
    const dup = await readImportBytes('人员.csv', Buffer.from('姓名,角色,乡镇,负责村社区,手机号,备注,手机号*\n张三,干部,沁河镇,城西村,13900000000,,13900000001\n'));
    expect(dup.issues.map(formatIssue)).toEqual(['人员 第1行 「手机号」：列重复（手机号、手机号*），请只保留一列']);
    expect(dup.sheets).toEqual([]);
    const vague = await readImportBytes('人员.csv', Buffer.from('姓名,角色,乡镇,负责村社区,联系电话,手机号码\n张三,干部,沁河镇,城西村,0355-1234567,13900000000\n'));
    expect(vague.issues).toEqual([]);
    expect(vague.sheets[0]!.rows[0]!.cells['手机号']).toBe('13900000000');
    expect(vague.notes).toContain('文件「人员.csv」：以下列未使用，已忽略：联系电话');
  });

  it(`a sheet of more than ${MAX_ROWS_PER_SHEET} rows is refused by name, others still read`, async () => {
    const lines = ['姓名,手机号,角色,乡镇,负责村社区'];
    for (let i = 0; i <= MAX_ROWS_PER_SHEET; i++) lines.push(`干部${i},${13000000000 + i},干部,沁河镇,城西村`);
    const d = tempDir('hj-read-');
    writeFileSync(join(d, '人员.csv'), lines.join('\n'));
    copyFileSync(join(FIX, 'villages-utf8.csv'), join(d, 'villages.csv'));
    const r = await readImportFile(d);
    expect(r.issues.map(formatIssue)).toEqual([`人员：行数过多（${MAX_ROWS_PER_SHEET + 1} 行），每张表最多 ${MAX_ROWS_PER_SHEET} 行`]);
    expect(r.sheets.map((s) => s.name)).toEqual(['村社区']);
  }, 60_000);
});
