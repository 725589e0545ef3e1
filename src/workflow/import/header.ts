import type { Grid } from './grid.js';
import { EXAMPLE_MARK, headerLookup, normalizeHeader, SHEETS, type ImportIssue, type SheetRow, type SheetSpec } from './sheets.js';

/**
 * Recognising a sheet by its header, wherever the header is: title lines,
 * blank lines and notes above it are skipped, a two-row header (a group cell
 * such as 联系方式 merged over 手机号码/办公电话) is read as its lower row,
 * and the kind of sheet is told by which columns it has, not by the tab name.
 */

/** The header is looked for in this many first rows. */
export const HEADER_SEARCH_ROWS = 30;

/** What makes a header row a sheet of a kind (checked in this order: the more specific kinds first). */
const SIGNATURES: readonly { kind: string; test: (has: (c: string) => boolean) => boolean }[] = [
  { kind: '谈话', test: (h) => h('谈话类别') || h('谈话对象') },
  { kind: '节点', test: (h) => h('阶段') && h('截止日期') },
  { kind: '村社区', test: (h) => h('村社区') && (h('选举日') || (h('乡镇') && h('类型'))) },
  { kind: '人员', test: (h) => h('姓名') && (h('角色') || h('负责村社区') || h('手机号') || h('邮箱') || h('飞书open_id')) },
];

/** What each kind's header must contain to be recognised, for the message when nothing is. */
export const EXPECTED_HEADERS = '人员表：姓名，以及角色、负责村社区、手机号等；村社区表：乡镇、村社区、选举日；节点表：村社区、阶段、截止日期；谈话表：谈话类别、谈话对象、村社区、谈话人、截止日期';

/** Lines below the data that are not data: totals and sign-off lines. */
const FOOTER = /^(合计|总计|小计|共计|汇总)|^(填表人|填报人|审核人|审核|审批人|制表人?|统计人|经办人|负责人|联系人|联系电话|单位负责人|填报日期|填表日期|报送日期|填报单位|报送单位|日期|时间|备注|说明|注|签字|盖章)\s*[:：]|^注\s*\d|^备注$/u;

/** A data-looking value (digits, dates): a row of these is data, never a second header row. */
const DATA_LIKE = /^[\d\s.\-/:：年月日]+$/u;

interface ColumnMap {
  /** canonical column → cell index */
  index: Map<string, number>;
  /** header texts ignored (序号, unknown columns, vaguer duplicates) */
  ignored: string[];
  /** same column twice with equally good spellings */
  duplicates: { column: string; texts: string[] }[];
}

function mapColumns(spec: SheetSpec, header: readonly (string | undefined)[]): ColumnMap {
  const lookup = headerLookup(spec);
  const best = new Map<string, { i: number; rank: number; text: string }>();
  const ignored: string[] = [];
  const duplicates = new Map<string, string[]>();
  let prevText = '';
  for (let i = 0; i < header.length; i++) {
    const text = (header[i] ?? '').normalize('NFKC').replace(/[\s\u3000]+/g, ' ').trim();
    // The same text in the next cell is one header cell merged across (filled by fillMerges), not a second column.
    const mergedRun = text !== '' && text === prevText;
    prevText = text;
    if (!text || mergedRun) continue;
    const hit = lookup.get(normalizeHeader(text));
    if (!hit) {
      if (!ignored.includes(text)) ignored.push(text);
      continue;
    }
    const prev = best.get(hit.column);
    if (!prev) best.set(hit.column, { i, rank: hit.rank, text });
    else if (hit.rank < prev.rank) {
      ignored.push(prev.text);
      best.set(hit.column, { i, rank: hit.rank, text });
    } else if (hit.rank > prev.rank) ignored.push(text);
    else duplicates.set(hit.column, [...(duplicates.get(hit.column) ?? [prev.text]), text]);
  }
  const index = new Map<string, number>();
  for (const c of spec.columns) {
    const b = best.get(c.name);
    if (b) index.set(c.name, b.i);
  }
  return { index, ignored, duplicates: [...duplicates].map(([column, texts]) => ({ column, texts })) };
}

function kindOf(header: readonly (string | undefined)[]): { spec: SheetSpec; cols: ColumnMap } | undefined {
  for (const sig of SIGNATURES) {
    const spec = SHEETS.find((s) => s.name === sig.kind)!;
    const cols = mapColumns(spec, header);
    if (sig.test((c) => cols.index.has(c))) return { spec, cols };
  }
  return undefined;
}

const filled = (row: readonly (string | undefined)[] | undefined) => !!row && row.some((c) => c !== undefined && c.trim() !== '');

/**
 * Is `lower` the second row of a two-row header under `upper`? Yes when a
 * cell of it that is not just the upper cell merged down names a column of
 * the kind, and none of those cells looks like data.
 */
function isSubHeader(spec: SheetSpec, upper: readonly (string | undefined)[], lower: readonly (string | undefined)[]): boolean {
  const lookup = headerLookup(spec);
  let named = false;
  for (let i = 0; i < lower.length; i++) {
    const l = (lower[i] ?? '').trim();
    if (!l || l === (upper[i] ?? '').trim()) continue;
    if (DATA_LIKE.test(l)) return false;
    if (lookup.has(normalizeHeader(l))) named = true;
  }
  return named;
}

export interface HeaderFound {
  spec: SheetSpec;
  /** 0-based index of the (lower) header row; data starts below it. */
  headerRow: number;
  header: (string | undefined)[];
  cols: ColumnMap;
  /** Non-empty lines above the header (titles, notes), each as its distinct cell texts joined. */
  titles: string[];
}

export function findHeader(grid: Grid): HeaderFound | undefined {
  const limit = Math.min(grid.rows.length, HEADER_SEARCH_ROWS);
  for (let r = 0; r < limit; r++) {
    const upper = grid.rows[r];
    if (!filled(upper)) continue;
    const lower = grid.rows[r + 1];
    // Two rows merged into one: the lower cell where it has one, else the upper (a cell merged down, or left blank below).
    let combined: (string | undefined)[] | undefined;
    if (lower && filled(lower)) {
      const n = Math.max(upper!.length, lower.length);
      combined = Array.from({ length: n }, (_, i) => ((lower[i] ?? '').trim() ? lower[i] : upper![i]));
    }
    // The upper row must be a header by itself: a note line above the real header must not pass for its upper half.
    const alone = kindOf(upper!);
    if (!alone) continue;
    const both = combined ? kindOf(combined) : undefined;
    const useBoth = !!both && both.spec === alone.spec && isSubHeader(both.spec, upper!, lower!) && both.cols.index.size >= alone.cols.index.size;
    const hit = useBoth ? both! : alone;
    return { spec: hit.spec, headerRow: useBoth ? r + 1 : r, header: useBoth ? combined! : upper!, cols: hit.cols, titles: titlesAbove(grid, r) };
  }
  // A tab (or CSV) named after a kind whose header is not recognisable is still that kind: the person
  // then hears which columns are missing instead of the sheet being ignored.
  const named = SHEETS.find((s) => s.name === grid.sheetName.normalize('NFKC').trim());
  if (!named) return undefined;
  let first = -1;
  for (let r = 0; r < limit; r++) {
    if (!filled(grid.rows[r])) continue;
    if (first < 0) first = r;
    if (mapColumns(named, grid.rows[r]!).index.size) {
      first = r;
      break;
    }
  }
  if (first < 0) return undefined;
  return { spec: named, headerRow: first, header: grid.rows[first]!, cols: mapColumns(named, grid.rows[first]!), titles: titlesAbove(grid, first) };
}

/** Non-empty lines above the header, each as its distinct cell texts. */
function titlesAbove(grid: Grid, headerRow: number): string[] {
  const titles: string[] = [];
  for (let t = 0; t < headerRow; t++) {
    const texts = [...new Set((grid.rows[t] ?? []).map((c) => clean(c)).filter(Boolean))];
    if (texts.length) titles.push(texts.join(' '));
  }
  return titles;
}

const clean = (s: string | undefined) => (s ?? '').normalize('NFKC').replace(/[\s\u3000]+/g, ' ').trim();

export interface SheetRead {
  spec: SheetSpec;
  headers: string[];
  rows: SheetRow[];
  /** Rows dropped as footer lines (合计, 填表人：…). */
  footers: number;
  ignoredColumns: string[];
  titles: string[];
  headerRow: number;
  /** False when the header itself is unusable (a required column missing, a column twice): its issue is given, no rows. */
  complete: boolean;
}

/**
 * The data rows below a found header. A missing required column is one issue
 * for the sheet and no rows; formula cells in used columns are refused by
 * cell (and their row not emitted).
 */
export function readRows(grid: Grid, found: HeaderFound, issues: ImportIssue[]): SheetRead {
  const { spec, cols, headerRow } = found;
  const where = { sheet: spec.name, file: grid.file, sheetName: grid.sheetName };
  const base: SheetRead = { spec, headers: [...cols.index.keys()], rows: [], footers: 0, ignoredColumns: cols.ignored, titles: found.titles, headerRow: headerRow + 1, complete: true };
  const missing = spec.columns.filter((c) => c.required && !cols.index.has(c.name)).map((c) => c.name);
  if (missing.length) {
    const seen = [...cols.index.keys()];
    issues.push({
      ...where,
      row: headerRow + 1,
      column: missing.join('、'),
      reason: `缺少该列（表头在第${headerRow + 1}行${seen.length ? `，已识别：${seen.join('、')}` : ''}；${spec.name}表应有：${spec.columns.filter((c) => c.required).map((c) => c.name).join('、')}）`,
    });
    return { ...base, complete: false };
  }
  for (const d of cols.duplicates) issues.push({ ...where, row: headerRow + 1, column: d.column, reason: `列重复（${d.texts.join('、')}），请只保留一列` });
  if (cols.duplicates.length) return { ...base, complete: false };
  const used = [...cols.index];
  const usedIdx = new Set(cols.index.values());
  const formulaIssue = (r: number, column: string | null, f: string) =>
    issues.push({
      ...where,
      row: r + 1,
      column,
      reason: `单元格是公式${f ? `（=${f.length > 60 ? f.slice(0, 60) + '…' : f}）` : ''}，不能导入：公式的结果可能与显示的不同。请复制该列后「选择性粘贴 → 数值」再导入`,
    });
  const headerFormulas = grid.formulas.get(headerRow);
  for (const [i, f] of headerFormulas ?? []) if (usedIdx.has(i)) formulaIssue(headerRow, used.find(([, j]) => j === i)![0], f);
  const headerTexts = used.map(([, i]) => normalizeHeader(found.header[i] ?? ''));
  const example = EXAMPLE_MARK.normalize('NFKC');
  let afterFooter = false;
  for (let r = headerRow + 1; r < grid.rows.length; r++) {
    const line = grid.rows[r] ?? [];
    // Checked before the empty-row skip: a formula whose cached value is empty must not vanish silently.
    const rowFormulas = grid.formulas.get(r);
    if (rowFormulas) {
      let any = false;
      for (const [i, f] of rowFormulas) {
        if (!usedIdx.has(i)) continue;
        formulaIssue(r, used.find(([, j]) => j === i)![0], f);
        any = true;
      }
      if (any) continue;
    }
    let first = '';
    let distinct = 0;
    let last = '';
    for (const c of line) {
      const t = c === undefined ? '' : c.trim();
      if (!t) continue;
      if (!first) first = t.normalize('NFKC');
      if (t !== last) distinct++;
      last = t;
    }
    if (!first) continue;
    if (FOOTER.test(first) || (afterFooter && distinct <= 1)) {
      base.footers++;
      afterFooter = true;
      continue;
    }
    if (line.some((c) => c !== undefined && c.trim().normalize('NFKC').startsWith(example))) continue;
    // The header repeated further down (a printed list repeats it on each page).
    if (used.every(([, i], k) => normalizeHeader(line[i] ?? '') === headerTexts[k])) continue;
    const cells: Record<string, string> = {};
    let any = false;
    for (const [name, i] of used) {
      const v = cellValue(line[i]);
      cells[name] = v;
      if (v) any = true;
    }
    // A row with values only in ignored columns (a 序号 alone) is not a row of the sheet.
    if (!any) continue;
    base.rows.push({ row: r + 1, cells, file: grid.file, sheetName: grid.sheetName });
  }
  return base;
}

/**
 * A cell's text as imported: NFKC, inner whitespace runs as one space,
 * trimmed; a number that a CSV or text cell spells "13912345678.0" or
 * "1.3912345678E10" as its digits when that is exact.
 */
export function cellValue(raw: string | undefined): string {
  const v = clean(raw);
  if (v.length > 6 && /^\d+\.0+$/.test(v)) return v.replace(/\.0+$/, '');
  const sci = /^(\d)\.(\d+)[eE]\+?(\d{1,2})$/.exec(v);
  // Only when every digit is there: 1.39123E+10 lost digits when it was saved, and stays as it is (and is reported).
  if (sci && sci[2]!.length === Number(sci[3]) && sci[2]!.length >= 6) return sci[1]! + sci[2]!;
  return v;
}
