import type ExcelJS from 'exceljs';
import { loadExcelJS } from '../excel.js';
import type { WorkflowContext } from '../context.js';
import { daysBetween } from '../dates.js';
import type { Principal } from '../permissions.js';
import { stagesFor } from '../stage-templates.js';
import { complianceOf, STRUCTURE_FIELDS } from '../structure.js';
import type { IsoDate } from '../types.js';
import { todayIn } from '../dates.js';
import { buildDigest, DigestCache, peopleNames, scopeFacts, type DigestData, type DigestOptions } from './data.js';

/**
 * 导出: the progress report as an .xlsx for a leader's scope (or everything,
 * for an admin without a scope). Sheets: 汇总, 进度总表 (one row per village
 * and stage: status, deadline, completion date), 逾期清单, 谈话, 问题清单,
 * 班子结构, 乡镇排名. Chinese headers, the header row frozen and filterable,
 * dates as real Excel dates. Talk notes are not exported.
 */

const DATE_FMT = 'yyyy-mm-dd';

function asDate(d: IsoDate | null | undefined): Date | null {
  if (!d) return null;
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, day));
}

interface Col {
  header: string;
  width: number;
  date?: boolean;
  pct?: boolean;
}

function sheet(wb: ExcelJS.Workbook, name: string, cols: Col[], rows: unknown[][]): ExcelJS.Worksheet {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = cols.map((c) => ({ header: c.header, width: c.width, style: c.date ? { numFmt: DATE_FMT } : c.pct ? { numFmt: '0.0%' } : {} }));
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8F0FE' } };
  for (const r of rows) ws.addRow(r);
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: cols.length } };
  return ws;
}

/** The report's data: the digest plus the per-stage rows of the scope. */
export function exportData(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: Pick<DigestOptions, 'now'> = {}) {
  const cache = new DigestCache();
  const now = opts.now ?? ctx.clock.now();
  const digest = buildDigest(ctx, leader, date, { cache, detail: true, now, weekly: false, maxListItems: Infinity });
  const facts = scopeFacts(ctx, digest.scope, date, { cache, detail: true, now });
  return { digest, facts };
}

export async function exportProgressXlsx(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: Pick<DigestOptions, 'now'> = {}): Promise<Buffer> {
  const { digest: d, facts } = exportData(ctx, leader, date, opts);
  const wb = new (await loadExcelJS()).Workbook();
  wb.creator = '换届助手';
  wb.created = new Date(d.generatedAt);

  summarySheet(wb, d);

  // 进度总表: one row per village and required stage.
  const who = new Set<string>();
  for (const c of facts.counties) for (const rows of c.rows?.values() ?? []) for (const r of rows) if (r.updatedBy) who.add(r.updatedBy);
  const names = peopleNames(ctx, [...who]);
  const stageName = new Map<string, string>();
  for (const t of ['村', '社区'] as const) for (const s of stagesFor(t)) stageName.set(`${t}|${s.key}`, s.name);
  const order = new Map(stagesFor('村').map((s) => [s.key, s.order]));
  const progress: unknown[][] = [];
  const rowsOf = new Map<number, NonNullable<(typeof facts.counties)[number]['rows']>>();
  for (const c of facts.counties) if (c.rows) rowsOf.set(c.countyId, c.rows);
  for (const v of facts.villages) {
    const rows = rowsOf.get(v.countyId)?.get(v.id) ?? [];
    const resp = v.responsible.map((p) => p.name).join('、');
    for (const r of rows) {
      const done = r.status === '已完成' && (r.completedOn === null || r.completedOn <= date);
      const late = !done && r.deadline !== null && r.deadline < date ? daysBetween(r.deadline, date) : null;
      progress.push([
        v.county,
        v.township,
        v.name,
        v.type,
        asDate(v.electionDay),
        order.get(r.key) ?? null,
        stageName.get(`${v.type}|${r.key}`) ?? r.key,
        r.status,
        asDate(r.deadline),
        asDate(r.completedOn),
        late,
        r.updatedBy ? (names.get(r.updatedBy) ?? r.updatedBy) : '',
        resp,
      ]);
    }
  }
  sheet(
    wb,
    '进度总表',
    [
      { header: '县', width: 10 },
      { header: '乡镇', width: 12 },
      { header: '村社区', width: 14 },
      { header: '类型', width: 6 },
      { header: '选举日', width: 12, date: true },
      { header: '序号', width: 6 },
      { header: '阶段', width: 20 },
      { header: '状态', width: 8 },
      { header: '截止日期', width: 12, date: true },
      { header: '完成日期', width: 12, date: true },
      { header: '逾期天数', width: 9 },
      { header: '登记人', width: 10 },
      { header: '责任人', width: 24 },
    ],
    progress,
  );

  sheet(
    wb,
    '逾期清单',
    [
      { header: '乡镇', width: 12 },
      { header: '村社区', width: 14 },
      { header: '阶段', width: 20 },
      { header: '截止日期', width: 12, date: true },
      { header: '逾期天数', width: 9 },
      { header: '状态', width: 8 },
      { header: '责任人', width: 28 },
    ],
    d.overdue.villages.flatMap((v) => v.stages.map((s) => [v.township, v.village, s.name, asDate(s.deadline), s.days, s.status, v.responsible.map((p) => `${p.name}（${p.role}）`).join('、')])),
  );

  sheet(
    wb,
    '谈话',
    [
      { header: '谈话类别', width: 22 },
      { header: '谈话对象', width: 12 },
      { header: '乡镇', width: 12 },
      { header: '村社区', width: 14 },
      { header: '截止日期', width: 12, date: true },
      { header: '状态', width: 8 },
      { header: '谈话日期', width: 12, date: true },
      { header: '纪律承诺书', width: 10 },
      { header: '谈话人', width: 20 },
      { header: '逾期天数', width: 9 },
    ],
    [...facts.talks].sort((a, b) => (a.due ?? '9999') .localeCompare(b.due ?? '9999') || a.id - b.id).map((t) => [
      t.category,
      t.subject,
      t.township,
      t.villageId !== null ? t.village : '（乡镇）',
      asDate(t.due),
      t.held ? '已谈' : '待谈',
      t.held ? asDate(t.heldOn) : null,
      t.commitmentSigned === null ? '' : t.commitmentSigned ? '已签' : '未签',
      t.interviewers.join('、'),
      !t.held && t.due !== null && t.due < date ? daysBetween(t.due, date) : null,
    ]),
  );

  sheet(
    wb,
    '问题清单',
    [
      { header: '编号', width: 6 },
      { header: '乡镇', width: 12 },
      { header: '村社区', width: 14 },
      { header: '类别', width: 10 },
      { header: '程度', width: 6 },
      { header: '四必查', width: 7 },
      { header: '必查情形', width: 16 },
      { header: '问题内容', width: 48 },
      { header: '状态', width: 6 },
      { header: '登记日期', width: 12, date: true },
      { header: '跟进次数', width: 9 },
      { header: '最近跟进', width: 12, date: true },
      { header: '销号日期', width: 12, date: true },
    ],
    [...facts.risks]
      .sort((a, b) => Number(b.mustCheck) - Number(a.mustCheck) || a.id - b.id)
      .map((r) => [
        r.id,
        r.township,
        r.village,
        r.category,
        r.severity,
        r.mustCheck ? '是' : '否',
        r.mustReasons ?? '',
        r.description,
        r.status,
        asDate(todayIn(ctx.tz, r.openedAt)),
        r.followups,
        r.lastFollowupAt !== null ? asDate(todayIn(ctx.tz, r.lastFollowupAt)) : null,
        r.closedAt !== null ? asDate(todayIn(ctx.tz, r.closedAt)) : null,
      ]),
  );

  const targets = d.structure.targets;
  const yn = (x: number | null | undefined) => (x === null || x === undefined ? '' : x ? '是' : '否');
  sheet(
    wb,
    '班子结构',
    [
      { header: '乡镇', width: 12 },
      { header: '村社区', width: 14 },
      { header: '类型', width: 6 },
      { header: '选举完成', width: 9 },
      { header: '一肩挑', width: 8 },
      { header: '大学生', width: 8 },
      { header: '35岁以下', width: 9 },
      { header: '女性', width: 6 },
      { header: '党员比例', width: 9, pct: true },
      { header: '全部达标', width: 9 },
      { header: '未达标项', width: 24 },
    ],
    facts.villages.map((v) => {
      const s = facts.structures.get(v.id);
      const c = s ? complianceOf({ ...s, village_id: s.villageId, updated_by: '' }, targets) : null;
      return [
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
  );

  const level = d.ranking.level === 'county' ? '县(市、区)' : '乡镇';
  sheet(
    wb,
    `${level}排名`,
    [
      { header: '排名', width: 6 },
      { header: level, width: 14 },
      { header: '村(社区)数', width: 10 },
      { header: '已完成', width: 8 },
      { header: '应完成总数', width: 10 },
      { header: '完成率', width: 8, pct: true },
      { header: '到期应完成', width: 10 },
      { header: '按时完成率', width: 10, pct: true },
      { header: '逾期项', width: 8 },
      { header: '昨日完成', width: 9 },
    ],
    d.ranking.rows.map((r) => [r.rank, r.name, r.villages, r.done, r.total, r.rate, r.dueTotal, r.dueTotal ? r.dueDone / r.dueTotal : null, r.overdue, r.completedYesterday]),
  );

  const out = await wb.xlsx.writeBuffer();
  return Buffer.from(out as ArrayBuffer);
}

function summarySheet(wb: ExcelJS.Workbook, d: DigestData): void {
  const ws = wb.addWorksheet('汇总', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = [
    { header: '项目', width: 26 },
    { header: '数值', width: 18 },
    { header: '说明', width: 60 },
  ];
  ws.getRow(1).font = { bold: true };
  const rows: [string, unknown, string][] = [
    ['范围', d.scope.name, d.scope.kind === 'township' ? `${d.scope.county ?? ''}` : ''],
    ['统计日期', asDate(d.date), `数据截至 ${new Date(d.generatedAt).toISOString()}`],
    ['村(社区)数', d.villages, `${d.townships} 个乡镇`],
    ['必经阶段已完成', d.completion.done, `应完成 ${d.completion.total} 项`],
    ['完成率', d.completion.rate, '已完成 ÷ 全部必经阶段（不含“另行选举”）'],
    ['全部完成的村(社区)', d.completion.villagesAllDone, ''],
    ['逾期阶段', d.overdue.total, `涉及 ${d.overdue.villageCount} 个村(社区)`],
    ['3日内到期', d.dueSoon.total, '阶段和谈话'],
    ['未报送村(社区)', d.notReported.count, `近 ${d.notReported.days} 天无任何登记、且有逾期或 ${d.notReported.horizonDays} 日内到期事项`],
    ['谈话 已谈/计划', `${d.talks.held}/${d.talks.total}`, `逾期未谈 ${d.talks.overdue}`],
    ['未结问题', d.risks.open, `四必查 ${d.risks.mustCheck}，未跟进的必查 ${d.risks.mustCheckWithoutFollowup}`],
    ['已选举村(社区)', d.structure.elected, `已登记班子结构 ${d.structure.reported}`],
  ];
  for (const r of rows) ws.addRow(r);
  ws.getCell('B3').numFmt = DATE_FMT;
  ws.getCell('B6').numFmt = '0.0%';
}
