import { card, escapeMd, hr, md, type Card } from '../../bot/cards.js';
import type { RiskRow } from '../../store/risks-repo.js';
import type { TalkWithPeople } from '../../store/talks-repo.js';
import { formatDateCn } from '../../workflow/dates.js';
import { completion, type StageLine } from '../../workflow/plan.js';
import type { DueItem } from '../../workflow/progress.js';
import type { Village } from '../../workflow/types.js';

/** Cards and lines shown for the plan. User-entered text is always escaped. */

const ICON: Record<string, string> = { 已完成: '✅', 进行中: '🔵', 受阻: '⚠️', 未开始: '⬜' };

export function stageLineText(l: StageLine, today: string, names: ReadonlyMap<string, string>): string {
  const due = l.deadline ? `截止 ${formatDateCn(l.deadline, today)}` : '未定截止日期';
  const parts = [`${ICON[l.status] ?? ''} ${l.stage.order}. **${l.stage.name}**${l.stage.optional ? '（如需）' : ''} — ${l.status}`, due];
  if (l.completedOn) parts.push(`${formatDateCn(l.completedOn, today)}完成`);
  if (l.updatedBy) parts.push(escapeMd(names.get(l.updatedBy) ?? l.updatedBy));
  if (l.overdueDays > 0) parts.push(`🔴 逾期${l.overdueDays}天`);
  let s = parts.join('，');
  if (l.note) s += `\n　　备注：${escapeMd(l.note)}`;
  return s;
}

export function villageCard(opts: {
  village: Village;
  lines: StageLine[];
  today: string;
  names: ReadonlyMap<string, string>;
  risks: RiskRow[];
  talks: { talk: TalkWithPeople; showNote: boolean }[];
  structure?: string;
  /** Said under the talks (e.g. why their notes are not shown here). */
  talkHint?: string;
}): Card {
  const { village: v, lines, today } = opts;
  const c = completion(lines);
  const late = lines.filter((l) => l.overdueDays > 0).length;
  const elements = [
    md(
      `选举日：${v.electionDay ? formatDateCn(v.electionDay, today) : '未定'}　完成 ${c.done}/${c.total}${late ? `　🔴 逾期 ${late} 项` : ''}`,
    ),
    hr(),
    md(lines.map((l) => stageLineText(l, today, opts.names)).join('\n')),
  ];
  const open = opts.risks.filter((r) => r.status === '未结');
  if (opts.risks.length) {
    elements.push(hr(), md(`**问题清单**（未结 ${open.length} / 共 ${opts.risks.length}）\n` + open.slice(0, 10).map(riskLine).join('\n')));
  }
  if (opts.talks.length) {
    elements.push(hr(), md(`**谈话**\n` + opts.talks.slice(0, 15).map((t) => talkLine(t.talk, today, t.showNote)).join('\n') + (opts.talkHint ? `\n${opts.talkHint}` : '')));
  }
  if (opts.structure) elements.push(hr(), md(`**新一届班子结构**：${opts.structure}`));
  elements.push(md('登记：`完成 村名 阶段` 或 `进度 村名 阶段 进行中 备注`；发送「撤销」撤回最近一次登记。'));
  return card({ title: `${v.name} · 换届进度`, subtitle: `${v.county} ${v.township} · ${v.type}`, template: late ? 'orange' : 'blue', elements, summary: `${v.name}换届进度` });
}

export function riskLine(r: RiskRow): string {
  const flag = r.must_check ? `【四必查：${escapeMd(r.must_reasons ?? '')}】` : '';
  return `#${r.id} ${escapeMd(r.category)}·${r.severity}${flag} ${escapeMd(r.description.slice(0, 80))}${r.status === '已结' ? '（已销号）' : ''}`;
}

export function talkLine(t: TalkWithPeople, today: string, showNote: boolean): string {
  const state = t.status === '已谈' ? `✅ ${t.held_on ? formatDateCn(t.held_on, today) : ''}已谈` : `⬜ 待谈${t.due_date ? `，截止 ${formatDateCn(t.due_date, today)}` : ''}`;
  const late = t.status === '待谈' && t.due_date && t.due_date < today ? ' 🔴逾期' : '';
  const signed = t.commitment_signed === null ? '' : t.commitment_signed ? '，承诺书已签' : '，承诺书未签';
  const note = showNote && t.note ? `\n　　记录：${escapeMd(t.note)}` : '';
  return `${escapeMd(t.category)}：${escapeMd(t.subject)} — ${state}${signed}${late}${note}`;
}

export function dueLine(i: DueItem, today: string): string {
  const when = i.overdueDays > 0 ? `🔴 逾期${i.overdueDays}天` : i.overdueDays === 0 ? '🟠 今天到期' : `${-i.overdueDays}天后到期`;
  return `${escapeMd(i.village)}：${escapeMd(i.what)}（截止 ${formatDateCn(i.due, today)}，${when}）`;
}

export function overviewCard(opts: { title: string; subtitle?: string; rows: { village: Village; lines: StageLine[] }[]; today: string; limit?: number; footer?: string }): Card {
  const limit = opts.limit ?? 40;
  const lines = opts.rows.slice(0, limit).map(({ village, lines }) => {
    const c = completion(lines);
    const late = lines.filter((l) => l.overdueDays > 0).length;
    const current = lines.find((l) => l.status !== '已完成' && !l.stage.optional);
    return `**${escapeMd(village.name)}**（${escapeMd(village.township)}）完成 ${c.done}/${c.total}${late ? ` 🔴逾期${late}` : ''}${current ? `，当前：${current.stage.name}` : '，全部完成'}`;
  });
  if (opts.rows.length > limit) lines.push(`……共 ${opts.rows.length} 个村(社区)，发送「进度 村名」或「进度 乡镇名」查看。`);
  const elements = [md(lines.join('\n') || '没有村(社区)。')];
  if (opts.footer) elements.push(hr(), md(opts.footer));
  return card({ title: opts.title, subtitle: opts.subtitle, template: 'blue', elements, summary: opts.title });
}
