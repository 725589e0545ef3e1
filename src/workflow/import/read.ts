import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../../errors.js';
import { csvGrid } from './csv.js';
import type { Grid } from './grid.js';
import { EXPECTED_HEADERS, findHeader, HEADER_SEARCH_ROWS, readRows, type SheetRead } from './header.js';
import { SHEETS, type ImportIssue, type SheetData } from './sheets.js';
import { readWorkbookGrids, ENCRYPTED_MESSAGE } from './xls-workbook.js';
import { CFB_MAGIC, checkXlsxBytes, utf16 } from './xlsx-guard.js';
import { readXlsxGrids } from './xlsx-read.js';

export { checkXlsxBytes, MAX_UNZIPPED_BYTES, MAX_XML_BYTES } from './xlsx-guard.js';
export { decodeText, parseCsv } from './csv.js';

/**
 * Reading the import: .xlsx (any writer), .xls (Excel 97–2003), .csv (UTF-8
 * or GBK), or a folder of any mix of them. Every sheet of every file is
 * recognised by its header (see header.ts), wherever the header is and
 * whatever the tab or file is called; sheets of one kind are concatenated.
 * Cells become trimmed NFKC strings; date cells YYYY-MM-DD; numbers their
 * digits. Nothing here judges values: that is the validator's job.
 */
export interface ReadResult {
  sheets: SheetData[];
  issues: ImportIssue[];
  /** One Chinese line each: sheets recognised or ignored, columns ignored, footer lines skipped. Always set by the reader. */
  notes?: string[];
  /** Title lines found above the headers (e.g. 沁源县2026年村（社区）“两委”换届包联干部名单), for telling the county. Always set by the reader. */
  titles?: string[];
}

/** What the reader returns: a ReadResult with notes and titles always present. */
export type ReadOutput = ReadResult & { notes: string[]; titles: string[] };

/** A sheet larger than this is refused whole (a province's roster is some 60,000 people). */
export const MAX_ROWS_PER_SHEET = 100_000;
export const MAX_FILE_BYTES = 20 * 1024 * 1024;
/** A folder may hold this many importable files. */
export const MAX_FOLDER_FILES = 50;

const IMPORTABLE = new Set(['.xlsx', '.xlsm', '.xls', '.csv']);

export async function readImportFile(path: string): Promise<ReadOutput> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UserError(`找不到文件或目录：${path}`, 'not_found');
  if (!st.isDirectory()) {
    if (st.size > MAX_FILE_BYTES) throw new UserError(`文件过大（${Math.round(st.size / 1048576)} MB），上限 ${MAX_FILE_BYTES / 1048576} MB。`);
    return readFiles([{ name: basename(path), bytes: readFileSync(path) }], false);
  }
  // Excel's lock files (~$花名册.xlsx) and hidden files are not the person's data.
  const names = readdirSync(path)
    .filter((f) => IMPORTABLE.has(extname(f).toLowerCase()) && !f.startsWith('~$') && !f.startsWith('.'))
    .filter((f) => statSync(join(path, f)).isFile())
    .sort();
  if (!names.length) throw new UserError(`目录中没有可导入的文件（.xlsx、.xls 或 .csv）：${path}`);
  if (names.length > MAX_FOLDER_FILES) throw new UserError(`目录中的文件过多（${names.length} 个，上限 ${MAX_FOLDER_FILES} 个），请只放要导入的花名册和计划。`);
  const files = names.map((name) => {
    const size = statSync(join(path, name)).size;
    if (size > MAX_FILE_BYTES) throw new UserError(`文件「${name}」过大（${Math.round(size / 1048576)} MB），上限 ${MAX_FILE_BYTES / 1048576} MB。`);
    return { name, bytes: readFileSync(join(path, name)) };
  });
  return readFiles(files, true);
}

/** One file by name and content (a file sent in chat). */
export async function readImportBytes(fileName: string, bytes: Buffer): Promise<ReadOutput> {
  if (bytes.length > MAX_FILE_BYTES) throw new UserError(`文件过大，上限 ${MAX_FILE_BYTES / 1048576} MB。`);
  return readFiles([{ name: fileName, bytes }], false);
}

const ZIP_MAGIC = 0x04034b50;
const unsupported = (f: string) => new UserError(`只能导入 .xlsx、.xls 工作簿或 .csv 文件（收到「${f}」）。`);

/** The grids of one file, by what its bytes are (an .xls renamed .xlsx, or the other way round, is read all the same). */
async function gridsOf(file: string, bytes: Buffer): Promise<Grid[]> {
  const ext = extname(file).toLowerCase();
  if (!IMPORTABLE.has(ext)) throw unsupported(file);
  const rowsToRead = MAX_ROWS_PER_SHEET + HEADER_SEARCH_ROWS + 2;
  if (ext === '.csv') return [csvGrid(file, basename(file, extname(file)).normalize('NFC'), bytes, rowsToRead)];
  const isZip = bytes.length >= 4 && bytes.readUInt32LE(0) === ZIP_MAGIC;
  const isCfb = bytes.subarray(0, 8).equals(CFB_MAGIC);
  if (isCfb) {
    if (bytes.includes(utf16('EncryptedPackage')) || bytes.includes(utf16('EncryptionInfo'))) throw new UserError(ENCRYPTED_MESSAGE);
    try {
      const grids = await readWorkbookGrids(file, bytes, 'xls', rowsToRead);
      // SheetJS reads some damaged containers as an empty workbook: nothing in it is as good as unreadable.
      if (!grids.some((g) => g.rows.some((r) => r.some((c) => c && c.trim())))) {
        throw new UserError(`无法读取该 .xls 文件「${file}」：文件可能已损坏，或其中没有任何内容。请在 Excel 或 WPS 中打开后另存为 .xlsx 再发送。`);
      }
      return grids;
    } catch (e) {
      // Under an .xlsx name the person most likely renamed an old file: say so (checkXlsxBytes' wording).
      if (ext !== '.xls' && !(e instanceof UserError && e.userMessage === ENCRYPTED_MESSAGE)) checkXlsxBytes(bytes);
      throw e;
    }
  }
  if (ext === '.xls' && !isZip) {
    throw new UserError(`无法读取「${file}」：扩展名是 .xls，但内容不是 Excel 工作簿（文件可能已损坏，或是网页、文本等其他格式只改了扩展名）。请在 Excel 或 WPS 中打开后「另存为 → Excel 工作簿 (*.xlsx)」再发送。`);
  }
  checkXlsxBytes(bytes);
  try {
    return readXlsxGrids(file, bytes, rowsToRead);
  } catch (e) {
    // A shape the lean reader does not know: SheetJS reads it (more memory, same result).
    if (e instanceof UserError) throw e;
    return readWorkbookGrids(file, bytes, 'xlsx', rowsToRead);
  }
}

interface Part {
  grid: Grid;
  read: SheetRead;
}

async function readFiles(files: { name: string; bytes: Buffer }[], folder: boolean): Promise<ReadOutput> {
  const issues: ImportIssue[] = [];
  const notes: string[] = [];
  const titles: string[] = [];
  const parts: Part[] = [];
  const unrecognised: { grid: Grid; first: string }[] = [];
  for (const f of files) {
    const grids = await gridsOf(f.name, f.bytes);
    for (const grid of grids) {
      const where = place(grid, folder);
      const found = findHeader(grid);
      if (!found) {
        const first = grid.rows.slice(0, HEADER_SEARCH_ROWS).find((r) => r.some((c) => c && c.trim()));
        // Empty sheets (Sheet2, Sheet3 as Excel and WPS add them) are not worth a note.
        if (first) {
          unrecognised.push({ grid, first: [...new Set(first.map((c) => (c ?? '').trim()).filter(Boolean))].slice(0, 8).join('、') });
          notes.push(`${where}不是人员、村社区、节点或谈话表（没有找到相应的表头），已忽略`);
        }
        grid.rows = [];
        continue;
      }
      const dataRows = grid.totalRows - found.headerRow - 1;
      if (dataRows > MAX_ROWS_PER_SHEET) {
        issues.push({ sheet: found.spec.name, row: null, column: null, reason: `行数过多（${dataRows} 行），每张表最多 ${MAX_ROWS_PER_SHEET} 行`, file: grid.file, sheetName: grid.sheetName });
        grid.rows = [];
        continue;
      }
      const read = readRows(grid, found, issues);
      // The grid's text is no longer needed: let it go before the next sheet is read.
      grid.rows = [];
      grid.formulas.clear();
      for (const t of read.titles) if (!titles.includes(t)) titles.push(t);
      notes.push(`${where}识别为${read.spec.name}表（表头在第${read.headerRow}行${read.complete ? `，${read.rows.length} 行数据` : '，表头有误，未读取'}）`);
      if (read.ignoredColumns.length) notes.push(`${where}以下列未使用，已忽略：${read.ignoredColumns.join('、')}`);
      if (read.footers) notes.push(`${where}跳过表尾 ${read.footers} 行（合计、填表人、备注等）`);
      parts.push({ grid, read });
    }
  }
  const sheets: SheetData[] = [];
  for (const spec of SHEETS) {
    const mine = parts.filter((p) => p.read.spec === spec);
    if (!mine.length) continue;
    if (mine.length > 1) notes.push(`${spec.name}表来自 ${mine.length} 个工作表（${mine.map((p) => place(p.grid, folder).replace(/：$/, '')).join('、')}），已合并读取`);
    // Sheets whose required columns are missing gave an issue and no rows; they add no headers either.
    const ok = mine.filter((p) => p.read.complete);
    if (!ok.length) continue;
    const headers = spec.columns.map((c) => c.name).filter((c) => ok.some((p) => p.read.headers.includes(c)));
    const rows = ok.length === 1 ? ok[0]!.read.rows : ok.flatMap((p) => p.read.rows);
    // A column only some sources have is empty in the others' rows, as a blank cell would be.
    if (ok.length > 1) for (const r of rows) for (const h of headers) r.cells[h] ??= '';
    sheets.push({ name: spec.name, file: ok[0]!.grid.file, sheetName: ok[0]!.grid.sheetName, headers, rows });
  }
  if (!parts.length && !issues.length) {
    const seen = unrecognised.slice(0, 3).map((u) => `${place(u.grid, folder).replace(/：$/, '')}的第一行为「${u.first}」`);
    throw new UserError(`没有找到可导入的表：各工作表的表头都不符合要求。表头须包含——${EXPECTED_HEADERS}。${seen.length ? `（${seen.join('；')}）` : '（文件中没有内容）'}`);
  }
  return { sheets, issues, notes, titles };
}

/** Where a sheet is, for notes: 工作表「Sheet1」 in a workbook, 文件「人员.csv」 for a CSV, both in a folder. */
function place(grid: Grid, folder: boolean): string {
  if (/\.csv$/i.test(grid.file)) return `文件「${grid.file}」：`;
  return `${folder ? `文件「${grid.file}」` : ''}工作表「${grid.sheetName}」：`;
}
