import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../../errors.js';
import { canonicalHeader, EXAMPLE_MARK, SHEETS, type ImportIssue, type SheetData, type SheetSpec } from './sheets.js';

/**
 * Reading the import: an .xlsx workbook (sheets by name) or CSV files named
 * after the sheets (人员.csv …), UTF-8 with or without BOM, or GB18030 as
 * Excel on Chinese Windows saves them. Cells become trimmed strings; dates
 * become YYYY-MM-DD. Unknown sheets are ignored; unknown columns too.
 */
export interface ReadResult {
  sheets: SheetData[];
  issues: ImportIssue[];
}

/** A sheet larger than this is refused whole (a county roster is a few thousand rows). */
export const MAX_ROWS_PER_SHEET = 20_000;
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

export async function readImportFile(path: string): Promise<ReadResult> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UserError(`找不到文件或目录：${path}`, 'not_found');
  if (st.isDirectory()) {
    const files = readdirSync(path).filter((f) => extname(f).toLowerCase() === '.csv');
    const known = files.filter((f) => SHEETS.some((s) => s.name === basename(f, extname(f)).normalize('NFC')));
    if (!known.length) throw new UserError(`目录中没有以工作表命名的 CSV 文件（${SHEETS.map((s) => s.name + '.csv').join('、')}）：${path}`);
    return readCsvFiles(known.map((f) => ({ name: f, bytes: readFileSync(join(path, f)) })));
  }
  if (st.size > MAX_FILE_BYTES) throw new UserError(`文件过大（${Math.round(st.size / 1048576)} MB），上限 ${MAX_FILE_BYTES / 1048576} MB。`);
  return readImportBytes(basename(path), readFileSync(path));
}

/** One file by name and content: .xlsx, or a single .csv named after its sheet. */
export async function readImportBytes(fileName: string, bytes: Buffer): Promise<ReadResult> {
  const ext = extname(fileName).toLowerCase();
  if (bytes.length > MAX_FILE_BYTES) throw new UserError(`文件过大，上限 ${MAX_FILE_BYTES / 1048576} MB。`);
  if (ext === '.xlsx') return readXlsx(bytes);
  if (ext === '.csv') {
    const sheet = basename(fileName, ext).normalize('NFC');
    if (!SHEETS.some((s) => s.name === sheet)) {
      throw new UserError(`CSV 文件须以工作表命名：${SHEETS.map((s) => s.name + '.csv').join('、')}（收到「${fileName}」）。`);
    }
    return readCsvFiles([{ name: fileName, bytes }]);
  }
  if (ext === '.xls') throw new UserError('不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入。');
  throw new UserError(`只能导入 .xlsx 工作簿或以工作表命名的 .csv 文件（收到「${fileName}」）。`);
}

async function readXlsx(bytes: Buffer): Promise<ReadResult> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    throw new UserError('无法读取该 .xlsx 文件，文件可能已损坏或不是 Excel 工作簿。');
  }
  const sheets: SheetData[] = [];
  const issues: ImportIssue[] = [];
  for (const spec of SHEETS) {
    const ws = wb.worksheets.find((w) => w.name.trim().normalize('NFKC') === spec.name);
    if (!ws) continue;
    if (ws.rowCount > MAX_ROWS_PER_SHEET + 1) {
      issues.push({ sheet: spec.name, row: null, column: null, reason: `行数过多（${ws.rowCount - 1} 行），每张表最多 ${MAX_ROWS_PER_SHEET} 行` });
      continue;
    }
    const grid: string[][] = [];
    ws.eachRow({ includeEmpty: true }, (row, n) => {
      const cells: string[] = [];
      const values = row.values as unknown[];
      for (let i = 1; i < values.length; i++) cells[i - 1] = cellText(values[i]);
      grid[n - 1] = cells;
    });
    sheets.push(toSheet(spec, grid, issues));
  }
  if (!sheets.length && !issues.length) {
    throw new UserError(`工作簿中没有可导入的工作表；工作表须命名为：${SHEETS.map((s) => s.name).join('、')}。`);
  }
  return { sheets, issues };
}

function readCsvFiles(files: { name: string; bytes: Buffer }[]): ReadResult {
  const sheets: SheetData[] = [];
  const issues: ImportIssue[] = [];
  for (const f of files) {
    const name = basename(f.name, extname(f.name)).normalize('NFC');
    const spec = SHEETS.find((s) => s.name === name)!;
    const grid = parseCsv(decodeText(f.bytes));
    if (grid.length > MAX_ROWS_PER_SHEET + 1) {
      issues.push({ sheet: spec.name, row: null, column: null, reason: `行数过多（${grid.length - 1} 行），每张表最多 ${MAX_ROWS_PER_SHEET} 行` });
      continue;
    }
    sheets.push(toSheet(spec, grid, issues));
  }
  return { sheets, issues };
}

/** UTF-8 (BOM stripped) unless the bytes are not valid UTF-8, then GB18030. */
export function decodeText(bytes: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!text.includes('\uFFFD')) return text.replace(/^\uFEFF/, '');
  return iconv.decode(bytes, 'gb18030');
}

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks; CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function toSheet(spec: SheetSpec, grid: string[][], issues: ImportIssue[]): SheetData {
  const header = (grid[0] ?? []).map((h) => (h ?? '').trim());
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const c = h ? canonicalHeader(spec, h) : undefined;
    if (!c) return;
    if (index.has(c)) issues.push({ sheet: spec.name, row: 1, column: c, reason: '列重复' });
    else index.set(c, i);
  });
  for (const c of spec.columns) {
    if (c.required && !index.has(c.name)) issues.push({ sheet: spec.name, row: 1, column: c.name, reason: '缺少该列（第一行应为列名）' });
  }
  const rows: SheetData['rows'] = [];
  for (let r = 1; r < grid.length; r++) {
    const line = grid[r] ?? [];
    if (line.every((c) => !c || !c.trim())) continue;
    if (line.some((c) => (c ?? '').trim().normalize('NFKC').startsWith(EXAMPLE_MARK.normalize('NFKC')))) continue;
    const cells: Record<string, string> = {};
    for (const [name, i] of index) cells[name] = (line[i] ?? '').normalize('NFKC').replace(/[\s\u3000]+/g, ' ').trim();
    rows.push({ row: r + 1, cells });
  }
  return { name: spec.name, headers: [...index.keys()], rows };
}

/** An exceljs cell value as text. Dates (exceljs gives them as UTC) become YYYY-MM-DD. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return '';
    return v.toISOString().slice(0, 10);
  }
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: unknown; formula?: unknown };
    if (Array.isArray(o.richText)) return o.richText.map((x) => x.text).join('');
    if ('result' in o || 'formula' in o) return cellText(o.result);
    if (o.text !== undefined) return cellText(o.text);
    if (o.error !== undefined) return String(o.error);
  }
  return String(v);
}
