import type ExcelJS from 'exceljs';
import type { IsoDate } from '../types.js';

/**
 * The print layout every sheet of the progress workbook shares, so that a
 * county office can print it and hand it out: a title block (title, 制表单位,
 * 截至 time in the campaign's zone), one header row that is frozen and
 * repeated on every printed page, thin borders around every table cell, A4
 * landscape scaled to one page wide (as many pages down as needed), margins
 * and a 第 x 页，共 y 页 footer.
 */

export const DATE_FMT = 'yyyy-mm-dd';
export const DATETIME_FMT = 'yyyy-mm-dd hh:mm';
export const PCT_FMT = '0.0%';

/** What the title block says (the same on every sheet but the title). */
export interface SheetHead {
  title: string;
  /** 制表单位：… */
  unit: string;
  /** 截至 2026年12月7日 17:05 */
  asOf: string;
  /** Extra lines under the title block (a legend, a note), printed on the first page. */
  notes?: string[];
}

export interface Column {
  header: string;
  /** Excel width units (≈ one Latin character; a Chinese character takes about two). Never exactly 9: ExcelJS takes 9 for its default and drops it. */
  width: number;
  numFmt?: string;
  align?: 'left' | 'center' | 'right';
  /** Long text (problem descriptions, names): wrapped instead of cut. */
  wrap?: boolean;
}

/** A row of a table: cell values, or a group heading spanning the table (乡镇排名 per county). */
export type TableRow = unknown[] | { group: string };

export interface TableOptions {
  /** Columns frozen at the left (the matrix keeps 乡镇/村 in view). */
  freezeColumns?: number;
  /** Styles a data cell after it is written (row index in `rows`, column index from 0). */
  style?: (cell: ExcelJS.Cell, row: number, col: number) => void;
  /** Header row height in points when the headers wrap (the matrix's stage names). */
  headerHeight?: number;
  /** Lines written under the table (totals, remarks). */
  after?: string[];
  /** Font size of the data rows (default 10; the wide matrix uses 9). */
  fontSize?: number;
  /** Print on one page, down as well as across (the short 汇总). */
  onePage?: boolean;
}

const THIN: ExcelJS.Border = { style: 'thin', color: { argb: 'FF808080' } };
export const BORDER: Partial<ExcelJS.Borders> = { top: THIN, left: THIN, bottom: THIN, right: THIN };
const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDE6F2' } };
const GROUP_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF2F2F2' } };
const FONT = '宋体';

/**
 * A sheet with the title block, a bordered table and the print set-up. Returns
 * the worksheet and the row number of its header row.
 */
export function tableSheet(wb: ExcelJS.Workbook, name: string, head: SheetHead, cols: Column[], rows: readonly TableRow[], opts: TableOptions = {}): { ws: ExcelJS.Worksheet; headerRow: number } {
  const ws = wb.addWorksheet(name);
  const n = cols.length;
  ws.columns = cols.map((c) => ({ width: c.width }));
  titleBlock(ws, head, n);
  const headerRow = ws.rowCount + 1;

  const h = ws.getRow(headerRow);
  cols.forEach((c, i) => {
    const cell = h.getCell(i + 1);
    cell.value = c.header;
    cell.font = { name: FONT, size: 10, bold: true };
    cell.fill = HEADER_FILL;
    cell.border = BORDER;
    cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
  });
  h.height = opts.headerHeight ?? 20;

  const aligns = cols.map((c): Partial<ExcelJS.Alignment> => ({ horizontal: c.align ?? (c.numFmt ? 'center' : 'left'), vertical: 'middle', wrapText: !!c.wrap }));
  const size = opts.fontSize ?? 10;
  const font: Partial<ExcelJS.Font> = { name: FONT, size };
  let r = headerRow;
  rows.forEach((values, ri) => {
    const row = ws.getRow(++r);
    // Fixed heights (a line per wrapped line): pages hold a known number of rows, nothing is cut.
    row.height = lineHeight(size) * (Array.isArray(values) ? linesOf(values, cols) : 1);
    if (!Array.isArray(values)) {
      ws.mergeCells(r, 1, r, n);
      const cell = row.getCell(1);
      cell.value = values.group;
      cell.font = { name: FONT, size: 10, bold: true };
      cell.fill = GROUP_FILL;
      for (let c = 1; c <= n; c++) row.getCell(c).border = BORDER;
      return;
    }
    for (let c = 0; c < n; c++) {
      const cell = row.getCell(c + 1);
      const v = values[c];
      cell.value = v === undefined ? null : (v as ExcelJS.CellValue);
      cell.font = font;
      cell.border = BORDER;
      cell.alignment = aligns[c]!;
      if (cols[c]!.numFmt) cell.numFmt = cols[c]!.numFmt!;
      opts.style?.(cell, ri, c);
    }
  });
  if (!rows.length) {
    const row = ws.getRow(++r);
    ws.mergeCells(r, 1, r, n);
    row.getCell(1).value = '（无）';
    row.getCell(1).alignment = { horizontal: 'center' };
    for (let c = 1; c <= n; c++) row.getCell(c).border = BORDER;
  }
  for (const line of opts.after ?? []) {
    const row = ws.getRow(++r);
    ws.mergeCells(r, 1, r, n);
    row.getCell(1).value = line;
    row.getCell(1).font = { name: FONT, size: 9 };
  }

  printSetup(ws, headerRow, opts.freezeColumns ?? 0, opts.onePage);
  // Filtering on the header (no filter on a group-headed table: the headings would be filtered away).
  if (rows.length && rows.every(Array.isArray)) ws.autoFilter = { from: { row: headerRow, column: 1 }, to: { row: headerRow + rows.length, column: n } };
  return { ws, headerRow };
}

/** Row height in points for a font size (a little leading; CJK glyphs are tall). */
function lineHeight(size: number): number {
  return Math.round(size * 1.45 * 2) / 2;
}

/** Display width of text in Excel width units: a CJK character takes two. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += ch.charCodeAt(0) > 0x2e7f ? 2 : 1;
  return w;
}

/** Lines a row needs: its longest wrapped cell over its column's width. */
function linesOf(values: unknown[], cols: Column[]): number {
  let n = 1;
  cols.forEach((c, i) => {
    const v = values[i];
    if (!c.wrap || typeof v !== 'string' || !v) return;
    n = Math.max(n, Math.ceil(textWidth(v) / Math.max(1, c.width - 1)));
  });
  return Math.min(n, 6);
}

/** Rows 1…: the title (merged, large), then 制表单位 on the left and 截至 on the right, then notes. */
export function titleBlock(ws: ExcelJS.Worksheet, head: SheetHead, n: number): void {
  ws.mergeCells(1, 1, 1, n);
  const t = ws.getCell(1, 1);
  t.value = head.title;
  t.font = { name: FONT, size: 16, bold: true };
  t.alignment = { horizontal: 'center', vertical: 'middle' };
  ws.getRow(1).height = 30;

  // 制表单位 over the left half, 截至 over the right (a one-column table gets both in one cell).
  const split = Math.max(1, Math.ceil(n / 2));
  const unit = ws.getCell(2, 1);
  if (n > 1) {
    if (split > 1) ws.mergeCells(2, 1, 2, split);
    if (n - split > 1) ws.mergeCells(2, split + 1, 2, n);
    unit.value = head.unit;
    ws.getCell(2, split + 1).value = head.asOf;
    ws.getCell(2, split + 1).alignment = { horizontal: 'right', vertical: 'middle' };
    ws.getCell(2, split + 1).font = { name: FONT, size: 10 };
  } else {
    unit.value = `${head.unit}    ${head.asOf}`;
  }
  unit.font = { name: FONT, size: 10 };
  unit.alignment = { horizontal: 'left', vertical: 'middle' };
  ws.getRow(2).height = 18;

  let r = 2;
  for (const line of head.notes ?? []) {
    r++;
    ws.mergeCells(r, 1, r, n);
    const c = ws.getCell(r, 1);
    c.value = line;
    c.font = { name: FONT, size: 9 };
    c.alignment = { horizontal: 'left', vertical: 'middle', wrapText: true };
    // A long legend takes two lines on a narrow table.
    const width = (ws.columns ?? []).reduce((s, col) => s + (col.width ?? 8), 0);
    ws.getRow(r).height = 14 * Math.ceil(textWidth(line) / Math.max(1, width - 2));
  }
}

/**
 * A4 landscape, one page wide and as many down as needed, the header row
 * frozen and repeated on every page, centred, 第 &P 页，共 &N 页 in the footer.
 */
export function printSetup(ws: ExcelJS.Worksheet, headerRow: number, freezeColumns = 0, onePage = false): void {
  ws.views = [{ state: 'frozen', ySplit: headerRow, xSplit: freezeColumns, topLeftCell: ws.getCell(headerRow + 1, freezeColumns + 1).address, activeCell: 'A1' }];
  ws.pageSetup = {
    ...ws.pageSetup,
    paperSize: 9, // A4
    orientation: 'landscape',
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: onePage ? 1 : 0, // as many pages down as the rows need
    horizontalCentered: true,
    margins: { left: 0.4, right: 0.4, top: 0.5, bottom: 0.6, header: 0.3, footer: 0.3 },
    printTitlesRow: `${headerRow}:${headerRow}`,
  };
  ws.headerFooter = { oddFooter: '&C第 &P 页，共 &N 页', evenFooter: '&C第 &P 页，共 &N 页' };
}

// ─── Dates and times for people (the campaign's zone, never UTC) ───────────

const stampFormats = new Map<string, Intl.DateTimeFormat>();
function wallClock(tz: string, ms: number): { y: number; m: number; d: number; hh: number; mm: number } {
  let f = stampFormats.get(tz);
  if (!f) stampFormats.set(tz, (f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), hh: Number(p.hour), mm: Number(p.minute) };
}

/** 截至 2026年12月7日 17:05 — the moment in the campaign's time zone. */
export function asOfText(tz: string, ms: number): string {
  const w = wallClock(tz, ms);
  return `截至 ${w.y}年${w.m}月${w.d}日 ${String(w.hh).padStart(2, '0')}:${String(w.mm).padStart(2, '0')}`;
}

/** An ISO day as an Excel date (Excel dates have no zone: the day's midnight, written as is). */
export function excelDate(d: IsoDate | null | undefined): Date | null {
  if (!d) return null;
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, day));
}

/** A moment as an Excel date-time showing the campaign zone's wall clock (ExcelJS writes a Date's UTC fields). */
export function excelDateTime(tz: string, ms: number | null | undefined): Date | null {
  if (ms === null || ms === undefined) return null;
  const w = wallClock(tz, ms);
  return new Date(Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm));
}

/** 11-20: a day in a matrix cell (the year is the campaign's). */
export function monthDay(d: IsoDate): string {
  return d.slice(5);
}

/** Chinese order for names (拼音), the same in every sheet. */
export const zhCompare = new Intl.Collator('zh-Hans-CN').compare;
