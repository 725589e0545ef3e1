import type ExcelJS from 'exceljs';
import { stagesFor } from '../stage-templates.js';
import type { IsoDate, VillageType } from '../types.js';
import type { StageRowFacts, VillageFacts } from './data.js';
import { monthDay, tableSheet, zhCompare, type Column, type SheetHead } from './export-print.js';

/**
 * 进度一览: one row per village (乡镇, 村社区), one column per required
 * stage, the way county offices draw the progress table for a meeting:
 *   ✓ 11-20      done (the completion date)
 *   11-25        not done yet (the deadline)
 *   进行 11-25   in progress (the deadline)
 *   逾期 11-15   deadline passed, not done — red fill, red bold font
 *   受阻 11-25   reported blocked — yellow fill (red when also overdue)
 * Villages sorted by county (province-wide), township, then name.
 */

export const MATRIX_LEGEND =
  '说明：“✓ 11-20”已完成（完成日期）；“11-25”未完成（截止日期）；“进行 11-25”进行中；红底“逾期 11-15”已过截止日期仍未完成；' +
  '黄底“受阻 11-25”报告受阻（已逾期时为红底）；“—”未定选举日、无截止日期。';

export const OVERDUE_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } };
export const OVERDUE_FONT_COLOR = 'FFC00000';
const BLOCKED_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFEB9C' } };
const DONE_FONT_COLOR = 'FF006100';

/** Names shown when 村 and 社区 are both in scope and their templates name a stage differently. */
const MIXED_NAMES: Record<string, string> = { committee_election: '村(居)委会选举', supervision: '监委会及小组长推选' };

export type CellState = 'done' | 'todo' | 'active' | 'overdue' | 'blocked' | 'blocked-overdue';

export interface MatrixCell {
  text: string;
  state: CellState;
}

/** The required stages as columns: keys in template order, names for the village types in scope. */
export function matrixStages(types: ReadonlySet<VillageType>): { key: string; name: string }[] {
  const village = stagesFor('村').filter((s) => !s.optional);
  const community = new Map(stagesFor('社区').map((s) => [s.key, s.name]));
  return village.map((s) => {
    const other = community.get(s.key) ?? s.name;
    const name = !types.has('社区') ? s.name : !types.has('村') ? other : other === s.name ? s.name : (MIXED_NAMES[s.key] ?? `${s.name}/${other}`);
    return { key: s.key, name };
  });
}

/** One stage of one village as of day D (a completion recorded after D is still in progress on D). */
export function matrixCell(r: StageRowFacts | undefined, date: IsoDate): MatrixCell {
  if (!r) return { text: '', state: 'todo' };
  const done = r.status === '已完成' && (r.completedOn === null || r.completedOn <= date);
  if (done) return { text: r.completedOn ? `✓ ${monthDay(r.completedOn)}` : '✓', state: 'done' };
  const late = r.deadline !== null && r.deadline < date;
  const due = r.deadline ? monthDay(r.deadline) : '—';
  if (r.status === '受阻') return { text: `受阻 ${due}`, state: late ? 'blocked-overdue' : 'blocked' };
  if (late) return { text: `逾期 ${due}`, state: 'overdue' };
  if (r.status === '进行中' || r.status === '已完成') return { text: `进行 ${due}`, state: 'active' };
  return { text: due, state: 'todo' };
}

export function matrixSheet(
  wb: ExcelJS.Workbook,
  head: SheetHead,
  villages: readonly VillageFacts[],
  rowsOf: (v: VillageFacts) => readonly StageRowFacts[],
  date: IsoDate,
  opts: { withCounty: boolean },
): ExcelJS.Worksheet {
  const stages = matrixStages(new Set(villages.map((v) => v.type)));
  const sorted = [...villages].sort((a, b) => (opts.withCounty ? zhCompare(a.county, b.county) : 0) || zhCompare(a.township, b.township) || zhCompare(a.name, b.name));
  const states: CellState[][] = [];
  let done = 0;
  let total = 0;
  let overdue = 0;
  const rows = sorted.map((v, i) => {
    const byKey = new Map(rowsOf(v).map((r) => [r.key, r]));
    const cells = stages.map((s) => (byKey.has(s.key) ? matrixCell(byKey.get(s.key), date) : { text: '', state: 'todo' as const }));
    states.push(cells.map((c) => c.state));
    const vDone = cells.filter((c) => c.state === 'done').length;
    const vLate = cells.filter((c) => c.state === 'overdue' || c.state === 'blocked-overdue').length;
    done += vDone;
    total += byKey.size;
    overdue += vLate;
    return [i + 1, ...(opts.withCounty ? [v.county] : []), v.township, v.name, v.electionDay ? monthDay(v.electionDay) : '', ...cells.map((c) => c.text), `${vDone}/${byKey.size}`, vLate || null];
  });
  const lead: Column[] = [
    { header: '序号', width: 5, align: 'center' },
    ...(opts.withCounty ? [{ header: '县(市、区)', width: 9.5 }] : []),
    { header: '乡镇', width: 9.5 },
    { header: '村(社区)', width: 11 },
    { header: '选举日', width: 6.5, align: 'center' },
  ];
  const cols: Column[] = [...lead, ...stages.map((s): Column => ({ header: s.name, width: 8.75, align: 'center' })), { header: '已完成', width: 6, align: 'center' }, { header: '逾期', width: 5, align: 'center' }];
  const first = lead.length;
  const pct = total ? ((done / total) * 100).toFixed(1) : '0.0';
  const { ws } = tableSheet(wb, '进度一览', { ...head, notes: [MATRIX_LEGEND, ...(head.notes ?? [])] }, cols, rows, {
    freezeColumns: first,
    headerHeight: 40,
    fontSize: 9,
    after: [`合计：${sorted.length} 个村(社区)，必经阶段已完成 ${done}/${total} 项（${pct}%），逾期 ${overdue} 项。`],
    style(cell, ri, ci) {
      const s = ci >= first && ci < first + stages.length ? states[ri]![ci - first]! : null;
      if (s === 'done') cell.font = { ...cell.font, color: { argb: DONE_FONT_COLOR } };
      else if (s === 'overdue' || s === 'blocked-overdue') {
        cell.fill = OVERDUE_FILL;
        cell.font = { ...cell.font, bold: true, color: { argb: OVERDUE_FONT_COLOR } };
      } else if (s === 'blocked') cell.fill = BLOCKED_FILL;
      if (ci === cols.length - 1 && cell.value) cell.font = { ...cell.font, bold: true, color: { argb: OVERDUE_FONT_COLOR } };
    },
  });
  return ws;
}
