import type { EChartsOption } from 'echarts';
import type { DigestData, RankingRow, StageCompletion } from './data.js';

/**
 * ECharts options for the digest, as pure data → option builders: the bot
 * renders them to PNG on the server (src/charts/render.ts), the web dashboard
 * hands the same options to ECharts in the browser. No rendering here.
 */

export const CHART_COLORS = {
  done: '#2e9d5b',
  inProgress: '#3370ff',
  blocked: '#f5a623',
  notStarted: '#c9cdd4',
  overdue: '#e34d59',
  own: '#7f3bf5',
} as const;

const pct = (x: number) => Math.round(x * 1000) / 10;

/** Completion by stage: one horizontal bar per stage, stacked 已完成 / 进行中 / 受阻 / 未开始 / 逾期 (villages). */
export function stageCompletionOption(stages: readonly StageCompletion[], opts: { title?: string } = {}): EChartsOption {
  const names = stages.map((s) => `${s.order}. ${s.name}`);
  const series = (name: string, color: string, pick: (s: StageCompletion) => number) => ({
    name,
    type: 'bar' as const,
    stack: 'villages',
    itemStyle: { color },
    barMaxWidth: 18,
    data: stages.map(pick),
  });
  return {
    title: { text: opts.title ?? '各阶段完成情况（村/社区数）', left: 'center', textStyle: { fontSize: 16 } },
    legend: { top: 28, data: ['已完成', '进行中', '受阻', '未开始', '逾期'] },
    grid: { left: 8, right: 24, top: 60, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: names, axisLabel: { fontSize: 11 } },
    series: [
      series('已完成', CHART_COLORS.done, (s) => s.done),
      series('进行中', CHART_COLORS.inProgress, (s) => s.inProgress),
      series('受阻', CHART_COLORS.blocked, (s) => s.blocked),
      series('未开始', CHART_COLORS.notStarted, (s) => s.notStarted),
      series('逾期', CHART_COLORS.overdue, (s) => s.overdue),
    ],
  };
}

/** 晾晒: completion rate per township (or county), best first; the leader's own unit highlighted. */
export function rankingOption(rows: readonly RankingRow[], opts: { title?: string; limit?: number } = {}): EChartsOption {
  const limit = opts.limit ?? 20;
  let shown = rows.slice(0, limit);
  const own = rows.find((r) => r.own);
  if (own && !shown.includes(own)) shown = [...shown.slice(0, limit - 1), own];
  return {
    title: { text: opts.title ?? '完成率排名', left: 'center', textStyle: { fontSize: 16 } },
    grid: { left: 8, right: 56, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', inverse: true, data: shown.map((r) => `${r.rank}. ${r.name}${r.overdue ? `（逾期${r.overdue}）` : ''}`), axisLabel: { fontSize: 11 } },
    series: [
      {
        name: '完成率',
        type: 'bar',
        barMaxWidth: 18,
        label: { show: true, position: 'right', formatter: '{c}%' },
        data: shown.map((r) => ({ value: pct(r.rate), itemStyle: { color: r.own ? CHART_COLORS.own : r.overdue ? CHART_COLORS.inProgress : CHART_COLORS.done } })),
      },
    ],
  };
}

/**
 * The digest card's one picture: completion by stage on top, the ranking
 * below (when there is more than one unit to compare). Returns the option
 * and the size to render it at.
 */
export function digestChart(data: DigestData): { option: EChartsOption; width: number; height: number } {
  const stages = data.completion.byStage.filter((s) => s.total > 0);
  const rows = data.ranking.rows.slice(0, 15);
  const own = data.ranking.rows.find((r) => r.own);
  if (own && !rows.includes(own)) rows.push(own);
  const stageH = 70 + stages.length * 24;
  const rankH = rows.length > 1 ? 50 + rows.length * 24 : 0;
  const width = 800;
  const height = stageH + rankH + 10;
  const a = stageCompletionOption(stages, { title: `${data.scope.name} 各阶段完成情况（${data.villages} 个村/社区）` });
  if (!rankH) return { option: a, width, height };
  const level = data.ranking.level === 'county' ? '县(市、区)' : '乡镇';
  const b = rankingOption(rows, { title: `${level}完成率排名（晾晒）`, limit: rows.length });
  const option: EChartsOption = {
    title: [{ ...(a.title as object), top: 4 }, { ...(b.title as object), top: stageH + 4 }],
    legend: a.legend,
    grid: [
      { ...(a.grid as object), top: 60, bottom: undefined, height: stageH - 68 },
      { ...(b.grid as object), top: stageH + 40, bottom: undefined, height: rankH - 48 },
    ],
    xAxis: [{ ...(a.xAxis as object), gridIndex: 0 }, { ...(b.xAxis as object), gridIndex: 1 }],
    yAxis: [{ ...(a.yAxis as object), gridIndex: 0 }, { ...(b.yAxis as object), gridIndex: 1 }],
    series: [
      ...(a.series as object[]).map((s) => ({ ...s, xAxisIndex: 0, yAxisIndex: 0 })),
      ...(b.series as object[]).map((s) => ({ ...s, xAxisIndex: 1, yAxisIndex: 1 })),
    ] as EChartsOption['series'],
  };
  return { option, width, height };
}
