import { formatIssue, type ImportIssue } from './sheets.js';

/**
 * Problems as lines a person can act on: the same message on many rows is one
 * line ("人员 第5、6、9…等 40 行 「角色」：…", runs as 第5–900行), so a
 * 1,000-row file with one mistake repeated gives one line; at most MAX_LINES
 * lines, then "另有 N 处".
 */
export const MAX_LINES = 30;

const ORDER = ['人员', '村社区', '节点', '谈话'];
const sheetOrder = (s: string) => {
  const i = ORDER.indexOf(s);
  return i < 0 ? 99 : i;
};

/** Sheet order (人员, 村社区, 节点, 谈话), then file, tab and row; stable otherwise. */
export function sortIssues(issues: readonly ImportIssue[]): ImportIssue[] {
  return [...issues].sort(
    (a, b) =>
      sheetOrder(a.sheet) - sheetOrder(b.sheet) ||
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.sheetName ?? '').localeCompare(b.sheetName ?? '') ||
      (a.row ?? 0) - (b.row ?? 0),
  );
}

/** 5、6、9–12、20 (runs of three or more as a range), at most `max` parts. */
export function rowList(rows: readonly number[], max = 6): string {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}–${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  if (parts.length <= max) return `第${parts.join('、')}行`;
  return `第${parts.slice(0, max).join('、')}…等 ${sorted.length} 行`;
}

interface Group {
  first: ImportIssue;
  rows: number[];
  count: number;
}

/** One line per distinct (place, column, message), in the issues' order. */
export function groupIssues(issues: readonly ImportIssue[]): { line: string; count: number }[] {
  const groups = new Map<string, Group>();
  for (const i of issues) {
    const k = [i.file ?? '', i.sheetName ?? '', i.sheet, i.column ?? '', i.reason, i.row === null ? 'sheet' : 'rows'].join('\u0000');
    const g = groups.get(k);
    if (g) {
      g.count++;
      if (i.row !== null) g.rows.push(i.row);
    } else groups.set(k, { first: i, rows: i.row === null ? [] : [i.row], count: 1 });
  }
  return [...groups.values()].map((g) => ({ line: g.rows.length > 1 ? groupedLine(g) : formatIssue(g.first), count: g.count }));
}

/**
 * The location of a grouped line comes from formatIssue (so one problem and a
 * group of them name the file and tab the same way), with the row list put
 * where the single row would be.
 */
function groupedLine(g: Group): string {
  const MARK = 999_999_999;
  const single = formatIssue({ ...g.first, row: MARK });
  return single.replace(`第${MARK}行`, rowList(g.rows));
}

/** At most `max` lines; when there are more, the last says how many problems are not shown. */
export function issueLines(issues: readonly ImportIssue[], max = MAX_LINES): string[] {
  const groups = groupIssues(issues);
  if (groups.length <= max) return groups.map((g) => g.line);
  const shown = groups.slice(0, max);
  const rest = groups.slice(max).reduce((n, g) => n + g.count, 0);
  return [...shown.map((g) => g.line), `另有 ${rest} 处问题未列出，请先改正以上问题后重新导入`];
}
