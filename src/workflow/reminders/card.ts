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

function escalationCard(m: PlannedMessage, day: IsoDate): Card {
  const lines = m.items.map(
    (i) => `${itemLabel(i, day)}\n　负责人：${i.responsible?.length ? i.responsible.map(escapeMd).join('、') : '（未分配）'}`,
  );
  const shown = lines.slice(0, 60);
  return card({
    title: `逾期督办 · ${formatDateCn(day)}`,
    template: 'red',
    summary: `${m.items.length} 项工作已逾期 2 天`,
    elements: [
      md(`${escapeMd(m.to.name)}，以下 ${m.items.length} 项工作已逾期 2 天，请督促负责人尽快完成：`),
      hr(),
      md(shown.join('\n')),
      ...(lines.length > shown.length ? [md(`另有 ${lines.length - shown.length} 项，发送「逾期」查看全部。`)] : []),
    ],
  });
}
