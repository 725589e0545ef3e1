import type * as XLSX from '@e965/xlsx';
import { UserError } from '../../errors.js';
import { fillMerges, type Grid, type MergeRange } from './grid.js';

/**
 * Workbooks (.xlsx of any writer, and Excel 97–2003 .xls) through SheetJS
 * (@e965/xlsx 0.20.3: the 0.20 line with the CVE fixes that the npm `xlsx`
 * 0.18.5 lacks). exceljs refuses files it did not write itself in some
 * shapes (openpyxl's comments, for one), SheetJS reads what Excel, WPS,
 * LibreOffice and openpyxl write. Loaded on first use, like exceljs: it is a
 * large module and only imports need it.
 */
let loading: Promise<typeof XLSX> | undefined;
export function loadSheetJS(): Promise<typeof XLSX> {
  loading ??= import('@e965/xlsx').then((m) => m as typeof XLSX);
  return loading;
}

export const ENCRYPTED_MESSAGE =
  '该工作簿设置了打开密码（已加密），机器人无法读取。请在 Excel 中打开，「文件 → 信息 → 保护工作簿 → 用密码进行加密」清空密码并保存后，重新发送。';

/**
 * Every sheet of the workbook as text grids. `maxRows` bounds what is parsed
 * per sheet (SheetJS stops there); the sheet's real height is kept so the
 * caller can refuse an oversized sheet by name.
 */
export async function readWorkbookGrids(file: string, bytes: Buffer, kind: 'xlsx' | 'xls', maxRows: number): Promise<Grid[]> {
  const X = await loadSheetJS();
  const parse = (opts: XLSX.ParsingOptions): XLSX.WorkBook => {
    try {
      return X.read(bytes, {
        type: 'buffer',
        dense: true,
        cellFormula: true,
        cellNF: true,
        cellText: false,
        cellHTML: false,
        cellStyles: false,
        cellDates: false,
        bookVBA: false,
        // Stubs keep a formula cell that has no cached value (refused like any formula, not dropped).
        sheetStubs: true,
        sheetRows: maxRows + 1,
        ...opts,
      });
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      if (/password|encrypt/i.test(m)) throw new UserError(ENCRYPTED_MESSAGE);
      throw new UserError(
        kind === 'xls'
          ? `无法读取该 .xls 文件「${file}」：文件可能已损坏，或不是 Excel 97–2003 工作簿。请在 Excel 或 WPS 中打开后另存为 .xlsx 再发送。`
          : `无法读取该 .xlsx 文件「${file}」，文件可能已损坏或不是 Excel 工作簿。请在 Excel 或 WPS 中打开后另存为 .xlsx 再发送。`,
      );
    }
  };
  const wb = parse({});
  const date1904 = !!wb.Workbook?.WBProps?.date1904;
  const grids: Grid[] = [];
  for (const name of wb.SheetNames) {
    const ws = wb.Sheets[name];
    if (!ws) continue;
    grids.push(toGrid(X, file, name, ws as XLSX.WorkSheet, date1904));
    // The cell objects are several times the size of the text kept: free each sheet's once it is copied.
    delete wb.Sheets[name];
  }
  return grids;
}

function toGrid(X: typeof XLSX, file: string, sheetName: string, ws: XLSX.WorkSheet, date1904: boolean): Grid {
  const data = ((ws as { '!data'?: XLSX.CellObject[][] })['!data'] ?? []) as (XLSX.CellObject[] | undefined)[];
  const full = (ws['!fullref'] as string | undefined) ?? (ws['!ref'] as string | undefined);
  const totalRows = full ? X.utils.decode_range(full).e.r + 1 : data.length;
  const rows: (string | undefined)[][] = new Array(data.length);
  const formulas = new Map<number, Map<number, string>>();
  for (let r = 0; r < data.length; r++) {
    const src = data[r];
    if (!src) {
      rows[r] = [];
      continue;
    }
    const out: (string | undefined)[] = new Array(src.length);
    for (let c = 0; c < src.length; c++) {
      const cell = src[c];
      if (!cell) continue;
      if (cell.f !== undefined || cell.F !== undefined) {
        let m = formulas.get(r);
        if (!m) formulas.set(r, (m = new Map()));
        m.set(c, cell.f ?? '');
      }
      out[c] = cellText(X, cell, date1904);
    }
    rows[r] = out;
  }
  const merges: MergeRange[] = ((ws['!merges'] as XLSX.Range[] | undefined) ?? []).map((m) => ({ r0: m.s.r, c0: m.s.c, r1: m.e.r, c1: m.e.c }));
  fillMerges(rows, merges);
  return { file, sheetName, rows, formulas, totalRows };
}

const EXCEL_ERRORS: Record<number, string> = { 0: '#NULL!', 7: '#DIV/0!', 15: '#VALUE!', 23: '#REF!', 29: '#NAME?', 36: '#NUM!', 42: '#N/A', 43: '#GETTING_DATA' };

const pad = (n: number) => String(n).padStart(2, '0');

/** An Excel serial day (1900 or 1904 system) as YYYY-MM-DD: plain arithmetic, no time zone involved. */
export function serialToIso(serial: number, date1904 = false): string {
  const day = Math.floor(serial + 1e-7);
  const ms = Date.UTC(date1904 ? 1904 : 1899, date1904 ? 0 : 11, date1904 ? 1 : 30) + day * 86_400_000;
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** A number as typed: integers as their digits (phones: never 1.39E+10, never ".0"), others without float noise. */
export function numberText(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v);
  return String(Number(v.toPrecision(15)));
}

const dateFormats = new Map<string | number, boolean>();
/** Whether a number format shows a date (cached: a province sheet has 90,000 number cells and a handful of formats). */
function isDateFormat(X: typeof XLSX, z: string | number): boolean {
  let d = dateFormats.get(z);
  if (d === undefined) {
    const fmt = typeof z === 'number' ? ((X.SSF.get_table() as Record<number, string>)[z] ?? '') : z;
    d = !!fmt && X.SSF.is_date(fmt) === true;
    dateFormats.set(z, d);
  }
  return d;
}

function cellText(X: typeof XLSX, cell: XLSX.CellObject, date1904: boolean): string {
  const v = cell.v;
  switch (cell.t) {
    case 'n': {
      if (typeof v !== 'number') return '';
      const z = cell.z;
      // A date cell: its serial day as the calendar date shown (never through a Date: no UTC shift).
      if (z !== undefined && isDateFormat(X, z) && v >= 1 && v < 2_958_466) return serialToIso(v, date1904);
      return numberText(v);
    }
    case 'd':
      if (v instanceof Date && !Number.isNaN(v.getTime())) {
        // SheetJS builds these in local time: the local fields are the date the file holds.
        return `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())}`;
      }
      return typeof v === 'string' ? v.slice(0, 10) : '';
    case 'b':
      return v ? '是' : '否';
    case 'z':
      return '';
    case 'e':
      // Shown as Excel shows it, so the person sees which cell is broken.
      return typeof v === 'number' ? (EXCEL_ERRORS[v] ?? '#错误') : '#错误';
    case 's':
      return typeof v === 'string' ? v : v === undefined ? '' : String(v);
    default:
      return v === undefined || v === null ? '' : String(v);
  }
}
