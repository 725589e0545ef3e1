import { card, escapeMd, hr, linkButton, md, type Card, type CardElement, type HeaderTemplate } from '../../bot/cards.js';
import { formatDateCn } from '../dates.js';
import type { DigestData, OverdueVillage, PersonRef, RankingRow } from './data.js';
import { todayIn } from '../dates.js';
import { overdueByPerson } from './data.js';

/**
 * The digest as a Lark card (JSON 2.0; markdown, hr, img and button only).
 * Lark refuses cards over 30 KB, so long lists are cut to fit — the cut says
 * how many were left out (另有 N …) and what is shown keeps the names.
 */

export interface DigestCardOptions {
  /** The uploaded chart; the card works without it. */
  imageKey?: string | null;
  /** Adds a 查看详情 button to the web dashboard. */
  dashboardUrl?: string;
  /** Byte budget of the card JSON (default 28 KB, under Lark's 30 KB). */
  maxBytes?: number;
  /** Time zone for the 截至 line (default Asia/Shanghai). */
  tz?: string;
}

const DEFAULT_MAX_BYTES = 28 * 1024;
/** List lengths tried in turn until the card fits. */
const TIERS = [15, 10, 7, 5, 3, 2, 1] as const;

export const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
const e = escapeMd;

export function cardBytes(c: Card): number {
  return Buffer.byteLength(JSON.stringify(c), 'utf8');
}

/** Lines, then "…另有 N 项" when cut. */
function listed<T>(items: readonly T[], limit: number, line: (x: T) => string, unit = '项', total = items.length): string[] {
  const out = items.slice(0, limit).map(line);
  const shown = Math.min(limit, items.length);
  if (total > shown) out.push(`…另有 ${total - shown} ${unit}`);
  return out;
}

function names(people: readonly (PersonRef | string)[], max = 3): string {
  const ns = people.map((p) => (typeof p === 'string' ? p : p.name));
  if (!ns.length) return '无人负责';
  return ns.slice(0, max).map(e).join('、') + (ns.length > max ? ` 等${ns.length}人` : '');
}

function placeOf(data: Pick<DigestData, 'scope'>, township: string, village: string): string {
  return data.scope.kind === 'township' ? e(village) : `${e(township)}${e(village)}`;
}

function daysText(n: number): string {
  return n === 0 ? '今天到期' : `${n}天后到期`;
}

function section(title: string, lines: string[]): CardElement {
  return md([`**${title}**`, ...lines].join('\n'));
}

function headerTemplate(data: DigestData): HeaderTemplate {
  if (data.risks.mustCheckWithoutFollowup > 0) return 'red';
  if (data.overdue.total > 0) return 'orange';
  return 'green';
}

function scopeLabel(data: DigestData): string {
  const kind = data.scope.kind === 'county' ? '县级' : data.scope.kind === 'township' ? `${data.scope.county ?? ''} 乡镇级` : '全部';
  return `${data.scope.name}（${kind.trim()}）· ${data.villages} 个村(社区)`;
}

function overviewLines(data: DigestData): string[] {
  const c = data.completion;
  return [
    `**总体进度**：完成 ${c.done}/${c.total} 项（${pct(c.rate)}），${c.villagesAllDone}/${data.villages} 个村(社区)全部完成`,
    `🔴 逾期 **${data.overdue.total}** 项（${data.overdue.villageCount} 个村）　🟠 ${data.dueSoon.total} 项 3 日内到期　📭 未报送 ${data.notReported.count} 个村　⚠️ 未结问题 ${data.risks.open}（四必查 ${data.risks.mustCheck}）`,
  ];
}

function stageLines(data: DigestData): string[] {
  return data.completion.byStage
    .filter((s) => s.total > 0)
    .map((s) => {
      const extra = [s.overdue ? `🔴逾期${s.overdue}` : '', s.blocked ? `⚠️受阻${s.blocked}` : '', s.dueSoon ? `🟠即将到期${s.dueSoon}` : ''].filter(Boolean).join(' ');
      return `${s.order}. ${s.name}　${s.done}/${s.total}（${pct(s.total ? s.done / s.total : 0)}）${extra ? ' ' + extra : ''}`;
    });
}

function overdueVillageLine(data: DigestData, v: OverdueVillage, stageMax: number): string {
  const st = v.stages.slice(0, stageMax).map((s) => `${s.name}逾期${s.days}天`).join('、') + (v.stages.length > stageMax ? ` 等${v.stages.length}项` : '');
  return `🔴 ${placeOf(data, v.township, v.village)}（${names(v.responsible)}）：${st}`;
}

function rankingLines(rows: readonly RankingRow[], limit: number): string[] {
  const medal = ['🥇', '🥈', '🥉'];
  const line = (r: RankingRow) =>
    `${medal[r.rank - 1] ?? `${r.rank}.`} ${r.own ? '**' : ''}${e(r.name)}${r.own ? '**（本乡镇）' : ''} ${pct(r.rate)}（${r.done}/${r.total}）${r.overdue ? ` 逾期${r.overdue}` : ''}${r.completedYesterday ? ` 昨日完成${r.completedYesterday}` : ''}`;
  if (rows.length <= limit + 2) return rows.map(line);
  const head = Math.ceil(limit / 2);
  const tail = Math.max(1, limit - head);
  const shown = new Set([...rows.slice(0, head), ...rows.slice(-tail), ...rows.filter((r) => r.own)]);
  const out: string[] = [];
  let gap = 0;
  for (const r of rows) {
    if (shown.has(r)) {
      if (gap) out.push(`…（中间 ${gap} 个）`);
      gap = 0;
      out.push(line(r));
    } else gap++;
  }
  return out;
}

function sections(data: DigestData, limit: number, imageKey: string | null | undefined): CardElement[] {
  const d = data.date;
  const out: CardElement[] = [md(overviewLines(data).join('\n'))];
  if (imageKey) out.push({ tag: 'img', img_key: imageKey, alt: { tag: 'plain_text', content: `${data.scope.name}各阶段完成情况与排名` } });

  out.push(hr(), section('分阶段完成情况', stageLines(data)));

  const y = data.completedYesterday;
  const yLines = [
    y.total
      ? `共 ${y.total} 项：${y.byStage.map((s) => `${s.name} ${s.count}`).join('、')}`
      : '昨日没有登记完成的阶段。',
  ];
  if (y.total) yLines.push(listed(y.items, limit * 2, (i) => `${placeOf(data, i.township, i.village)}·${i.stage}${i.by ? `（${e(i.by)}）` : ''}`, '项', y.total).join('、'));
  if (y.talksHeld) yLines.push(`谈心谈话 ${y.talksHeld} 次。`);
  out.push(hr(), section(`昨日完成（${formatDateCn(y.date, d)}）`, yLines));

  const o = data.overdue;
  const oLines = o.total
    ? [
        ...listed(o.villages, limit, (v) => overdueVillageLine(data, v, 3), '个村', o.villageCount),
        `**责任人**：${listed(o.byPerson, limit, (p) => `${e(p.name)} ${p.items}项（${p.villageCount}个村）`, '人', o.personCount).join('、')}`,
      ]
    : ['✅ 没有逾期事项。'];
  out.push(hr(), section(`逾期清单（${o.total} 项，${o.villageCount} 个村，按逾期天数）`, oLines));

  const ds = data.dueSoon;
  out.push(
    hr(),
    section(
      `3 日内到期（${formatDateCn(ds.from, d)}—${formatDateCn(ds.to, d)}，${ds.total} 项）`,
      ds.total
        ? listed(ds.items, limit, (i) => `${formatDateCn(i.deadline, d)}（${daysText(i.daysLeft)}）${placeOf(data, i.township, i.village)}·${e(i.what)}（${names(i.responsible, 2)}）`, '项', ds.total)
        : ['近 3 日没有到期事项。'],
    ),
  );

  const nr = data.notReported;
  const nrLines = nr.count
    ? [
        ...listed(nr.villages, limit, (v) => `📭 ${placeOf(data, v.township, v.village)}（${names(v.responsible)}）${v.lastActivityDate ? `最近登记 ${formatDateCn(v.lastActivityDate, d)}` : '从未登记'}，待办 ${v.openItems} 项`, '个村', nr.count),
        `**责任人**：${listed(nr.people, limit, (p) => `${e(p.name)}（${p.villageCount}个村）`, '人', nr.peopleCount).join('、')}`,
      ]
    : ['✅ 有待办事项的村(社区)近期都有登记。'];
  out.push(hr(), section(`未报送（近 ${nr.days} 天无任何登记、且有逾期或 ${nr.horizonDays} 日内到期事项）：${nr.count} 个村`, nrLines));

  const t = data.talks;
  const tLines = t.total
    ? [
        ...t.byCategory.filter((c) => c.total > 0).map((c) => `${e(c.category)} ${c.held}/${c.total}（${pct(c.rate)}）${c.overdue ? ` 🔴逾期${c.overdue}` : ''}`),
        ...(t.overdueList.length
          ? ['**逾期未谈**：', ...listed(t.overdueList, limit, (x) => `${e(x.category)}：${e(x.subject)}（${e(x.place)}，谈话人 ${names(x.interviewers, 2)}，逾期${x.days}天）`, '项', t.overdue)]
          : []),
      ]
    : ['尚未导入谈话计划。'];
  out.push(hr(), section(`谈心谈话：已谈 ${t.held}/${t.total}，逾期 ${t.overdue}`, tLines));

  const r = data.risks;
  const rLines = r.open
    ? listed(
        r.items,
        limit,
        (x) =>
          `${x.mustCheck ? '🔺必查' : '▫️'} #${x.id} ${placeOf(data, x.township, x.village)} ${e(x.category)}·${x.severity}：${e(x.description.slice(0, 40))}${x.description.length > 40 ? '…' : ''}（${x.ageDays}天，${x.followups ? `跟进${x.followups}次` : '未跟进'}）`,
        '项',
        r.open,
      )
    : ['✅ 没有未结问题。'];
  out.push(hr(), section(`问题清单：未结 ${r.open}（四必查 ${r.mustCheck}${r.mustCheckWithoutFollowup ? `，其中 ${r.mustCheckWithoutFollowup} 项尚未跟进` : ''}）`, rLines));

  const rk = data.ranking;
  if (rk.rows.length) {
    const unit = rk.level === 'county' ? '县(市、区)' : '乡镇';
    out.push(hr(), section(`${unit}晾晒（${e(rk.within)}，按完成率，逾期少者居前）`, rankingLines(rk.rows, Math.max(limit, 5))));
  }

  const s = data.structure;
  const sLines = [
    s.reported
      ? s.byTarget.map((x) => `${x.name} ${x.met}/${x.reported}（${pct(x.rate)}）`).join('｜')
      : '尚无村(社区)登记新一届班子结构。',
  ];
  if (s.missingCount) sLines.push(`已选举未登记结构：${listed(s.missing, limit, (m) => placeOf(data, m.township, m.village), '个村', s.missingCount).join('、')}`);
  if (s.unmetCount) sLines.push(`未达标：${listed(s.unmet, limit, (m) => `${placeOf(data, m.township, m.village)}（${m.unmet.join('、')}）`, '个村', s.unmetCount).join('、')}`);
  const tg = s.targets;
  const goal = `${tg.oneShoulder ? '一肩挑；' : ''}每个班子大学生≥${tg.graduatesMin}、35岁以下≥${tg.under35Min}、女性≥${tg.womenMin}；党员比例>${Math.round(tg.partyRatioAbove * 100)}%`;
  out.push(hr(), section(`新一届班子结构（已选举 ${s.elected} 个，已登记 ${s.reported} 个；目标：${goal}）`, sLines));

  const w = data.weekly;
  if (w) {
    const delta = (x: number) => `${x >= 0 ? '+' : ''}${Math.round(x * 1000) / 10}`;
    const tt = w.total;
    const wLines = [
      `完成率 ${pct(tt.ratePrev)} → ${pct(tt.rateThis)}（${delta(tt.delta)} 个百分点）；本周完成 ${tt.completedThis} 项（上周 ${tt.completedPrev}）；新增逾期 ${tt.newOverdueThis} 项（上周 ${tt.newOverduePrev}）`,
      `谈话 ${w.talksHeldThis} 次（上周 ${w.talksHeldPrev}）；问题新增 ${w.risksOpenedThis}、销号 ${w.risksClosedThis}（上周 ${w.risksOpenedPrev}、${w.risksClosedPrev}）`,
      ...listed(w.rows, Math.max(limit, 5), (x) => `${e(x.name)} ${pct(x.ratePrev)}→${pct(x.rateThis)}（${delta(x.delta)}）完成${x.completedThis}（上周${x.completedPrev}）新增逾期${x.newOverdueThis}`, '个'),
    ];
    out.push(hr(), section(`周调度：本周（${formatDateCn(w.windows.thisWeek.from, d)}—${formatDateCn(w.windows.thisWeek.to, d)}）对比上周`, wLines));
  }

  if (data.admin) {
    const a = data.admin;
    out.push(
      hr(),
      section(
        `未能回答或被点踩的问题（过去 24 小时，${a.unanswered.length} 条）`,
        a.unanswered.length
          ? listed(a.unanswered, limit, (q) => `· ${e(q.question.slice(0, 60))}${q.question.length > 60 ? '…' : ''}（${q.abstained ? '未能回答' : ''}${q.abstained && q.downVotes ? '，' : ''}${q.downVotes ? `👎${q.downVotes}` : ''}）`, '条')
          : ['无。'],
      ),
    );
    if (a.unbound?.count) {
      const shownNames = a.unbound.names.slice(0, Math.max(limit, 10)).map(e);
      const more = a.unbound.count > shownNames.length ? '等' : '';
      out.push(md(`**未绑定飞书账号：${a.unbound.count} 人**（${shownNames.join('、')}${more}），他们收不到提醒。请核对花名册中他们的手机号/邮箱是否为飞书登录所用。`));
    }
    if (a.missedReminders.length) {
      out.push(section(`提醒未送达（${a.missedReminders.length} 人）`, listed(a.missedReminders, limit, (m) => `· ${e(m.name)}（${e(m.slot)}，${m.items} 项）`, '人')));
    }
  }
  return out;
}

function footer(data: DigestData, tz: string, dashboardUrl?: string): CardElement[] {
  const at = new Intl.DateTimeFormat('zh-CN', { timeZone: tz, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(data.generatedAt));
  const out: CardElement[] = [
    hr(),
    md(`数据截至 ${formatDateCn(todayIn(tz, data.generatedAt), data.date)} ${at}。发送「逾期 乡镇名」查看逾期明细，「导出」获取 Excel 进度表。`),
  ];
  if (dashboardUrl) out.push(linkButton('查看详情', dashboardUrl));
  return out;
}

/** Builds the card with the longest lists that fit the byte budget. */
function fit(build: (limit: number) => Card, maxBytes: number): Card {
  let last: Card | undefined;
  for (const limit of TIERS) {
    last = build(limit);
    if (cardBytes(last) <= maxBytes) return last;
  }
  // Still too big (a pathological scope): drop sections from the end, keeping the overview.
  const c = last!;
  while (cardBytes(c) > maxBytes && c.body.elements.length > 2) c.body.elements.splice(c.body.elements.length - 2, 1);
  return c;
}

export function digestCard(data: DigestData, opts: DigestCardOptions = {}): Card {
  const tz = opts.tz ?? 'Asia/Shanghai';
  const title = `换届工作日报${data.weekly ? ' · 周调度' : ''} · ${formatDateCn(data.date, data.date)} ${data.weekday}`;
  return fit(
    (limit) =>
      card({
        title,
        subtitle: scopeLabel(data),
        template: headerTemplate(data),
        summary: `${data.scope.name}日报：完成率 ${pct(data.completion.rate)}，逾期 ${data.overdue.total} 项`,
        elements: [...sections(data, limit, opts.imageKey), ...footer(data, tz, opts.dashboardUrl)],
      }),
    opts.maxBytes ?? DEFAULT_MAX_BYTES,
  );
}

/**
 * 逾期 [乡镇]: the named overdue list of the scope or of one township in it —
 * every overdue stage with its deadline, the people responsible, and the
 * overdue talks.
 */
export function overdueCard(data: DigestData, opts: { townshipId?: number; township?: string; dashboardUrl?: string; maxBytes?: number; tz?: string } = {}): Card {
  const tz = opts.tz ?? 'Asia/Shanghai';
  const only = (t: { township: string; townshipId?: number }) =>
    opts.townshipId === undefined && opts.township === undefined ? true : opts.townshipId !== undefined && t.townshipId !== undefined ? t.townshipId === opts.townshipId : t.township === opts.township;
  const villages = data.overdue.villages.filter((v) => only(v));
  const people = overdueByPerson(villages);
  const talks = data.talks.overdueList.filter((t) => only({ township: t.township }));
  const items = villages.reduce((n, v) => n + v.stages.length, 0);
  const name = opts.township ?? data.scope.name;
  const d = data.date;
  return fit((limit) => {
    const els: CardElement[] = [
      md(`截至 ${formatDateCn(d)}：逾期阶段 **${items}** 项，涉及 ${villages.length} 个村(社区)；逾期未谈 ${talks.length} 项。`),
    ];
    if (villages.length) {
      els.push(
        hr(),
        section(
          '逾期阶段（按逾期天数）',
          listed(
            villages,
            limit * 2,
            (v) =>
              `🔴 **${placeOf(data, v.township, v.village)}**（${names(v.responsible, 4)}）\n　　${v.stages
                .slice(0, 8)
                .map((s) => `${s.name}：截止 ${formatDateCn(s.deadline, d)}，逾期${s.days}天${s.status !== '未开始' ? `（${s.status}）` : ''}`)
                .join('；')}${v.stages.length > 8 ? ` 等${v.stages.length}项` : ''}`,
            '个村',
          ),
        ),
        hr(),
        section('责任人', listed(people, limit * 2, (p) => `${e(p.name)}（${p.role}）：${p.items} 项，${p.villageCount} 个村`, '人')),
      );
    } else {
      els.push(md('✅ 没有逾期的阶段。'));
    }
    if (talks.length) {
      els.push(hr(), section('逾期未谈', listed(talks, limit * 2, (x) => `${e(x.category)}：${e(x.subject)}（${e(x.place)}，谈话人 ${names(x.interviewers, 2)}，截止 ${formatDateCn(x.due, d)}，逾期${x.days}天）`)));
    }
    els.push(...footer(data, tz, opts.dashboardUrl));
    return card({ title: `逾期清单 · ${name}`, subtitle: scopeLabel(data), template: items ? 'orange' : 'green', summary: `${name}逾期 ${items} 项`, elements: els });
  }, opts.maxBytes ?? DEFAULT_MAX_BYTES);
}
