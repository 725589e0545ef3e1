import { inflateRawSync } from 'node:zlib';
import { fillMerges, type Grid, type MergeRange } from './grid.js';
import { numberText, serialToIso } from './xls-workbook.js';
import { MAX_XML_BYTES } from './xlsx-guard.js';
import { entryDataStart, readZipDirectory, ZipShapeError, type ZipEntry } from './zip-directory.js';

/**
 * A lean .xlsx reader: the workbook's XML parts scanned straight into text
 * grids. SheetJS keeps an object per cell (and LibreOffice's rich-text runs
 * as raw XML in each), which put a province workbook (60,000 + 30,000 rows)
 * past 400 MB; this keeps only the strings. It reads what the import needs
 * (values, shared and inline strings, date formats, merges, formulas) and
 * throws XlsxShapeError on anything it does not understand, so the caller
 * can hand the file to SheetJS instead. Run after checkXlsxBytes (sizes,
 * encryption, zip structure already checked).
 */
export class XlsxShapeError extends Error {}

interface Entry {
  method: number;
  start: number;
  csize: number;
}

function zipEntries(bytes: Buffer): Map<string, Entry> {
  const out = new Map<string, Entry>();
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(bytes);
  } catch (e) {
    if (e instanceof ZipShapeError) throw new XlsxShapeError(`zip: ${e.kind}`);
    throw e;
  }
  for (const e of entries) {
    const start = entryDataStart(bytes, e);
    if (start === null) throw new XlsxShapeError('bad local header');
    out.set(e.name.replace(/\\/g, '/').toLowerCase(), { method: e.method, start, csize: e.csize });
  }
  return out;
}

function partBytes(bytes: Buffer, entries: Map<string, Entry>, name: string): Buffer | undefined {
  const e = entries.get(name.replace(/^\//, '').toLowerCase());
  if (!e) return undefined;
  const raw = bytes.subarray(e.start, e.start + e.csize);
  const data = e.method === 0 ? raw : e.method === 8 ? inflateRawSync(raw, { maxOutputLength: MAX_XML_BYTES + 1 }) : undefined;
  if (!data) throw new XlsxShapeError(`compression method ${e.method}`);
  // UTF-16 XML is legal but unseen in practice: SheetJS handles it.
  if ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff)) throw new XlsxShapeError('utf-16 part');
  return data;
}

function part(bytes: Buffer, entries: Map<string, Entry>, name: string): string | undefined {
  return partBytes(bytes, entries, name)?.toString('utf8');
}

/**
 * A large part as text in pieces of about 1 MB, each cut just after a closing
 * tag (</row>, </si>, with or without a namespace prefix), so no element
 * spans two pieces: a province sheet is never one 50 MB string (UTF-16 in
 * V8 once it holds Chinese), and the cells' strings do not keep it alive.
 */
function* pieces(data: Buffer, local: string, size = 1 << 20): Generator<string> {
  const tag = Buffer.from(`${local}>`);
  let start = 0;
  while (start < data.length) {
    let end = start + size;
    if (end >= data.length) end = data.length;
    else {
      let i = data.indexOf(tag, end);
      // A closing tag: "</row>" or "</x:row>", not "<row>".
      while (i >= 0 && !(data[i - 1] === 0x2f || (data[i - 1] === 0x3a && data.lastIndexOf(0x3c, i) >= 0 && data[data.lastIndexOf(0x3c, i) + 1] === 0x2f))) i = data.indexOf(tag, i + tag.length);
      end = i < 0 ? data.length : i + tag.length;
    }
    yield data.toString('utf8', start, end);
    start = end;
  }
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescapeXml(s: string): string {
  if (s.indexOf('&') < 0 && s.indexOf('_x') < 0) return s;
  return s
    .replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENTITY[e]!,
    )
    .replace(/_x([0-9a-fA-F]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const attrRes = new Map<string, RegExp>();
/** An attribute's value from a tag's attribute text (the regex per name compiled once: this runs for every cell). */
function attr(attrs: string, name: string): string | undefined {
  let re = attrRes.get(name);
  if (!re) attrRes.set(name, (re = new RegExp(`(?:^|\\s)(?:\\w+:)?${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`)));
  const m = re.exec(attrs);
  return m ? unescapeXml(m[1] ?? m[2] ?? '') : undefined;
}

/** The text of an <si> or <is>: its <t> runs, without phonetic guides (<rPh>). */
function richText(xml: string): string {
  const noPh = xml.indexOf('rPh') >= 0 ? xml.replace(/<(\w+:)?rPh\b[\s\S]*?<\/(\w+:)?rPh>/g, '') : xml;
  let out = '';
  const re = /<(?:\w+:)?t(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?t>/g;
  for (let m; (m = re.exec(noPh)); ) out += m[1];
  return unescapeXml(out);
}

function sharedStrings(data: Buffer | undefined): string[] {
  if (!data) return [];
  const out: string[] = [];
  const re = /<(?:\w+:)?si\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:\w+:)?si>)/g;
  for (const xml of pieces(data, 'si')) {
    re.lastIndex = 0;
    // flat() copies the text out of the piece (a slice would keep the whole piece alive).
    for (let m; (m = re.exec(xml)); ) out.push(m[1] ? flat(richText(m[1])) : '');
  }
  return out;
}

/** A string that owns its characters (V8 keeps a sliced or concatenated string's parent). */
const flat = (s: string): string => (s.length ? (' ' + s).slice(1) : s);

/** Excel's built-in date formats (en and the CJK locales' ids). */
const BUILTIN_DATES = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Does a number format show a date? Its date letters outside quotes, escapes and [colour]/[$-locale] brackets. */
export function isDateFormatCode(code: string): boolean {
  const bare = code
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/\[(?!h\]|hh\]|m\]|mm\]|s\]|ss\])[^\]]*\]/gi, '')
    .replace(/_.|\*./g, '');
  if (/^general$/i.test(bare.trim())) return false;
  return /[ymdhs]|[年月日]/i.test(bare) && !/^[#0.,%\s]*$/.test(bare);
}

/** Style index → is a date, from styles.xml's cellXfs and numFmts. */
function dateStyles(xml: string | undefined): boolean[] {
  if (!xml) return [];
  const custom = new Map<number, string>();
  for (const m of xml.matchAll(/<(?:\w+:)?numFmt\b([^>]*?)\/?>/g)) {
    const id = Number(attr(m[1]!, 'numFmtId'));
    const code = attr(m[1]!, 'formatCode');
    if (Number.isFinite(id) && code !== undefined) custom.set(id, code);
  }
  const xfs = /<(?:\w+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:\w+:)?cellXfs>/.exec(xml)?.[1] ?? '';
  const out: boolean[] = [];
  for (const m of xfs.matchAll(/<(?:\w+:)?xf\b([^>]*?)\/?>/g)) {
    const id = Number(attr(m[1]!, 'numFmtId') ?? 0);
    const code = custom.get(id);
    out.push(code !== undefined ? isDateFormatCode(code) : BUILTIN_DATES.has(id));
  }
  return out;
}

/** "AB12" → [row 11, col 27] (0-based). */
function decodeRef(ref: string): [number, number] | undefined {
  const m = /^\$?([A-Za-z]{1,3})\$?(\d+)$/.exec(ref);
  if (!m) return undefined;
  let c = 0;
  for (const ch of m[1]!.toUpperCase()) c = c * 26 + (ch.charCodeAt(0) - 64);
  return [Number(m[2]) - 1, c - 1];
}

export function readXlsxGrids(file: string, bytes: Buffer, maxRows: number): Grid[] {
  const entries = zipEntries(bytes);
  const wbXml = part(bytes, entries, 'xl/workbook.xml');
  if (!wbXml) throw new XlsxShapeError('no workbook');
  const rels = part(bytes, entries, 'xl/_rels/workbook.xml.rels') ?? '';
  const targets = new Map<string, string>();
  for (const m of rels.matchAll(/<(?:\w+:)?Relationship\b([^>]*?)\/?>/g)) {
    const id = attr(m[1]!, 'Id');
    const target = attr(m[1]!, 'Target');
    if (id && target) targets.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target}`.replace(/\/\.\//g, '/'));
  }
  const date1904 = /<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*["'](1|true)["']/.test(wbXml);
  const strings = sharedStrings(partBytes(bytes, entries, 'xl/sharedStrings.xml'));
  const dates = dateStyles(part(bytes, entries, 'xl/styles.xml'));
  const grids: Grid[] = [];
  for (const m of wbXml.matchAll(/<(?:\w+:)?sheet\b([^>]*?)\/?>/g)) {
    const name = attr(m[1]!, 'name') ?? '';
    const rid = attr(m[1]!, 'id');
    const target = rid ? targets.get(rid) : undefined;
    if (!target) throw new XlsxShapeError(`sheet ${name} without a part`);
    // Chart sheets and dialog sheets have no cells.
    if (!/worksheets\//i.test(target)) continue;
    const xml = partBytes(bytes, entries, target.replace(/\/[^/]+\/\.\.\//g, '/'));
    if (xml === undefined) throw new XlsxShapeError(`missing part ${target}`);
    grids.push(sheetGrid(file, name, xml, strings, dates, date1904, maxRows));
  }
  return grids;
}

function sheetGrid(file: string, sheetName: string, data: Buffer, strings: string[], dates: boolean[], date1904: boolean, maxRows: number): Grid {
  const rows: (string | undefined)[][] = [];
  const formulas = new Map<number, Map<number, string>>();
  let totalRows = 0;
  let nextRow = 0;
  const rowRe = /<(?:\w+:)?row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?row>)/g;
  const cellRe = /<(?:\w+:)?c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?c>)/g;
  const merges: MergeRange[] = [];
  const mergeRe = /<(?:\w+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([A-Za-z$]+\d+)(?::([A-Za-z$]+\d+))?["']/g;
  for (const xml of pieces(data, 'row')) {
    rowRe.lastIndex = 0;
    for (let rm; (rm = rowRe.exec(xml)); ) {
      const rAttr = attr(rm[1]!, 'r');
      const r = rAttr ? Number(rAttr) - 1 : nextRow;
      nextRow = r + 1;
      const body = rm[2];
      if (!body) continue;
      if (!/<(?:\w+:)?[vfi]/.test(body)) continue; // styled but empty cells only
      totalRows = Math.max(totalRows, r + 1);
      if (r >= maxRows) continue;
      const out: (string | undefined)[] = [];
      let nextCol = 0;
      cellRe.lastIndex = 0;
      for (let cm; (cm = cellRe.exec(body)); ) {
        const a = cm[1]!;
        const ref = attr(a, 'r');
        const pos = ref ? decodeRef(ref) : undefined;
        const c = pos ? pos[1] : nextCol;
        nextCol = c + 1;
        const inner = cm[2];
        if (!inner) continue;
        const t = attr(a, 't') ?? 'n';
        if (/<(?:\w+:)?f\b/.test(inner)) {
          const f = /<(?:\w+:)?f\b[^>]*>([\s\S]*?)<\/(?:\w+:)?f>/.exec(inner);
          let fm = formulas.get(r);
          if (!fm) formulas.set(r, (fm = new Map()));
          fm.set(c, f ? unescapeXml(f[1]!) : '');
        }
        const vm = /<(?:\w+:)?v(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?v>/.exec(inner);
        const v = vm ? vm[1]! : undefined;
        let text: string;
        switch (t) {
          case 's':
            text = v === undefined ? '' : (strings[Number(v)] ?? '');
            break;
          case 'inlineStr':
            text = richText(inner);
            break;
          case 'str':
            text = v === undefined ? '' : unescapeXml(v);
            break;
          case 'b':
            text = v === undefined ? '' : v.trim() === '1' ? '是' : '否';
            break;
          case 'e':
            text = v === undefined ? '#错误' : unescapeXml(v);
            break;
          case 'd':
            // An ISO date cell (t="d"): its calendar date as written.
            text = v === undefined ? '' : unescapeXml(v).slice(0, 10);
            break;
          default: {
            if (v === undefined || v.trim() === '') {
              text = '';
              break;
            }
            const n = Number(v);
            if (!Number.isFinite(n)) throw new XlsxShapeError(`number ${v}`);
            const s = attr(a, 's');
            text = s !== undefined && dates[Number(s)] && n >= 1 && n < 2_958_466 ? serialToIso(n, date1904) : numberText(n);
          }
        }
        out[c] = flat(text);
      }
      rows[r] = out;
    }
    for (const m of xml.matchAll(mergeRe)) {
      const s = decodeRef(m[1]!);
      const e = m[2] ? decodeRef(m[2]) : s;
      if (s && e) merges.push({ r0: s[0], c0: s[1], r1: e[0], c1: e[1] });
    }
  }
  for (let i = 0; i < rows.length; i++) rows[i] ??= [];
  fillMerges(rows, merges);
  return { file, sheetName, rows, formulas, totalRows };
}
