import { toOutboxInput } from '../../bot/outbox.js';
import { inTransaction, type Db } from '../../store/db.js';
import type { OutboxRepo } from '../../store/outbox-repo.js';
import { escalationKey, type ScheduleRepo } from '../../store/schedule-repo.js';
import type { WorkflowContext } from '../context.js';
import type { IsoDate, Person } from '../types.js';
import type { Slot } from '../schedule/daily-slots.js';
import { reminderCard } from './card.js';
import { dueOpenItems } from './open-items.js';
import { itemOrder, messageOrder, selectMessages, type Leaders, type PlannedMessage } from './select.js';

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
    // Only leaders who can be messaged: a township whose leaders are all unbound escalates to the county.
    if (p.role !== '领导' || p.scopeId === null || p.openId === null) continue;
    let l = byScope.get(p.scopeId);
    if (!l) byScope.set(p.scopeId, (l = []));
    l.push(p);
  }
  return { ofTownship: (id) => byScope.get(id) ?? [], ofCounty: (id) => byScope.get(id) ?? [] };
}

/**
 * What the reminder slot of `day` sends, a county at a time: each batch holds
 * finished messages, so memory is bounded by the largest county rather than
 * the province. A person with villages or talks in several counties (rare: a
 * work-team member lent across a border) still gets one message listing all
 * their items: theirs are held back and come in the last batch.
 * The deadlines already escalated are read a county at a time too (one index range each), so the
 * check costs a set lookup per overdue item and the memory stays the largest county's.
 */
export function* reminderBatches(ctx: WorkflowContext, schedule: ScheduleRepo, day: IsoDate): Generator<PlannedMessage[]> {
  const snoozes = schedule.activeSnoozes(day);
  const snoozed = (openId: string, key: string) => snoozes.get(`${openId}\u0000${key}`);
  const roster = ctx.repos.roster.peopleUnordered();
  const people = new Map(roster.map((p) => [p.id, p]));
  const leaders = leadersOf(roster);
  const spread = ctx.repos.roster.peopleInSeveralCounties();
  const townships = new Map(ctx.repos.roster.townships().map((t) => [t.id, t]));
  const held = new Map<string, PlannedMessage>();
  for (const county of ctx.repos.roster.counties()) {
    const ready: PlannedMessage[] = [];
    const done = schedule.escalatedBefore(county.id, day);
    const escalated = (key: string, due: IsoDate) => done.has(escalationKey(key, due));
    for (const m of selectMessages(dueOpenItems(ctx, day, county, people, townships), day, leaders, snoozed, escalated)) {
      if (!spread.has(m.to.id)) {
        ready.push(m);
        continue;
      }
      const key = `${m.kind}:${m.to.id}`;
      const earlier = held.get(key);
      if (earlier) earlier.items.push(...m.items);
      else held.set(key, m);
    }
    if (ready.length) yield ready;
  }
  if (held.size) {
    const last = [...held.values()];
    for (const m of last) m.items.sort(itemOrder);
    yield last.sort(messageOrder);
  }
}

/** What the reminder slot of `day` would send (the dry run; the real run plans the same messages). */
export function computeReminders(ctx: WorkflowContext, schedule: ScheduleRepo, day: IsoDate): PlannedMessage[] {
  return [...reminderBatches(ctx, schedule, day)].flat().sort(messageOrder);
}

export function reminderIntent(openId: string, day: IsoDate, kind: PlannedMessage['kind']): string {
  return `${kind}:${openId}:${day}`;
}

/** Messages written per transaction: bounded memory and short write locks, even for a province. */
const BATCH = 1000;

/**
 * Plans one daily reminder slot exactly once, a county at a time. Each person's message is keyed by
 * (day, kind, person): its delivery row and outbox message are written together,
 * in transactions of a thousand, and only if that key is new. The slot row is
 * written last, so a process that dies half-way leaves the slot open and the next
 * run writes only the people not yet served; two processes planning at once serve
 * each person once. An escalation delivery records its items' deadlines as escalated in the
 * same transaction, so each deadline reaches the leaders once, whatever crashes or restarts.
 * In 'missed' mode (the slot passed more than 12 hours ago,
 * during downtime) nothing is sent and the deliveries are recorded as missed.
 */
export function planReminderSlot(deps: ReminderPlannerDeps, slot: Slot, mode: 'send' | 'missed'): { planned: boolean; messages: number } {
  if (deps.schedule.slot('reminders', slot.date)) return { planned: false, messages: 0 };
  let written = 0;
  let total = 0;
  for (const messages of reminderBatches(deps.ctx, deps.schedule, slot.date)) {
    total += messages.length;
    for (let i = 0; i < messages.length; i += BATCH) {
      const batch = messages.slice(i, i + BATCH);
      const now = deps.wallNow();
      const n = inTransaction(deps.db, () => {
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
            items: JSON.stringify(
              m.items.map((x) => ({ key: x.key, village: x.village, what: x.what, due: x.due, overdue_days: x.overdueDays, ...(x.catchUp ? { catch_up: true } : {}) })),
            ),
            item_count: m.items.length,
            status: mode === 'send' ? 'queued' : 'missed',
            outbox_uuid: out?.uuid ?? null,
            planned_at: deps.ctx.clock.now(),
          });
          if (!fresh) continue;
          if (out) {
            deps.outbox.enqueue(out);
            // Not in 'missed' mode: nobody was told, so the next slot that sends catches these up.
            if (m.kind === 'escalation') recordEscalated(deps, m, slot.date);
          }
          n++;
        }
        return n;
      });
      written += n;
      // The sender starts on the first county's messages while the rest are planned.
      if (mode === 'send' && n) deps.onMessages();
    }
  }
  const planned = inTransaction(deps.db, () => {
    if (!deps.schedule.claimSlot('reminders', slot.date, slot.at, mode === 'send' ? 'sent' : 'missed', deps.ctx.clock.now())) return false;
    deps.schedule.setMessageCount('reminders', slot.date, total);
    return true;
  });
  return { planned, messages: written };
}

/** The deadlines an escalation lists, as escalated (the first leader's delivery writes them; the others find them there). */
function recordEscalated(deps: ReminderPlannerDeps, m: PlannedMessage, day: IsoDate): void {
  const now = deps.ctx.clock.now();
  for (const i of m.items) {
    deps.schedule.addEscalation({
      item_key: i.key,
      due: i.due,
      county_id: i.countyId,
      escalated_on: day,
      overdue_days: i.overdueDays,
      catch_up: i.catchUp ? 1 : 0,
      planned_at: now,
    });
  }
}
