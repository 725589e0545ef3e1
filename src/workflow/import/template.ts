import type ExcelJS from 'exceljs';
import { loadExcelJS } from '../excel.js';
import { TALK_CATEGORIES } from '../talks.js';
import { stagesFor } from '../stage-templates.js';
import { ROLES, VILLAGE_TYPES } from '../types.js';
import { EXAMPLE_MARK, SHEETS, type SheetSpec } from './sheets.js';

/**
 * The import workbook handed to a county office (issue 14): one sheet per
 * SHEETS entry (columns read from SHEETS, so a new column appears here by
 * itself) with example rows marked （示例）, which the import skips, and a
 * 说明 sheet in plain words. Over the data rows: dropdowns for the closed
 * lists (角色, 类型), date cells with a date check for dates, text cells for
 * phone numbers (Excel would otherwise turn 13800138000 into 1.38E+10).
 * Only plain OOXML parts that openpyxl and LibreOffice keep on save (tested);
 * no cell notes, which exceljs cannot read back once openpyxl has saved them.
 */

/** Rows 2..DATA_ROWS get the dropdowns and formats (a county roster is a few thousand rows). */
export const DATA_ROWS = 5000;
export const DATE_FORMAT = 'yyyy-mm-dd';
export const HELP_SHEET = '说明';
const DATE_MIN = '2020-01-01';
const DATE_MAX = '2099-12-31';

/** What the validator also accepts (src/workflow/import/validate.ts ROLE_WORDS and the 类型 check), for the 说明 sheet. */
const ROLE_SYNONYMS: Record<(typeof ROLES)[number], string[]> = {
  管理员: ['换届办'],
  领导: ['县领导', '乡镇领导'],
  干部: ['包村干部', '乡镇干部'],
  工作组: ['工作组成员', '指导组', '督导组'],
};
const TYPE_SYNONYMS: Record<(typeof VILLAGE_TYPES)[number], string[]> = { 村: ['行政村'], 社区: ['居委会', '居民委员会'] };

const SHEET_PURPOSE: Record<string, string> = {
  人员: '参与换届工作的人：换届办管理员、县乡领导、包村干部、工作组成员，以及各自负责的村(社区)。',
  村社区: '本县的每个村(社区)：属于哪个乡镇、是村还是社区、哪天选举。各阶段的截止日期按选举日自动倒排。',
  节点: '（可选）只在某个村(社区)某个阶段的截止日期要与自动倒排的不同时填写。',
  谈话: '（可选）要完成的谈话：五必谈、选前谈话等，谁谈、谈谁、什么时候前谈完。',
};

/** Extra example rows by sheet, cell by column name; a column not listed is left empty. */
const MORE_EXAMPLES: Record<string, Record<string, string>[]> = {
  人员: [
    { 姓名: `${EXAMPLE_MARK}王五`, 手机号: '13800138000', 角色: '领导', 县: '沁源县', 乡镇: '' },
    { 姓名: `${EXAMPLE_MARK}赵六`, 邮箱: 'zhaoliu@example.cn', 角色: '工作组', 县: '沁源县', 乡镇: '沁河镇', 负责村社区: '城西村、城东村' },
  ],
};

/** exceljs has worksheet.dataValidations (address → rule; ranges written as one sqref) but does not declare it. */
export interface SheetValidations {
  dataValidations: { add(address: string, v: ExcelJS.DataValidation): void; model: Record<string, ExcelJS.DataValidation | undefined> };
}
export const validationsOf = (ws: ExcelJS.Worksheet) => (ws as unknown as SheetValidations).dataValidations;

type Kind = 'role' | 'type' | 'date' | 'phone' | 'plain';

function kindOf(column: string): Kind {
  if (column === '角色') return 'role';
  if (column === '类型') return 'type';
  if (column === '选举日' || column === '截止日期') return 'date';
  if (column === '手机号') return 'phone';
  return 'plain';
}

const colLetter = (n: number) => {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
};

function listValidation(values: readonly string[], what: string): ExcelJS.DataValidation {
  return {
    type: 'list',
    allowBlank: true,
    formulae: [`"${values.join(',')}"`],
    showInputMessage: true,
    promptTitle: what,
    prompt: `请从下拉列表中选择：${values.join('、')}`,
    showErrorMessage: true,
    errorStyle: 'stop',
    errorTitle: `${what}不正确`,
    error: `${what}只能是：${values.join('、')}。请从下拉列表中选择。`,
  };
}

function dateValidation(column: string): ExcelJS.DataValidation {
  return {
    type: 'date',
    operator: 'between',
    allowBlank: true,
    formulae: [new Date(`${DATE_MIN}T00:00:00Z`), new Date(`${DATE_MAX}T00:00:00Z`)],
    showInputMessage: true,
    promptTitle: column,
    prompt: '请输入日期，例如 2026-11-28',
    showErrorMessage: true,
    errorStyle: 'stop',
    errorTitle: `${column}不是日期`,
    error: `${column}应为日期，例如 2026-11-28（也可写 2026/11/28）。`,
  };
}

/** One example cell: dates as real dates (so they show in the date format), the rest as text. */
function exampleValue(kind: Kind, v: string): string | Date {
  if (kind === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return new Date(`${v}T00:00:00Z`);
  return v;
}

function addDataSheet(wb: ExcelJS.Workbook, spec: SheetSpec): void {
  const ws = wb.addWorksheet(spec.name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = spec.columns.map((c) => {
    const kind = kindOf(c.name);
    const style: Partial<ExcelJS.Style> = kind === 'date' ? { numFmt: DATE_FORMAT } : kind === 'phone' ? { numFmt: '@' } : {};
    return { header: c.name, key: c.name, width: Math.max(kind === 'date' ? 14 : 12, c.name.length * 3 + 4, kind === 'phone' ? 16 : 0), style };
  });
  const examples = [Object.fromEntries(spec.columns.map((c) => [c.name, c.example])), ...(MORE_EXAMPLES[spec.name] ?? [])];
  for (const e of examples) {
    const row = ws.addRow(spec.columns.map((c) => exampleValue(kindOf(c.name), e[c.name] ?? '')));
    row.font = { italic: true, color: { argb: 'FF888888' } };
  }
  const header = ws.getRow(1);
  header.font = { bold: true };
  spec.columns.forEach((c, i) => {
    const cell = header.getCell(i + 1);
    // Hints are in the 说明 sheet and the input messages, not in cell notes: exceljs (our reader) cannot open notes as openpyxl saves them.
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: c.required ? 'FFFFE8B3' : 'FFEDEDED' } };
    const range = `${colLetter(i + 1)}2:${colLetter(i + 1)}${DATA_ROWS}`;
    const kind = kindOf(c.name);
    if (kind === 'role') validationsOf(ws).add(range, listValidation(ROLES, '角色'));
    else if (kind === 'type') validationsOf(ws).add(range, listValidation(VILLAGE_TYPES, '类型'));
    else if (kind === 'date') validationsOf(ws).add(range, dateValidation(c.name));
  });
}

function helpLines(): { text: string; head?: boolean }[] {
  const people = SHEETS.find((s) => s.name === '人员');
  const contacts = ['飞书open_id', '手机号', '邮箱'].filter((n) => people?.columns.some((c) => c.name === n));
  const lines: { text: string; head?: boolean }[] = [
    { text: '这是什么', head: true },
    { text: '换届助手的导入模板。按下面各表填好后，由换届办管理员把文件发给机器人，或在服务器上运行 npm run cli -- import 文件.xlsx 导入。' },
    { text: `以「${EXAMPLE_MARK}」开头的行是示例，导入时会自动跳过，可以保留也可以删除。` },
    { text: '各工作表', head: true },
  ];
  for (const s of SHEETS) {
    const required = s.columns.filter((c) => c.required).map((c) => c.name);
    const optional = s.columns.filter((c) => !c.required).map((c) => c.name);
    lines.push({
      text: `「${s.name}」表：${SHEET_PURPOSE[s.name] ?? ''}表中必须有的列（表头为黄色）：${required.join('、') || '无'}${optional.length ? `；可以没有的列（表头为灰色）：${optional.join('、')}` : ''}。`,
    });
    const notes = s.columns.filter((c) => c.note).map((c) => `「${c.name}」${c.note}`);
    if (notes.length) lines.push({ text: `    ${notes.join('；')}。` });
  }
  lines.push({ text: '填写要点', head: true });
  if (contacts.length > 1) {
    lines.push({ text: `每个人至少要填 ${contacts.join(' / ')} 中的一项。不知道飞书 open_id 的，填手机号或邮箱即可，机器人会通过飞书通讯录找到对应的账号（此人须在应用的可见范围内）。` });
  } else if (contacts.length === 1) {
    lines.push({ text: `每个人都要填写${contacts[0]}。` });
  }
  if (people?.columns.some((c) => c.name === '手机号')) lines.push({ text: '手机号：填 11 位手机号。该列已设为文本格式，长数字不会被 Excel 改成科学计数法；从别处粘贴时请用「选择性粘贴 → 数值」。' });
  lines.push({
    text: `角色：从下拉列表中选 ${ROLES.join('、')}。也认这些写法：${ROLES.map((r) => `${ROLE_SYNONYMS[r].join('、')}（= ${r}）`).join('；')}。领导、管理员可以不填负责村社区；干部、工作组要填。`,
  });
  lines.push({ text: '乡镇：县级人员（县领导、换届办）留空。负责村社区：可以填多个，用「、」分隔，名称要与「村社区」表中的一致。' });
  lines.push({
    text: `类型：从下拉列表中选 ${VILLAGE_TYPES.join(' 或 ')}（也认 ${VILLAGE_TYPES.map((t) => `${TYPE_SYNONYMS[t].join('、')} = ${t}`).join('；')}）。村和社区的工作阶段不同。`,
  });
  lines.push({ text: '日期（选举日、截止日期）：写成 2026-11-28 这样的日期，单元格已设为日期格式；也认 2026/11/28、2026年11月28日。' });
  lines.push({ text: '阶段名称与谈话类别', head: true });
  lines.push({ text: '「节点」表的阶段名称、各阶段的截止日期，来自换届助手内置的换届工作流程（按选举日倒排）：' });
  lines.push({ text: `村：${stagesFor('村').map((s) => s.name).join('、')}` });
  lines.push({ text: `社区：${stagesFor('社区').map((s) => s.name).join('、')}` });
  lines.push({ text: `「谈话」表的谈话类别，来自换届助手内置的谈话清单（五必谈、选前谈话等）：${TALK_CATEGORIES.map((c) => c.name).join('、')}。乡镇党委书记必谈的，「村社区」列填乡镇名。` });
  lines.push({ text: '导入规则', head: true });
  lines.push({ text: '全部通过校验才导入：任何一行有错，整个文件都不会写入，机器人会列出每个错误所在的表、行和列，改好后重新导入即可。' });
  lines.push({ text: '修改后再次导入，会更新已有的人员和村(社区)，不会重复添加。' });
  return lines;
}

export async function templateWorkbook(): Promise<ExcelJS.Workbook> {
  const wb = new (await loadExcelJS()).Workbook();
  wb.creator = '换届助手';
  for (const spec of SHEETS) addDataSheet(wb, spec);
  // The 说明 tab comes last (the data sheets keep their places) but is the one the file opens on.
  const help = wb.addWorksheet(HELP_SHEET);
  help.getColumn(1).width = 110;
  help.getColumn(1).alignment = { wrapText: true, vertical: 'top' };
  help.addRow(['换届助手 · 导入模板说明']).font = { bold: true, size: 14 };
  for (const l of helpLines()) {
    const row = help.addRow([l.text]);
    if (l.head) row.font = { bold: true, size: 12 };
  }
  wb.views = [{ x: 0, y: 0, width: 20000, height: 12000, firstSheet: 0, activeTab: SHEETS.length, visibility: 'visible' }];
  return wb;
}

export async function writeTemplate(path: string): Promise<void> {
  await (await templateWorkbook()).xlsx.writeFile(path);
}
