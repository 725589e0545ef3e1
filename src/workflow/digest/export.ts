import type ExcelJS from 'exceljs';
import { loadExcelJS } from '../excel.js';
import type { WorkflowContext } from '../context.js';
import { addDays, daysBetween } from '../dates.js';
import type { Principal } from '../permissions.js';
import { slotOn } from '../schedule/daily-slots.js';
import { stagesFor } from '../stage-templates.js';
import { complianceOf, STRUCTURE_FIELDS } from '../structure.js';
import type { IsoDate } from '../types.js';
import { buildDigest, DigestCache, peopleNames, scopeFacts, type DigestData, type DigestOptions, type DigestScope, type ScopeFacts, type VillageFacts } from './data.js';
import { matrixSheet } from './export-matrix.js';
import {
  asOfText,
  BORDER,
  DATE_FMT,
  DATETIME_FMT,
  excelDate,
  excelDateTime,
  PCT_FMT,
  printSetup,
  tableSheet,
  titleBlock,
  zhCompare,
  type Column,
  type SheetHead,
  type TableRow,
} from './export-print.js';
import { townshipRanking } from './export-ranking.js';

/**
 * 导出: the progress workbook of a leader's scope (or everything, for an
 * admin without a scope), laid out to be printed and handed out at a
 * meeting (export-print.ts: title block, borders, A4 landscape one page
 * wide, the header repeated on every page). Sheets, the printable summaries
 * first and the long detail last:
 *   汇总 · 进度一览 (村 × 阶段) · 逾期清单 · 乡镇排名 · 谈话 · 问题清单 · 班子结构 · 进度总表 (每村每阶段一行)
 * Dates are real Excel dates; moments (登记时间 …) are shown in the
 * campaign's zone, never UTC. Talk notes are not exported.
 */

const TITLE_TAIL = '村(社区)“两委”换届';

/** The workbook's file name: 换届进度_沁源县_2026-11-20.xlsx. */
export function exportFileName(scope: DigestScope, day: IsoDate): string {
  return `换届进度_${scope.name.replace(/[\\/:*?"<>|\s]+/g, '_')}_${day}.xlsx`;
}

/** The report's data: the digest plus the per-stage rows of the scope. */
export function exportData(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: Pick<DigestOptions, 'now'> = {}) {
  const cache = new DigestCache();
  const now = opts.now ?? ctx.clock.now();
  const digest = buildDigest(ctx, leader, date, { cache, detail: true, now, weekly: false, maxListItems: Infinity });
  const facts = scopeFacts(ctx, digest.scope, date, { cache, detail: true, now });
  return { digest, facts };
}

/** 沁源县 / 沁源县沁河镇 / 各县(市、区): who the workbook is about, in its titles. */
function scopeTitle(s: DigestScope): string {
  if (s.kind === 'all') return '各县(市、区)';
  if (s.kind === 'township') return `${s.county ?? ''}${s.name}`;
  return s.name;
}

/** Who made the table: the county's (or township's) 换届 office. */
function unitOf(s: DigestScope): string {
  if (s.kind === 'all') return '制表单位：换届工作领导小组办公室';
  if (s.kind === 'township') return `制表单位：${s.name}党委`;
  return `制表单位：${s.name}换届工作领导小组办公室`;
}

export async function exportProgressXlsx(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: Pick<DigestOptions, 'now'> = {}): Promise<Buffer> {
  const now = opts.now ?? ctx.clock.now();
  const { digest: d, facts } = exportData(ctx, leader, date, { now });
  const wb = new (await loadExcelJS()).Workbook();
  wb.creator = '换届助手';
  wb.created = new Date(now);

  // The figures describe D as of now, or the end of D for a past day.
  const asOf = Math.min(now, slotOn(addDays(date, 1), '00:00', ctx.tz).at - 60_000);
  const scope = d.scope;
  const place = scopeTitle(scope);
  const head = (title: string, notes?: string[]): SheetHead => ({ title, unit: unitOf(scope), asOf: asOfText(ctx.tz, asOf), notes });
  const wide = scope.kind === 'all';
  const countyCol: Column[] = wide ? [{ header: '县(市、区)', width: 10 }] : [];
  const countyOfTownship = new Map<number, string>();
  for (const c of facts.counties) for (const t of c.townships) countyOfTownship.set(t.id, c.county);
  const withCounty = (townshipId: number, rest: unknown[]) => (wide ? [countyOfTownship.get(townshipId) ?? '', ...rest] : rest);
  const byPlace = <T extends { townshipId: number; township: string; village: string }>(a: T, b: T) =>
    (wide ? zhCompare(countyOfTownship.get(a.townshipId) ?? '', countyOfTownship.get(b.townshipId) ?? '') : 0) || zhCompare(a.township, b.township) || zhCompare(a.village, b.village);

  summarySheet(wb, d, head(`${place}${TITLE_TAIL}工作进度汇总`));

  const rowsOf = new Map<number, NonNullable<(typeof facts.counties)[number]['rows']>>();
  for (const c of facts.counties) if (c.rows) rowsOf.set(c.countyId, c.rows);
  const stageRows = (v: VillageFacts) => rowsOf.get(v.countyId)?.get(v.id) ?? [];
  matrixSheet(wb, head(`${place}${TITLE_TAIL}工作进度表`), facts.villages, stageRows, date, { withCounty: wide });

  overdueSheet(wb, d, head(`${place}${TITLE_TAIL}逾期事项清单`), countyCol, withCounty, byPlace);
  rankingSheet(wb, facts, head(`${scope.kind === 'all' ? '各县(市、区)' : (scope.county ?? scope.name)}各乡镇${TITLE_TAIL}工作进度排名`, rankingNotes(scope)));

  const talks = [...facts.talks].sort(
    (a, b) => byPlace({ ...a, village: a.villageId === null ? '' : a.village }, { ...b, village: b.villageId === null ? '' : b.village }) || (a.due ?? '9999').localeCompare(b.due ?? '9999') || a.id - b.id,
  );
  tableSheet(
    wb,
    '谈话',
    head(`${place}${TITLE_TAIL}谈心谈话情况表`),
    [
      { header: '序号', width: 5, align: 'center' },
      ...countyCol,
      { header: '乡镇', width: 10 },
      { header: '村(社区)', width: 11 },
      { header: '谈话类别', width: 20, wrap: true },
      { header: '谈话对象', width: 14, wrap: true },
      { header: '谈话人', width: 16, wrap: true },
      { header: '截止日期', width: 11, numFmt: DATE_FMT },
      { header: '状态', width: 6, align: 'center' },
      { header: '谈话日期', width: 11, numFmt: DATE_FMT },
      { header: '纪律承诺书', width: 9.5, align: 'center' },
      { header: '逾期天数', width: 7, align: 'center' },
    ],
    talks.map((t, i) =>
      [i + 1, ...withCounty(t.townshipId, [
        t.township,
        t.villageId !== null ? t.village : '（乡镇）',
        t.category,
        t.subject,
        t.interviewers.join('、'),
        excelDate(t.due),
        t.held ? '已谈' : '待谈',
        t.held ? excelDate(t.heldOn) : null,
        t.commitmentSigned === null ? '' : t.commitmentSigned ? '已签' : '未签',
        !t.held && t.due !== null && t.due < date ? daysBetween(t.due, date) : null,
      ])],
    ),
    { style: lateDays(wide ? 12 : 11), after: [`共 ${talks.length} 人次，已谈 ${d.talks.held}，逾期未谈 ${d.talks.overdue}。`] },
  );

  const risks = [...facts.risks].sort((a, b) => Number(a.status !== '未结') - Number(b.status !== '未结') || Number(b.mustCheck) - Number(a.mustCheck) || byPlace(a, b) || a.id - b.id);
  tableSheet(
    wb,
    '问题清单',
    head(`${place}${TITLE_TAIL}问题清单`),
    [
      { header: '编号', width: 5, align: 'center' },
      ...countyCol,
      { header: '乡镇', width: 10 },
      { header: '村(社区)', width: 11 },
      { header: '类别', width: 9.5 },
      { header: '程度', width: 5, align: 'center' },
      { header: '四必查', width: 6, align: 'center' },
      { header: '必查情形', width: 14, wrap: true },
      { header: '问题内容', width: 40, wrap: true },
      { header: '状态', width: 5, align: 'center' },
      { header: '登记时间', width: 15, numFmt: DATETIME_FMT },
      { header: '跟进次数', width: 6, align: 'center' },
      { header: '最近跟进', width: 15, numFmt: DATETIME_FMT },
      { header: '销号时间', width: 15, numFmt: DATETIME_FMT },
    ],
    risks.map((r) => [
      r.id,
      ...withCounty(r.townshipId, [
        r.township,
        r.village,
        r.category,
        r.severity,
        r.mustCheck ? '是' : '否',
        r.mustReasons ?? '',
        r.description,
        r.status,
        excelDateTime(ctx.tz, r.openedAt),
        r.followups,
        excelDateTime(ctx.tz, r.lastFollowupAt),
        excelDateTime(ctx.tz, r.closedAt),
      ]),
    ]),
    { after: [`共 ${risks.length} 项，未结 ${d.risks.open}（四必查 ${d.risks.mustCheck}）。`] },
  );

  structureSheet(wb, d, facts, head(`${place}新一届村(社区)“两委”班子结构情况表`), countyCol, wide);

  progressDetailSheet(ctx, wb, facts, stageRows, date, head(`${place}${TITLE_TAIL}工作进度明细表`, ['本表为每村每阶段一行的明细，供筛选、统计使用；会议打印请用「进度一览」，同样的内容只占一两页。']), wide);

  const out = await wb.xlsx.writeBuffer();
  return Buffer.from(out as ArrayBuffer);
}

/** 逾期天数 in red, bold (column index from 0). */
function lateDays(col: number) {
  return (cell: ExcelJS.Cell, _row: number, c: number) => {
    if (c === col && typeof cell.value === 'number' && cell.value > 0) cell.font = { ...cell.font, bold: true, color: { argb: 'FFC00000' } };
  };
}

function rankingNotes(scope: DigestScope): string[] {
  const order = '排序：必经阶段完成率高者在前，相同时逾期项少者在前。';
  if (scope.kind === 'township') return [`说明：${scope.county ?? '全县'}各乡镇的汇总数字（不含其他乡镇的村和人员），本乡镇以粗体、底色标出。${order}`];
  if (scope.kind === 'all') return [`说明：各县(市、区)的乡镇在本县内排名，县按完成率先后排列。${order}`];
  return [`说明：${order}`];
}

// ─── 汇总 ───────────────────────────────────────────────────────────────────

function summarySheet(wb: ExcelJS.Workbook, d: DigestData, head: SheetHead): void {
  // Nine columns: the stage table's; the key figures use 项目 | 数值 (B:C) | 说明 (D:I).
  const ws = wb.addWorksheet('汇总');
  ws.columns = [20, 9.5, 9.5, 9.5, 8, 8, 8, 8, 10].map((width) => ({ width }));
  titleBlock(ws, head, 9);
  const font = { name: '宋体', size: 10 };
  const put = (r: number, c: number, v: unknown, o: { bold?: boolean; fmt?: string; align?: 'left' | 'center' | 'right'; fill?: boolean } = {}) => {
    const cell = ws.getCell(r, c);
    cell.value = v as ExcelJS.CellValue;
    cell.font = { ...font, bold: !!o.bold };
    cell.border = BORDER;
    cell.alignment = { horizontal: o.align ?? 'left', vertical: 'middle', wrapText: true };
    if (o.fmt) cell.numFmt = o.fmt;
    if (o.fill) cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDE6F2' } };
  };
  const line = (r: number, a: unknown, b: unknown, c: string, o: { bold?: boolean; fmt?: string; fill?: boolean } = {}) => {
    ws.mergeCells(r, 2, r, 3);
    ws.mergeCells(r, 4, r, 9);
    const align = o.fill ? 'center' : 'left';
    put(r, 1, a, { bold: o.bold, fill: o.fill, align });
    put(r, 2, b, { bold: o.bold, fmt: o.fmt, align: 'center', fill: o.fill });
    for (const c2 of [3, 5, 6, 7, 8, 9]) ws.getCell(r, c2).border = BORDER;
    put(r, 4, c, { bold: o.bold, fill: o.fill, align });
  };
  let r = ws.rowCount + 1;
  const headerRow = r;
  line(r, '项目', '数值', '说明', { bold: true, fill: true });
  const rows: [string, unknown, string, string?][] = [
    ['范围', d.scope.name, d.scope.kind === 'township' ? `${d.scope.county ?? ''}${d.scope.name}` : d.scope.kind === 'county' ? '县级' : '全部县(市、区)'],
    ['统计日期', excelDate(d.date), `${d.weekday}；“完成”按完成日期不晚于统计日期计`, DATE_FMT],
    ['村(社区)数', d.villages, `${d.townships} 个乡镇`],
    ['必经阶段已完成', d.completion.done, `应完成 ${d.completion.total} 项`],
    ['完成率', d.completion.rate, '已完成 ÷ 全部必经阶段（不含“另行选举”）', PCT_FMT],
    ['全部完成的村(社区)', d.completion.villagesAllDone, ''],
    ['逾期阶段', d.overdue.total, `涉及 ${d.overdue.villageCount} 个村(社区)、${d.overdue.personCount} 名责任人（明细见「逾期清单」）`],
    ['3日内到期', d.dueSoon.total, '阶段和谈话'],
    ['未报送村(社区)', d.notReported.count, `近 ${d.notReported.days} 天无任何登记、且有逾期或 ${d.notReported.horizonDays} 日内到期事项`],
    ['谈话 已谈/计划', `${d.talks.held}/${d.talks.total}`, `逾期未谈 ${d.talks.overdue}`],
    ['未结问题', d.risks.open, `四必查 ${d.risks.mustCheck}，未跟进的必查 ${d.risks.mustCheckWithoutFollowup}`],
    ['已选举村(社区)', d.structure.elected, `已登记班子结构 ${d.structure.reported}`],
  ];
  for (const [a, b, c, fmt] of rows) line(++r, a, b, c, { fmt });

  // 各阶段完成情况.
  r += 2;
  ws.mergeCells(r, 1, r, 9);
  ws.getCell(r, 1).value = '各阶段完成情况';
  ws.getCell(r, 1).font = { ...font, size: 11, bold: true };
  r++;
  ['阶段', '应完成', '已完成', '完成率', '逾期', '进行中', '受阻', '未开始', '3日内到期'].forEach((h, i) => put(r, i + 1, h, { bold: true, align: 'center', fill: true }));
  for (const s of d.completion.byStage) {
    r++;
    [s.name, s.total, s.done, s.total ? s.done / s.total : 0, s.overdue, s.inProgress, s.blocked, s.notStarted, s.dueSoon].forEach((v, i) => put(r, i + 1, v, { align: i ? 'center' : 'left', fmt: i === 3 ? PCT_FMT : undefined }));
    if (s.overdue) ws.getCell(r, 5).font = { ...font, bold: true, color: { argb: 'FFC00000' } };
  }
  printSetup(ws, headerRow, 0, true);
}

// ─── 逾期清单 ──────────────────────────────────────────────────────────────

function overdueSheet(
  wb: ExcelJS.Workbook,
  d: DigestData,
  head: SheetHead,
  countyCol: Column[],
  withCounty: (townshipId: number, rest: unknown[]) => unknown[],
  byPlace: (a: { townshipId: number; township: string; village: string }, b: { townshipId: number; township: string; village: string }) => number,
): void {
  const items = d.overdue.villages
    .flatMap((v) => v.stages.map((s) => ({ v, s, townshipId: v.townshipId, township: v.township, village: v.village })))
    .sort((a, b) => byPlace(a, b) || a.s.deadline.localeCompare(b.s.deadline) || zhCompare(a.s.name, b.s.name));
  const names = (v: (typeof items)[number]['v'], cadres: boolean) =>
    v.responsible
      .filter((p) => (p.role === '干部') === cadres)
      .map((p) => (cadres ? p.name : `${p.name}（${p.role}）`))
      .join('、');
  const cols: Column[] = [
    { header: '序号', width: 5, align: 'center' },
    ...countyCol,
    { header: '乡镇', width: 10 },
    { header: '村(社区)', width: 11 },
    { header: '阶段', width: 18, wrap: true },
    { header: '截止日期', width: 11, numFmt: DATE_FMT },
    { header: '逾期天数', width: 7, align: 'center' },
    { header: '状态', width: 7, align: 'center' },
    { header: '责任干部', width: 14, wrap: true },
    { header: '包村领导、工作组', width: 24, wrap: true },
  ];
  tableSheet(
    wb,
    '逾期清单',
    head,
    cols,
    items.map(({ v, s }, i) => [i + 1, ...withCounty(v.townshipId, [v.township, v.village, s.name, excelDate(s.deadline), s.days, s.status, names(v, true), names(v, false)])]),
    { style: lateDays(countyCol.length + 5), after: [`共 ${items.length} 项逾期，涉及 ${d.overdue.villageCount} 个村(社区)。按乡镇、村(社区)、截止日期排序。`] },
  );
}

// ─── 乡镇排名 ──────────────────────────────────────────────────────────────

function rankingSheet(wb: ExcelJS.Workbook, facts: ScopeFacts, head: SheetHead): void {
  const groups = townshipRanking(facts.counties, facts.scope);
  const all = facts.scope.kind === 'all';
  const rows: TableRow[] = [];
  const own = new Set<number>();
  for (const g of groups) {
    if (all) rows.push({ group: `${g.county}（各县第 ${g.countyRank} 名）：${g.rows.length} 个乡镇、${g.villages} 个村(社区)，完成 ${g.done}/${g.total}（${((g.rate || 0) * 100).toFixed(1)}%），逾期 ${g.overdue} 项` });
    for (const t of g.rows) {
      if (t.own) own.add(rows.length);
      rows.push([t.rank, t.own ? `${t.name}（本乡镇）` : t.name, t.villages, t.villagesAllDone, t.done, t.total, t.rate, t.dueTotal, t.dueTotal ? t.dueDone / t.dueTotal : null, t.overdue, t.completedYesterday]);
    }
  }
  tableSheet(
    wb,
    '乡镇排名',
    head,
    [
      { header: '排名', width: 5, align: 'center' },
      { header: '乡镇', width: 16 },
      { header: '村(社区)数', width: 8, align: 'center' },
      { header: '全部完成的村(社区)', width: 10, align: 'center' },
      { header: '已完成', width: 8, align: 'center' },
      { header: '应完成', width: 8, align: 'center' },
      { header: '完成率', width: 8, numFmt: PCT_FMT },
      { header: '到期应完成', width: 9.5, align: 'center' },
      { header: '按时完成率', width: 9.5, numFmt: PCT_FMT },
      { header: '逾期项', width: 7, align: 'center' },
      { header: '昨日完成', width: 8, align: 'center' },
    ],
    rows,
    {
      headerHeight: 30,
      style(cell, ri) {
        if (!own.has(ri)) return;
        cell.font = { ...cell.font, bold: true };
        cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF2CC' } };
      },
    },
  );
}

// ─── 班子结构 ──────────────────────────────────────────────────────────────

function structureSheet(wb: ExcelJS.Workbook, d: DigestData, facts: ScopeFacts, head: SheetHead, countyCol: Column[], wide: boolean): void {
  const targets = d.structure.targets;
  const yn = (x: number | null | undefined) => (x === null || x === undefined ? '' : x ? '是' : '否');
  const villages = [...facts.villages].sort((a, b) => (wide ? zhCompare(a.county, b.county) : 0) || zhCompare(a.township, b.township) || zhCompare(a.name, b.name));
  tableSheet(
    wb,
    '班子结构',
    head,
    [
      { header: '序号', width: 5, align: 'center' },
      ...countyCol,
      { header: '乡镇', width: 10 },
      { header: '村(社区)', width: 11 },
      { header: '类型', width: 5, align: 'center' },
      { header: '选举完成', width: 7, align: 'center' },
      { header: '一肩挑', width: 6, align: 'center' },
      { header: '大学生', width: 6, align: 'center' },
      { header: '35岁以下', width: 7, align: 'center' },
      { header: '女性', width: 5, align: 'center' },
      { header: '党员比例', width: 7, numFmt: PCT_FMT },
      { header: '全部达标', width: 7, align: 'center' },
      { header: '未达标项', width: 24, wrap: true },
    ],
    villages.map((v, i) => {
      const s = facts.structures.get(v.id);
      const c = s ? complianceOf({ ...s, village_id: s.villageId, updated_by: '' }, targets) : null;
      return [
        i + 1,
        ...(wide ? [v.county] : []),
        v.township,
        v.name,
        v.type,
        v.elected ? '是' : '否',
        s ? yn(s.one_shoulder) : '',
        s?.graduates ?? null,
        s?.under35 ?? null,
        s?.women ?? null,
        s?.party_ratio ?? null,
        c ? (c.all === null ? '未报全' : c.all ? '是' : '否') : '',
        c ? STRUCTURE_FIELDS.filter((f) => c[f.key] === false).map((f) => f.name).join('、') : '',
      ];
    }),
    { after: [`已选举 ${d.structure.elected} 个村(社区)，已登记班子结构 ${d.structure.reported} 个；选举完成但未登记 ${d.structure.missingCount} 个，未达标 ${d.structure.unmetCount} 个。`] },
  );
}

// ─── 进度总表 (明细) ───────────────────────────────────────────────────────

function progressDetailSheet(
  ctx: WorkflowContext,
  wb: ExcelJS.Workbook,
  facts: ScopeFacts,
  stageRows: (v: VillageFacts) => readonly { key: string; status: string; completedOn: IsoDate | null; deadline: IsoDate | null; updatedBy: string | null }[],
  date: IsoDate,
  head: SheetHead,
  wide: boolean,
): void {
  const villages = [...facts.villages].sort((a, b) => (wide ? zhCompare(a.county, b.county) : 0) || zhCompare(a.township, b.township) || zhCompare(a.name, b.name));
  const who = new Set<string>();
  for (const v of villages) for (const r of stageRows(v)) if (r.updatedBy) who.add(r.updatedBy);
  const names = peopleNames(ctx, [...who]);
  const stageName = new Map<string, string>();
  for (const t of ['村', '社区'] as const) for (const s of stagesFor(t)) stageName.set(`${t}|${s.key}`, s.name);
  const order = new Map(stagesFor('村').map((s) => [s.key, s.order]));
  const rows: unknown[][] = [];
  for (const v of villages) {
    const resp = v.responsible.map((p) => p.name).join('、');
    for (const r of stageRows(v)) {
      const done = r.status === '已完成' && (r.completedOn === null || r.completedOn <= date);
      const late = !done && r.deadline !== null && r.deadline < date ? daysBetween(r.deadline, date) : null;
      rows.push([
        v.county,
        v.township,
        v.name,
        v.type,
        excelDate(v.electionDay),
        order.get(r.key) ?? null,
        stageName.get(`${v.type}|${r.key}`) ?? r.key,
        r.status,
        excelDate(r.deadline),
        excelDate(r.completedOn),
        late,
        r.updatedBy ? (names.get(r.updatedBy) ?? r.updatedBy) : '',
        resp,
      ]);
    }
  }
  tableSheet(
    wb,
    '进度总表',
    head,
    [
      { header: '县', width: 9.5 },
      { header: '乡镇', width: 10 },
      { header: '村社区', width: 11 },
      { header: '类型', width: 5, align: 'center' },
      { header: '选举日', width: 11, numFmt: DATE_FMT },
      { header: '序号', width: 5, align: 'center' },
      { header: '阶段', width: 20 },
      { header: '状态', width: 7, align: 'center' },
      { header: '截止日期', width: 11, numFmt: DATE_FMT },
      { header: '完成日期', width: 11, numFmt: DATE_FMT },
      { header: '逾期天数', width: 7, align: 'center' },
      { header: '登记人', width: 9.5 },
      { header: '责任人', width: 24, wrap: true },
    ],
    rows,
    { style: lateDays(10) },
  );
}
