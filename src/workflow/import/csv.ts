import iconv from 'iconv-lite';
import type { Grid } from './grid.js';

/**
 * CSV files: UTF-8 with or without BOM, or GBK/GB18030 as Excel and WPS on
 * Chinese Windows save them; RFC 4180 quoting. The file name no longer has to
 * be a sheet name: the header decides what the sheet is.
 */

/** UTF-8 (BOM stripped) unless the bytes are not valid UTF-8, then GB18030 (a superset of GBK). */
export function decodeText(bytes: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!text.includes('\uFFFD')) return text.replace(/^\uFEFF/, '');
  return iconv.decode(bytes, 'gb18030');
}

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks; CRLF or LF. Stops after `maxRows` rows (the rest only counted). */
export function parseCsv(text: string, maxRows = Infinity): { rows: string[][]; total: number } {
  const rows: string[][] = [];
  let total = 0;
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0;
  const push = () => {
    total++;
    if (rows.length < maxRows) rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (quoted) {
      if (ch === 34) {
        if (text.charCodeAt(i + 1) === 34) {
          field += text.slice(start, i + 1);
          i++;
          start = i + 1;
        } else {
          field += text.slice(start, i);
          quoted = false;
          start = i + 1;
        }
      }
    } else if (ch === 34 && field === '' && start === i) {
      quoted = true;
      start = i + 1;
    } else if (ch === 44) {
      row.push(field + text.slice(start, i));
      field = '';
      start = i + 1;
    } else if (ch === 10 || ch === 13) {
      row.push(field + text.slice(start, i));
      field = '';
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      push();
    }
  }
  const rest = field + text.slice(start);
  if (rest !== '' || row.length) {
    row.push(rest);
    push();
  }
  return { rows, total };
}

export function csvGrid(file: string, sheetName: string, bytes: Buffer, maxRows: number): Grid {
  const { rows, total } = parseCsv(decodeText(bytes), maxRows);
  return { file, sheetName, rows, formulas: new Map(), totalRows: total };
}
