import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { loadExcelJS } from '../../src/workflow/excel.js';
import { readImportFile } from '../../src/workflow/import/read.js';
import { EXAMPLE_MARK, SHEETS } from '../../src/workflow/import/sheets.js';
import { DATA_ROWS, DATE_FORMAT, HELP_SHEET, validationsOf, writeTemplate } from '../../src/workflow/import/template.js';
import { ROLES, VILLAGE_TYPES } from '../../src/workflow/types.js';
import { tempDir } from '../helpers/test-runtime.js';

/**
 * The import template (issue 14): dropdowns, date and text formats over the
 * data rows, a 说明 sheet, example rows; and all of it still there after the
 * file is opened and saved by openpyxl and by LibreOffice, as a county office
 * would (WPS and Excel keep the same plain OOXML parts).
 */
const PYTHON = '/usr/bin/python3';
const SOFFICE = '/usr/bin/soffice';
const hasOpenpyxl = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0;
const hasSoffice = existsSync(SOFFICE);
/** Same budget as the suite's spawned processes (tests/helpers/spawn.ts); LibreOffice's first start is the slow part. */
const SPAWN_TIMEOUT_MS = 120_000;

if (!hasOpenpyxl) console.warn(`[template.test] openpyxl round trip SKIPPED: ${PYTHON} with openpyxl not found (apt-get install python3-openpyxl)`);
if (!hasSoffice) console.warn(`[template.test] LibreOffice round trip SKIPPED: ${SOFFICE} not found (apt-get install libreoffice-calc)`);

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: SPAWN_TIMEOUT_MS }, (err, _out, stderr) => (err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve()));
  });
}

async function load(path: string): Promise<ExcelJS.Workbook> {
  const wb = new (await loadExcelJS()).Workbook();
  await wb.xlsx.readFile(path);
  return wb;
}

/** Header texts (LibreOffice saves 飞书open_id as rich text, one run per script). */
const headers = (ws: ExcelJS.Worksheet) => Array.from({ length: ws.getRow(1).cellCount }, (_, i) => ws.getRow(1).getCell(i + 1).text);
const colOf = (ws: ExcelJS.Worksheet, name: string) => {
  const i = headers(ws).indexOf(name) + 1;
  if (i < 1) throw new Error(`no column ${name} in ${ws.name}`);
  return i;
};
const addr = (row: number, col: number) => `${String.fromCharCode(64 + col)}${row}`;

/** The checks that must hold for the template as written and after any re-save. */
async function expectTemplate(path: string, who: string, opts: { lastRow?: number } = {}): Promise<void> {
  const lastRow = opts.lastRow ?? DATA_ROWS;
  const wb = await load(path);
  expect(wb.worksheets.map((w) => w.name), who).toEqual([...SHEETS.map((s) => s.name), HELP_SHEET]);
  // It opens on the 说明 tab.
  expect(wb.views[0]?.activeTab, who).toBe(SHEETS.length);
  const people = wb.getWorksheet('人员')!;
  const villages = wb.getWorksheet('村社区')!;
  // Every column of SHEETS, in order (so 手机号 and 邮箱 once sheets.ts has them).
  for (const spec of SHEETS) {
    const ws = wb.getWorksheet(spec.name)!;
    expect(headers(ws), `${who} ${spec.name}`).toEqual(spec.columns.map((c) => c.name));
    // Example rows: each carries the mark, so the import skips them.
    for (let r = 2; r <= ws.actualRowCount; r++) {
      const cells = Array.from({ length: spec.columns.length }, (_, i) => ws.getRow(r).getCell(i + 1).text);
      expect(cells.some((v) => v.startsWith(EXAMPLE_MARK)), `${who} ${spec.name} row ${r}`).toBe(true);
    }
  }
  const list = (ws: ExcelJS.Worksheet, column: string, row: number) => validationsOf(ws).model[addr(row, colOf(ws, column))];
  for (const row of [2, 50, lastRow]) {
    // The list is formula1 (LibreOffice adds an unused formula2 "0").
    const role = list(people, '角色', row);
    expect(role, `${who} 角色 row ${row}`).toMatchObject({ type: 'list', showErrorMessage: true });
    expect(role!.formulae[0]).toBe(`"${ROLES.join(',')}"`);
    const type = list(villages, '类型', row);
    expect(type, `${who} 类型 row ${row}`).toMatchObject({ type: 'list', showErrorMessage: true });
    expect(type!.formulae[0]).toBe(`"${VILLAGE_TYPES.join(',')}"`);
    expect(list(villages, '选举日', row), `${who} 选举日 row ${row}`).toMatchObject({ type: 'date', operator: 'between' });
    for (const sheet of ['节点', '谈话']) {
      const ws = wb.getWorksheet(sheet)!;
      expect(list(ws, '截止日期', row), `${who} ${sheet} 截止日期 row ${row}`).toMatchObject({ type: 'date' });
    }
  }
  if (lastRow === DATA_ROWS) expect(list(people, '角色', DATA_ROWS + 1), `${who} beyond the data rows`).toBeUndefined();
  // Formats of empty data cells (what a person typing into the sheet gets).
  expect(villages.getCell(addr(100, colOf(villages, '选举日'))).numFmt, who).toBe(DATE_FORMAT);
  for (const sheet of ['节点', '谈话']) {
    const ws = wb.getWorksheet(sheet)!;
    expect(ws.getCell(addr(100, colOf(ws, '截止日期'))).numFmt, `${who} ${sheet}`).toBe(DATE_FORMAT);
  }
  if (SHEETS.find((s) => s.name === '人员')!.columns.some((c) => c.name === '手机号')) {
    expect(people.getCell(addr(100, colOf(people, '手机号'))).numFmt, `${who} 手机号`).toBe('@');
  }
  // The 说明 sheet, in plain words.
  const helpSheet = wb.getWorksheet(HELP_SHEET)!;
  // Cell texts: LibreOffice saves mixed Chinese/Latin lines as rich text.
  const help = Array.from({ length: helpSheet.actualRowCount }, (_, i) => helpSheet.getRow(i + 1).getCell(1).text).join('\n');
  for (const words of ['示例', '必须有的列', '全部通过校验才导入', '换届办', '五必谈', '选民', '类型']) expect(help, `${who} 说明: ${words}`).toContain(words);
  for (const r of ROLES) expect(help).toContain(r);
  const contacts = ['飞书open_id', '手机号', '邮箱'].filter((n) => SHEETS[0]!.columns.some((c) => c.name === n));
  if (contacts.length > 1) expect(help).toContain(`至少要填 ${contacts.join(' / ')} 中的一项`);
  // The import reads it without complaint and finds only examples.
  const read = await readImportFile(path);
  expect(read.issues, who).toEqual([]);
  expect(read.sheets.map((s) => [s.name, s.rows.length]), who).toEqual(SHEETS.map((s) => [s.name, 0]));
}

/** A person fills one real row in each of 村社区 and 人员: dates typed as dates, the phone as text. */
async function fillIn(template: string, out: string): Promise<void> {
  const wb = await load(template);
  const v = wb.getWorksheet('村社区')!;
  const row = v.actualRowCount + 1;
  v.getCell(addr(row, colOf(v, '县'))).value = '沁源县';
  v.getCell(addr(row, colOf(v, '乡镇'))).value = '沁河镇';
  v.getCell(addr(row, colOf(v, '村社区'))).value = '城南村';
  v.getCell(addr(row, colOf(v, '类型'))).value = '村';
  v.getCell(addr(row, colOf(v, '选举日'))).value = new Date('2026-11-28T00:00:00Z');
  const p = wb.getWorksheet('人员')!;
  const prow = p.actualRowCount + 1;
  p.getCell(addr(prow, colOf(p, '姓名'))).value = '孙七';
  p.getCell(addr(prow, colOf(p, '角色'))).value = '干部';
  if (SHEETS[0]!.columns.some((c) => c.name === '手机号')) p.getCell(addr(prow, colOf(p, '手机号'))).value = '13912345678';
  await wb.xlsx.writeFile(out);
}

describe('import template', () => {
  it('has dropdowns, date and text formats over the data rows, the 说明 sheet and example rows, and reads back empty', async () => {
    const dir = tempDir();
    const file = join(dir, '模板.xlsx');
    await writeTemplate(file);
    await expectTemplate(file, 'exceljs');
  });

  it.skipIf(!hasOpenpyxl)('survives being opened and saved by openpyxl', async () => {
    const dir = tempDir();
    const file = join(dir, '模板.xlsx');
    const saved = join(dir, 'openpyxl.xlsx');
    await writeTemplate(file);
    await run(PYTHON, ['-c', 'import sys, openpyxl; wb = openpyxl.load_workbook(sys.argv[1]); wb.save(sys.argv[2])', file, saved]);
    await expectTemplate(saved, 'openpyxl');
    // Filled in, then saved by openpyxl: the date and the phone come through as written.
    const filled = join(dir, 'filled.xlsx');
    const filledSaved = join(dir, 'filled-openpyxl.xlsx');
    await fillIn(file, filled);
    await run(PYTHON, ['-c', 'import sys, openpyxl; wb = openpyxl.load_workbook(sys.argv[1]); wb.save(sys.argv[2])', filled, filledSaved]);
    const read = await readImportFile(filledSaved);
    expect(read.sheets.find((s) => s.name === '村社区')!.rows.map((r) => r.cells)).toEqual([{ 县: '沁源县', 乡镇: '沁河镇', 村社区: '城南村', 类型: '村', 选举日: '2026-11-28' }]);
    const person = read.sheets.find((s) => s.name === '人员')!.rows.map((r) => r.cells);
    expect(person).toHaveLength(1);
    expect(person[0]).toMatchObject({ 姓名: '孙七', 角色: '干部' });
    if ('手机号' in person[0]!) expect(person[0]!.手机号).toBe('13912345678');
  }, SPAWN_TIMEOUT_MS);

  it.skipIf(!hasSoffice)('survives being opened and saved by LibreOffice', async () => {
    const dir = tempDir();
    const file = join(dir, 'template.xlsx');
    await writeTemplate(file);
    const out = join(dir, 'lo');
    mkdirSync(out);
    // A profile of its own: a LibreOffice already running elsewhere on the machine is not disturbed.
    await run(SOFFICE, [`-env:UserInstallation=file://${join(dir, 'lo-profile')}`, '--headless', '--norestore', '--convert-to', 'xlsx:Calc MS Excel 2007 XML', '--outdir', out, file]);
    const saved = join(out, readdirSync(out).find((f) => f.endsWith('.xlsx'))!);
    copyFileSync(saved, join(dir, 'libreoffice.xlsx'));
    // LibreOffice keeps a validation for the rows in use and about 1,000 below them (it saved E2:E1004 for the
    // template's 3 example rows), not all DATA_ROWS; the next save by LibreOffice extends it again past the new rows.
    await expectTemplate(join(dir, 'libreoffice.xlsx'), 'LibreOffice', { lastRow: 1000 });
  }, SPAWN_TIMEOUT_MS);
});
