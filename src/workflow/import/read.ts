import { loadExcelJS } from '../excel.js';
import iconv from 'iconv-lite';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
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
/**
 * What a workbook may inflate to, all parts together, and its XML parts alone.
 * A 20,000-row 人员 sheet is under 10 MB of XML; beyond these the file is a
 * zip bomb or mostly something else, and parsing it would take gigabytes.
 */
export const MAX_UNZIPPED_BYTES = 64 * 1024 * 1024;
export const MAX_XML_BYTES = 32 * 1024 * 1024;
const MAX_ZIP_ENTRIES = 5000;
/** Reading one workbook may take this long; after that the person is told, not left waiting. */
export const READ_TIMEOUT_MS = 30_000;

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

const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');
const utf16 = (s: string) => Buffer.from(s, 'utf16le');

/**
 * Checks a would-be .xlsx before any parser sees it, and says in Chinese what
 * is wrong: an encrypted (password) workbook or an old .xls (both Compound
 * Files, not zips), not a zip at all, a cut-off download, a zip that is not a
 * workbook, or one that inflates beyond MAX_UNZIPPED_BYTES. Every part is
 * really inflated here under a hard output cap: the sizes a zip declares can lie.
 */
export function checkXlsxBytes(bytes: Buffer): void {
  if (bytes.subarray(0, 8).equals(CFB_MAGIC)) {
    if (bytes.includes(utf16('EncryptedPackage')) || bytes.includes(utf16('EncryptionInfo'))) {
      throw new UserError('该工作簿设置了打开密码（已加密），机器人无法读取。请在 Excel 中打开，「文件 → 信息 → 保护工作簿 → 用密码进行加密」清空密码并保存后，重新发送。');
    }
    throw new UserError('该文件是旧版 Excel（.xls）或其他 Office 格式，只是扩展名为 .xlsx。请在 Excel 中「另存为 → Excel 工作簿 (*.xlsx)」后再导入。');
  }
  const notWorkbook = '无法读取该 .xlsx 文件：文件内容不是 Excel 工作簿（可能已损坏，或只是把扩展名改成了 .xlsx）。请在 Excel 中打开后另存为 .xlsx 再发送。';
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) throw new UserError(notWorkbook);
  // End of central directory: in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  const truncated = new UserError('无法读取该 .xlsx 文件：文件不完整或已损坏（可能没有传完）。请重新保存后再发送。');
  if (eocd < 0) throw truncated;
  const count = bytes.readUInt16LE(eocd + 10);
  let p = bytes.readUInt32LE(eocd + 16);
  if (count > MAX_ZIP_ENTRIES) throw new UserError(`无法读取该 .xlsx 文件：其中的部件过多（${count} 个），不像是花名册工作簿。`);
  const names = new Set<string>();
  let total = 0;
  let xml = 0;
  const tooBig = (n: number, limit: number) =>
    new UserError(`该工作簿解压后过大（超过 ${Math.floor(Math.max(n, limit) / 1048576)} MB，上限 ${limit / 1048576} MB），疑似“压缩炸弹”或含有大量与花名册无关的内容，已拒绝读取。请只保留人员、村社区、节点、谈话四张表后另存再发送。`);
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || bytes.readUInt32LE(p) !== 0x02014b50) throw truncated;
    const flags = bytes.readUInt16LE(p + 8);
    const method = bytes.readUInt16LE(p + 10);
    const csize = bytes.readUInt32LE(p + 20);
    const usize = bytes.readUInt32LE(p + 24);
    const nlen = bytes.readUInt16LE(p + 28);
    const elen = bytes.readUInt16LE(p + 30);
    const clen = bytes.readUInt16LE(p + 32);
    const local = bytes.readUInt32LE(p + 42);
    const name = bytes.subarray(p + 46, p + 46 + nlen).toString('utf8');
    p += 46 + nlen + elen + clen;
    names.add(name);
    if (flags & 1) throw new UserError('该工作簿的压缩包设置了密码，机器人无法读取。请去掉密码另存为 .xlsx 后再发送。');
    if (csize === 0xffffffff || usize === 0xffffffff) throw tooBig(MAX_UNZIPPED_BYTES + 1, MAX_UNZIPPED_BYTES);
    if (name.endsWith('/')) continue;
    const isXml = /\.(xml|rels|vml)$/i.test(name);
    // The declared size first (cheap), then the real one.
    if (total + usize > MAX_UNZIPPED_BYTES) throw tooBig(total + usize, MAX_UNZIPPED_BYTES);
    if (isXml && xml + usize > MAX_XML_BYTES) throw tooBig(xml + usize, MAX_XML_BYTES);
    if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50) throw truncated;
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    if (start + csize > bytes.length) throw truncated;
    const data = bytes.subarray(start, start + csize);
    let real: number;
    if (method === 0) real = csize;
    else if (method === 8) {
      const budget = Math.min(MAX_UNZIPPED_BYTES - total, isXml ? MAX_XML_BYTES - xml : Infinity);
      try {
        real = inflateRawSync(data, { maxOutputLength: budget + 1 }).length;
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooBig(budget + 1, isXml ? MAX_XML_BYTES : MAX_UNZIPPED_BYTES);
        throw truncated;
      }
      if (real > budget) throw tooBig(real, isXml ? MAX_XML_BYTES : MAX_UNZIPPED_BYTES);
    } else throw new UserError(notWorkbook);
    total += real;
    if (isXml) xml += real;
  }
  if (!names.has('[Content_Types].xml') || !names.has('xl/workbook.xml')) {
    throw new UserError('无法读取该 .xlsx 文件：这是一个压缩包，但不是 Excel 工作簿（没有工作表）。请在 Excel 中另存为 .xlsx 再发送。');
  }
}

/** Rejects after `ms` (the parser keeps its input bounded by checkXlsxBytes, so this is the last guard). */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UserError(message)), ms);
      timer.unref();
    }),
  ]);
}

/** A formula as the person typed it, for the refusal: shared formulas point at their master cell. */
function formulaOf(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as { formula?: unknown; sharedFormula?: unknown };
  if (typeof o.formula === 'string') return o.formula;
  if (typeof o.sharedFormula === 'string') return `与 ${o.sharedFormula} 相同的公式`;
  return 'formula' in o || 'sharedFormula' in o ? '' : undefined;
}

async function readXlsx(bytes: Buffer): Promise<ReadResult> {
  checkXlsxBytes(bytes);
  const wb = new (await loadExcelJS()).Workbook();
  try {
    await withTimeout(wb.xlsx.load(bytes as unknown as ArrayBuffer), READ_TIMEOUT_MS, `读取工作簿超时（超过 ${READ_TIMEOUT_MS / 1000} 秒），请精简工作簿后再发送。`);
  } catch (e) {
    if (e instanceof UserError) throw e;
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
    // Formula cells are never trusted: their cached value is whatever the file says, not what the formula gives.
    const formulas = new Map<number, Map<number, string>>();
    ws.eachRow({ includeEmpty: true }, (row, n) => {
      const cells: string[] = [];
      const values = row.values as unknown[];
      for (let i = 1; i < values.length; i++) {
        const f = formulaOf(values[i]);
        if (f !== undefined) {
          if (!formulas.has(n - 1)) formulas.set(n - 1, new Map());
          formulas.get(n - 1)!.set(i - 1, f);
        }
        cells[i - 1] = cellText(values[i]);
      }
      grid[n - 1] = cells;
    });
    sheets.push(toSheet(spec, grid, issues, formulas));
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

function toSheet(spec: SheetSpec, grid: string[][], issues: ImportIssue[], formulas?: ReadonlyMap<number, ReadonlyMap<number, string>>): SheetData {
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
  const formulaIssue = (r: number, column: string | null, f: string) =>
    issues.push({
      sheet: spec.name,
      row: r + 1,
      column,
      reason: `单元格是公式${f ? `（=${f.length > 60 ? f.slice(0, 60) + '…' : f}）` : ''}，不能导入：公式的结果可能与显示的不同。请复制该列后「选择性粘贴 → 数值」再导入`,
    });
  for (const [i, f] of formulas?.get(0) ?? []) formulaIssue(0, header[i] || null, f);
  const rows: SheetData['rows'] = [];
  for (let r = 1; r < grid.length; r++) {
    const line = grid[r] ?? [];
    // Checked before the empty-row skip: a formula whose cached value is empty must not vanish silently.
    const rowFormulas = [...(formulas?.get(r) ?? [])].filter(([i]) => [...index.values()].includes(i));
    if (rowFormulas.length) {
      for (const [i, f] of rowFormulas) formulaIssue(r, [...index].find(([, j]) => j === i)![0], f);
      continue;
    }
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
