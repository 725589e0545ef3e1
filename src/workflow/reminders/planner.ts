import { toOutboxInput } from '../../bot/outbox.js';
import { inTransaction, type Db } from '../../store/db.js';
import type { OutboxRepo } from '../../store/outbox-repo.js';
import type { ScheduleRepo } from '../../store/schedule-repo.js';
import type { WorkflowContext } from '../context.js';
import type { IsoDate, Person } from '../types.js';
import type { Slot } from '../schedule/daily-slots.js';
import { reminderCard } from './card.js';
import { dueOpenItems } from './open-items.js';
import { selectMessages, type Leaders, type PlannedMessage } from './select.js';

export interface ReminderPlannerDeps {
  db: Db;
  ctx: WorkflowContext;
  schedule: ScheduleRepo;
  outbox: OutboxRepo;
  /** Wall-clock time for outbox rows (the sender's clock). */
  wallNow: () => number;
  onMessages: () => void;
}

export function leadersOf(people: readonly Person[]): Leaders {
  const byScope = new Map<number, Person[]>();
  for (const p of people) {
    if (p.role !== '领导' || p.scopeId === null) continue;
    let l = byScope.get(p.scopeId);
    if (!l) byScope.set(p.scopeId, (l = []));
    l.push(p);
  }
  return { ofTownship: (id) => byScope.get(id) ?? [], ofCounty: (id) => byScope.get(id) ?? [] };
}

/** What the reminder slot of `day` would send: the dry run and the real run compute the same thing. */
export function computeReminders(ctx: WorkflowContext, schedule: ScheduleRepo, day: IsoDate): PlannedMessage[] {
  const snoozes = schedule.activeSnoozes(day);
  const people = ctx.repos.roster.people();
  return selectMessages(dueOpenItems(ctx, day, people), day, leadersOf(people), (openId, key) =>
    snoozes.get(`${openId}\u0000${key}`),
  );
}

export function reminderIntent(openId: string, day: IsoDate, kind: PlannedMessage['kind']): string {
  return `${kind}:${openId}:${day}`;
}

/** Messages written per transaction: bounded memory and short write locks, even for a province. */
const BATCH = 1000;

/**
 * Plans one daily reminder slot exactly once. Each person's message is keyed by
 * (day, kind, person): its delivery row and outbox message are written together,
 * in transactions of a thousand, and only if that key is new. The slot row is
 * written last, so a process that dies half-way leaves the slot open and the next
 * run writes only the people not yet served; two processes planning at once serve
 * each person once. In 'missed' mode (the slot passed more than 12 hours ago,
 * during downtime) nothing is sent and the deliveries are recorded as missed.
 */
export function planReminderSlot(deps: ReminderPlannerDeps, slot: Slot, mode: 'send' | 'missed'): { planned: boolean; messages: number } {
  if (deps.schedule.slot('reminders', slot.date)) return { planned: false, messages: 0 };
  const messages = computeReminders(deps.ctx, deps.schedule, slot.date);
  let written = 0;
  for (let i = 0; i < messages.length; i += BATCH) {
    const batch = messages.slice(i, i + BATCH);
    const now = deps.wallNow();
    written += inTransaction(deps.db, () => {
      let n = 0;
      for (const m of batch) {
        const out =
          mode === 'send'
            ? toOutboxInput(
                {
                  intent: reminderIntent(m.to.openId, slot.date, m.kind),
                  to: { type: 'open_id', id: m.to.openId },
                  msgType: 'interactive',
                  content: reminderCard(m, slot.date),
                },
                now,
              )
            : undefined;
        const fresh = deps.schedule.addDelivery({
          slot_date: slot.date,
          kind: m.kind,
          open_id: m.to.openId,
          person_name: m.to.name,
          items: JSON.stringify(m.items.map((x) => ({ key: x.key, village: x.village, what: x.what, due: x.due, overdue_days: x.overdueDays }))),
          item_count: m.items.length,
          status: mode === 'send' ? 'queued' : 'missed',
          outbox_uuid: out?.uuid ?? null,
          planned_at: deps.ctx.clock.now(),
        });
        if (!fresh) continue;
        if (out) deps.outbox.enqueue(out);
        n++;
      }
      return n;
    });
    if (mode === 'send' && written) deps.onMessages();
  }
  const planned = inTransaction(deps.db, () => {
    if (!deps.schedule.claimSlot('reminders', slot.date, slot.at, mode === 'send' ? 'sent' : 'missed', deps.ctx.clock.now())) return false;
    deps.schedule.setMessageCount('reminders', slot.date, messages.length);
    return true;
  });
  return { planned, messages: written };
}
