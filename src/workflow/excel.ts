import type ExcelJS from 'exceljs';

/**
 * exceljs, loaded on first use: it costs about 28 MB of resident memory and only
 * imports, templates and exports need it (issue 5's memory target).
 */
let loading: Promise<typeof ExcelJS> | undefined;

export function loadExcelJS(): Promise<typeof ExcelJS> {
  loading ??= import('exceljs').then((m) => m.default);
  return loading;
}
