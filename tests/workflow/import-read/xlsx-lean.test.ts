import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Grid } from '../../../src/workflow/import/grid.js';
import { readWorkbookGrids } from '../../../src/workflow/import/xls-workbook.js';
import { isDateFormatCode, readXlsxGrids } from '../../../src/workflow/import/xlsx-read.js';

/**
 * The lean .xlsx reader (province-sized files in a fraction of SheetJS's
 * memory) must see exactly what SheetJS sees in every workbook a real program
 * wrote: same cells, formulas, merges filled.
 */
const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const shape = (grids: Grid[]) =>
  grids
    // Empty sheets: SheetJS counts a row in them, the lean reader none; neither has any cell.
    .filter((g) => g.rows.some((r) => r.some((c) => c)))
    .map((g) => ({
      sheet: g.sheetName,
      totalRows: g.totalRows,
      formulas: [...g.formulas].map(([r, m]) => [r, [...m]]),
      rows: g.rows.map((r) => Array.from(r, (c) => c ?? '').join('\t').replace(/\t+$/, '')).join('\n').replace(/\n+$/, ''),
    }));

describe('lean .xlsx reader', () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith('.xlsx') && f !== 'garbled.xlsx');
  it.each(files)('%s: the same grids as SheetJS', async (f) => {
    const bytes = readFileSync(join(FIX, f));
    const lean = shape(readXlsxGrids(f, bytes, 10_000));
    expect(lean.length).toBeGreaterThan(0);
    expect(lean).toEqual(shape(await readWorkbookGrids(f, bytes, 'xlsx', 10_000)));
  });

  it('tells date formats from number formats', () => {
    for (const d of ['yyyy-mm-dd', 'yyyy/m/d', 'yyyy"年"m"月"d"日"', '[$-804]yyyy"年"m"月"d"日";@', '[DBNum1][$-804]m"月"d"日"', 'm/d/yy h:mm', 'd-mmm-yy']) expect(isDateFormatCode(d), d).toBe(true);
    for (const n of ['General', '0', '0.00', '#,##0.00_);[Red]\\(#,##0.00\\)', '@', '0.00E+00', '[$-804]General', '"电话："0']) expect(isDateFormatCode(n), n).toBe(false);
  });
});
