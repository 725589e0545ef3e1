/** The import bench's baseline: exceljs loads the workbook, nothing else (a fresh process per run). */
import { loadExcelJS } from '../src/workflow/excel.js';

const file = process.argv[2];
if (!file) throw new Error('usage: import-parse-only.ts <file.xlsx>');
const wb = new (await loadExcelJS()).Workbook();
await wb.xlsx.readFile(file);
let rows = 0;
for (const ws of wb.worksheets) rows += ws.rowCount;
process.stdout.write(`${rows}\n`);
