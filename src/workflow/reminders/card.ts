import { button, buttonRow, card, escapeMd, hr, md, type Card, type CardElement } from '../../bot/cards.js';
import { formatDateCn } from '../dates.js';
import type { IsoDate } from '../types.js';
import type { PlannedMessage, ReminderItem } from './select.js';

export const REMINDER_DONE_ACTION = 'reminder_done';
export const REMINDER_SNOOZE_ACTION = 'reminder_snooze';

/** Items shown with their own buttons; the rest are counted (a card holds at most 200 elements, 30 KB). */
const MAX_ITEMS_WITH_BUTTONS = 20;

export function itemLabel(i: ReminderItem, day: IsoDate): string {
  const place = i.village ? `${escapeMd(i.village)}：` : '';
  const when =
    i.overdueDays > 0
      ? `🔴 逾期${i.overdueDays}天（截止 ${formatDateCn(i.due, day)}）`
      : i.overdueDays === 0
        ? '🟠 今天到期'
        : `🟡 ${-i.overdueDays}天后到期（${formatDateCn(i.due, day)}）`;
  return `${place}${escapeMd(i.what)} — ${when}`;
}

/** One card per person per day, listing all their due items, with 已完成 and 延后 on each. */
export function reminderCard(m: PlannedMessage, day: IsoDate): Card {
  if (m.kind === 'escalation') return escalationCard(m, day);
  const overdue = m.items.filter((i) => i.overdueDays > 0).length;
  const elements: CardElement[] = [
    md(`${escapeMd(m.to.name)}，您好！以下 ${m.items.length} 项工作${overdue ? `（其中 ${overdue} 项已逾期）` : ''}需要您跟进：`),
    hr(),
  ];
  m.items.slice(0, MAX_ITEMS_WITH_BUTTONS).forEach((i) => {
    elements.push(md(itemLabel(i, day)));
    elements.push(
      buttonRow([
        button('已完成', { action: REMINDER_DONE_ACTION, item: i.key }, 'primary'),
        button('延后1天', { action: REMINDER_SNOOZE_ACTION, item: i.key, days: 1 }),
        button('延后3天', { action: REMINDER_SNOOZE_ACTION, item: i.key, days: 3 }),
      ]),
    );
  });
  const rest = m.items.length - MAX_ITEMS_WITH_BUTTONS;
  if (rest > 0) elements.push(md(`另有 ${rest} 项，发送「我的」查看全部。`));
  elements.push(hr(), md('完成后点「已完成」登记，或发送 `完成 村名 阶段`；谈话发送 `谈话 对象 完成`。'));
  return card({
    title: `换届工作提醒 · ${formatDateCn(day)}`,
    template: overdue ? 'red' : 'orange',
    summary: `您有 ${m.items.length} 项换届工作待办`,
    elements,
  });
}

/** Lines of an escalation card at most (the rest are counted): a card holds at most 30 KB. */
const MAX_ESCALATION_LINES = 60;

/**
 * One card per leader per day. Items on their day 2 come first; catch-ups (补充督办: never escalated
 * before, imported already overdue or their day 2 missed in downtime) follow under their own heading,
 * so a leader who gets ten long-overdue items at once is told why.
 */
function escalationCard(m: PlannedMessage, day: IsoDate): Card {
  const line = (i: ReminderItem) =>
    `${itemLabel(i, day)}\n　负责人：${i.responsible?.length ? i.responsible.map(escapeMd).join('、') : '无人负责（请在花名册中指定）'}`;
  const onTime = m.items.filter((i) => !i.catchUp);
  const late = m.items.filter((i) => i.catchUp);
  let room = MAX_ESCALATION_LINES;
  const section = (items: ReminderItem[], heading: string): CardElement[] => {
    if (!items.length) return [];
    const shown = items.slice(0, Math.max(0, room));
    room -= shown.length;
    return [md(heading), ...(shown.length ? [md(shown.map(line).join('\n'))] : [])];
  };
  const elements: CardElement[] = [
    md(`${escapeMd(m.to.name)}，以下 ${m.items.length} 项工作已逾期，请督促负责人尽快完成：`),
    hr(),
    ...section(onTime, `**今天逾期满 2 天（${onTime.length} 项）：**`),
    ...(onTime.length && late.length ? [hr()] : []),
    ...section(late, `**补充督办：以下 ${late.length} 项此前没有督办过（导入时已逾期，或逾期满 2 天时系统未运行），只补发这一次：**`),
  ];
  const hidden = m.items.length - (MAX_ESCALATION_LINES - Math.max(0, room));
  if (hidden > 0) elements.push(md(`另有 ${hidden} 项，发送「逾期」查看全部。`));
  return card({
    title: `${onTime.length ? '逾期督办' : '补充督办'} · ${formatDateCn(day)}`,
    template: 'red',
    summary: late.length ? `${m.items.length} 项工作已逾期（其中 ${late.length} 项补充督办）` : `${m.items.length} 项工作已逾期 2 天`,
    elements,
  });
}
