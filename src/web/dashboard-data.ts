import type { EChartsOption } from 'echarts';
import type { Runtime } from '../runtime.js';
import { today, type WorkflowContext } from '../workflow/context.js';
import { addDays, daysBetween } from '../workflow/dates.js';
import { CHART_COLORS, rankingOption, stageCompletionOption } from '../workflow/digest/charts.js';
import { buildDigest, canReceiveDigest, digestScope, scopeFacts, type DigestData, type DigestScope, type StructureTargetStat, type TalkCategoryStats } from '../workflow/digest/data.js';
import { loadPrincipal, type Principal } from '../workflow/permissions.js';
import type { IsoDate } from '../workflow/types.js';
import type { DashboardClaims, TokenFailure } from './dashboard-token.js';

/**
 * The leader dashboard's data: the digest of the token's scope (buildDigest,
 * the same numbers the daily card shows), the digest's chart options
 * (charts.ts) plus three more over the same data, and the trend over the
 * campaign from stored completion dates. Nothing outside the scope is read
 * into the answer: the scope comes from the roster, checked against the
 * token, and a township filter must lie inside it.
 */

export interface TrendData {
  dates: IsoDate[];
  /** Required stages done by each day (null after the digest day). */
  actual: (number | null)[];
  /** Required stages due by each day (倒排工期). */
  planned: number[];
  total: number;
}

export interface DashboardView {
  demo: boolean;
  date: IsoDate;
  weekday: string;
  generatedAt: number;
  leader: { name: string; role: string | null };
  scope: { kind: DigestScope['kind']; name: string; county: string | null };
  /** Townships the leader may narrow to (county and province scopes). */
  townships: { id: number; name: string }[];
  filter: { id: number; name: string } | null;
  summary: {
    villages: number;
    townships: number;
    done: number;
    total: number;
    rate: number;
    villagesAllDone: number;
    overdue: number;
    overdueVillages: number;
    dueSoon: number;
    notReported: number;
    talksHeld: number;
    talksTotal: number;
    talksOverdue: number;
    risksOpen: number;
    mustCheck: number;
    completedYesterday: number;
  };
  byStage: DigestData['completion']['byStage'];
  ranking: DigestData['ranking'];
  overdue: DigestData['overdue'];
  dueSoon: DigestData['dueSoon']['items'];
  notReported: DigestData['notReported']['villages'];
  talks: { byCategory: TalkCategoryStats[]; overdueList: DigestData['talks']['overdueList'] };
  structure: Omit<DigestData['structure'], 'targets'>;
  risks: DigestData['risks']['items'];
  trend: TrendData;
  charts: { stages: EChartsOption; ranking?: EChartsOption; talks: EChartsOption; structure: EChartsOption; trend: EChartsOption };
}

export type DashboardAccess = { ok: true; principal: Principal; scope: DigestScope; filterId: number | null } | { ok: false; reason: TokenFailure };

/**
 * Who the link is for, as the roster says now: still a leader (or admin) whose
 * scope is the one the link was made for. A `township` filter must be one of
 * the scope's townships.
 */
export function dashboardAccess(rt: Runtime, claims: DashboardClaims, township?: string): DashboardAccess {
  const ctx = contextOf(rt);
  const roster = ctx.repos.roster;
  const p = loadPrincipal(roster, rt.actorResolver(claims.openId));
  if (!canReceiveDigest(p) || p.scopeId !== claims.scopeId) return { ok: false, reason: 'out_of_scope' };
  let scope: DigestScope;
  try {
    scope = digestScope(ctx, p);
  } catch {
    return { ok: false, reason: 'out_of_scope' };
  }
  if (township === undefined || township === '') return { ok: true, principal: p, scope, filterId: null };
  if (!/^\d{1,12}$/.test(township)) return { ok: false, reason: 'out_of_scope' };
  const t = roster.region(Number(township));
  if (!t || t.kind !== 'township') return { ok: false, reason: 'out_of_scope' };
  const inside = scope.kind === 'all' || (scope.kind === 'county' ? t.parentId === scope.id : t.id === scope.id);
  if (!inside) return { ok: false, reason: 'out_of_scope' };
  if (scope.kind === 'township') return { ok: true, principal: p, scope, filterId: null };
  // The township's view: the digest as its own leader would get it (aggregates of other townships only in the ranking).
  const narrowed: Principal = { ...p, isAdmin: false, role: '领导', scopeId: t.id, scopeKind: 'township', villageIds: new Set() };
  return { ok: true, principal: narrowed, scope: digestScope(ctx, narrowed), filterId: t.id };
}

export function contextOf(rt: Runtime): WorkflowContext {
  return { repos: rt.workflow.repos, tz: rt.config.tz, clock: rt.clock };
}

/** Townships a scope can be narrowed to. */
function townshipsOf(ctx: WorkflowContext, scope: DigestScope): { id: number; name: string }[] {
  if (scope.kind === 'township') return [];
  const counties = new Map(ctx.repos.roster.counties().map((c) => [c.id, c.name]));
  return ctx.repos.roster
    .townships()
    .filter((t) => (scope.kind === 'all' ? true : t.parentId === scope.id))
    .map((t) => ({ id: t.id, name: scope.kind === 'all' ? `${counties.get(t.parentId ?? -1) ?? ''}${t.name}` : t.name }));
}

const MAX_TREND_BEFORE = 120;
const MAX_TREND_AFTER = 60;

/** Required stages done and due per day, from the stored completion dates and deadlines. */
export function trendOf(ctx: WorkflowContext, scope: DigestScope, date: IsoDate, now: number): TrendData {
  const f = scopeFacts(ctx, scope, date, { detail: true, now });
  const doneOn: IsoDate[] = [];
  const deadlines: IsoDate[] = [];
  let total = 0;
  for (const v of f.villages) {
    const rows = f.counties.find((c) => c.countyId === v.countyId)?.rows?.get(v.id) ?? [];
    for (const r of rows) {
      total++;
      if (r.deadline) deadlines.push(r.deadline);
      if (r.status === '已完成') doneOn.push(r.completedOn ?? '0000-00-00');
    }
  }
  const known = [...deadlines, ...doneOn.filter((d) => d !== '0000-00-00')].sort();
  if (!known.length) return { dates: [], actual: [], planned: [], total };
  let start = known[0]!;
  if (daysBetween(start, date) > MAX_TREND_BEFORE) start = addDays(date, -MAX_TREND_BEFORE);
  if (start > date) start = date;
  let end = known[known.length - 1]! > date ? known[known.length - 1]! : date;
  if (daysBetween(date, end) > MAX_TREND_AFTER) end = addDays(date, MAX_TREND_AFTER);
  doneOn.sort();
  deadlines.sort();
  const dates: IsoDate[] = [];
  const actual: (number | null)[] = [];
  const planned: number[] = [];
  let di = 0;
  let pi = 0;
  for (let d = start; d <= end; d = addDays(d, 1)) {
    while (di < doneOn.length && doneOn[di]! <= d) di++;
    while (pi < deadlines.length && deadlines[pi]! <= d) pi++;
    dates.push(d);
    actual.push(d <= date ? di : null);
    planned.push(pi);
  }
  return { dates, actual, planned, total };
}

export function talksOption(cats: readonly TalkCategoryStats[]): EChartsOption {
  const shown = cats.filter((c) => c.total > 0);
  return {
    title: { text: '谈心谈话完成情况（按类别）', left: 'center', textStyle: { fontSize: 16 } },
    legend: { top: 28, data: ['已谈', '逾期未谈', '待谈'] },
    grid: { left: 8, right: 24, top: 60, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: shown.map((c) => c.category), axisLabel: { fontSize: 11 } },
    series: [
      { name: '已谈', type: 'bar', stack: 't', barMaxWidth: 18, itemStyle: { color: CHART_COLORS.done }, data: shown.map((c) => c.held) },
      { name: '逾期未谈', type: 'bar', stack: 't', barMaxWidth: 18, itemStyle: { color: CHART_COLORS.overdue }, data: shown.map((c) => c.overdue) },
      { name: '待谈', type: 'bar', stack: 't', barMaxWidth: 18, itemStyle: { color: CHART_COLORS.notStarted }, data: shown.map((c) => c.total - c.held - c.overdue) },
    ],
  };
}

export function structureOption(stats: readonly StructureTargetStat[]): EChartsOption {
  return {
    title: { text: '新一届班子结构达标率', left: 'center', textStyle: { fontSize: 16 } },
    grid: { left: 8, right: 56, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', inverse: true, data: stats.map((s) => `${s.name}（${s.met}/${s.reported}）`), axisLabel: { fontSize: 11 } },
    series: [
      {
        name: '达标率',
        type: 'bar',
        barMaxWidth: 18,
        label: { show: true, position: 'right', formatter: '{c}%' },
        data: stats.map((s) => ({ value: Math.round(s.rate * 1000) / 10, itemStyle: { color: s.key === 'all' ? CHART_COLORS.own : CHART_COLORS.done } })),
      },
    ],
  };
}

export function trendOption(t: TrendData): EChartsOption {
  return {
    title: { text: '换届进度趋势（必经阶段累计完成数）', left: 'center', textStyle: { fontSize: 16 } },
    legend: { top: 28, data: ['实际完成', '计划应完成'] },
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 24, top: 64, bottom: 8, containLabel: true },
    xAxis: { type: 'category', boundaryGap: false, data: t.dates.map((d) => d.slice(5)) },
    yAxis: { type: 'value', minInterval: 1, max: t.total || undefined },
    series: [
      { name: '实际完成', type: 'line', showSymbol: false, itemStyle: { color: CHART_COLORS.done }, areaStyle: { opacity: 0.15 }, data: t.actual },
      { name: '计划应完成', type: 'line', showSymbol: false, itemStyle: { color: CHART_COLORS.inProgress }, lineStyle: { type: 'dashed' }, data: t.planned },
    ],
  };
}

/** The dashboard of an access that passed dashboardAccess. */
export function buildDashboard(rt: Runtime, access: Extract<DashboardAccess, { ok: true }>, opts: { demo?: boolean } = {}): DashboardView {
  const ctx = contextOf(rt);
  const date = today(ctx);
  const now = ctx.clock.now();
  const data = buildDigest(ctx, access.principal, date, { now, weekly: false });
  const trend = trendOf(ctx, data.scope, date, now);
  const stages = data.completion.byStage.filter((s) => s.total > 0);
  const rankingLevel = data.ranking.level === 'county' ? '县(市、区)' : '乡镇';
  const filterRegion = access.filterId !== null ? ctx.repos.roster.region(access.filterId) : undefined;
  return {
    demo: !!opts.demo,
    date,
    weekday: data.weekday,
    generatedAt: data.generatedAt,
    leader: { name: data.leader.name, role: data.leader.role },
    scope: { kind: data.scope.kind, name: data.scope.name, county: data.scope.county },
    townships: townshipsOf(ctx, access.scope),
    filter: filterRegion ? { id: filterRegion.id, name: filterRegion.name } : null,
    summary: {
      villages: data.villages,
      townships: data.townships,
      done: data.completion.done,
      total: data.completion.total,
      rate: data.completion.rate,
      villagesAllDone: data.completion.villagesAllDone,
      overdue: data.overdue.total,
      overdueVillages: data.overdue.villages.length,
      dueSoon: data.dueSoon.total,
      notReported: data.notReported.villages.length,
      talksHeld: data.talks.held,
      talksTotal: data.talks.total,
      talksOverdue: data.talks.overdue,
      risksOpen: data.risks.open,
      mustCheck: data.risks.mustCheck,
      completedYesterday: data.completedYesterday.total,
    },
    byStage: data.completion.byStage,
    ranking: data.ranking,
    overdue: data.overdue,
    dueSoon: data.dueSoon.items,
    notReported: data.notReported.villages,
    talks: { byCategory: data.talks.byCategory, overdueList: data.talks.overdueList },
    structure: withoutTargets(data.structure),
    risks: data.risks.items,
    trend,
    charts: {
      stages: stageCompletionOption(stages, { title: `${data.scope.name} 各阶段完成情况（${data.villages} 个村/社区）` }),
      ...(data.ranking.rows.length > 1 ? { ranking: rankingOption(data.ranking.rows, { title: `${rankingLevel}完成率排名（${data.ranking.within}）` }) } : {}),
      talks: talksOption(data.talks.byCategory),
      structure: structureOption(data.structure.byTarget),
      trend: trendOption(trend),
    },
  };
}

function withoutTargets(s: DigestData['structure']): DashboardView['structure'] {
  const { targets: _targets, ...rest } = s;
  return rest;
}
