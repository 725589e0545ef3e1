import { daysBetween } from '../dates.js';
import { isBound, type BoundPerson, type IsoDate, type Person } from '../types.js';
import type { OpenItem } from './open-items.js';

/** > 0 overdue by that many days, 0 due today, < 0 due in that many days. */
export function overdueDays(item: Pick<OpenItem, 'due'>, day: IsoDate): number {
  return daysBetween(item.due, day);
}

/**
 * Who is told what on a given day (SPEC §2.2, issue 5):
 * - a reminder 3 days before, 1 day before and on the due day, and each day while overdue;
 * - an escalation to the township's leaders once per deadline, on the day an item becomes 2 days
 *   overdue (the county's leaders when the township has none); an item already further overdue and
 *   never escalated (imported overdue, or its day 2 fell in downtime) is escalated at the next slot,
 *   marked as a catch-up (补充督办), and never again for that deadline;
 * - one message per person per day listing all their items;
 * - snoozed items are left out until the snooze ends.
 */
export const REMIND_DAYS_BEFORE = [3, 1, 0] as const;
export const ESCALATE_AFTER_DAYS = 2;

export interface ReminderItem {
  key: string;
  kind: 'stage' | 'talk';
  villageId: number | null;
  village: string;
  township: string;
  what: string;
  stageKey?: string;
  talkId?: number;
  countyId: number;
  due: IsoDate;
  overdueDays: number;
  /** For escalations: who is responsible. */
  responsible?: string[];
  /** For escalations: escalated late, past day 2 (补充督办: imported already overdue, or day 2 was missed). */
  catchUp?: boolean;
}

export interface PlannedMessage {
  kind: 'reminder' | 'escalation';
  to: BoundPerson;
  items: ReminderItem[];
}

export interface Leaders {
  /** Leaders of a township (role 领导 with that township as scope). */
  ofTownship(townshipId: number): Person[];
  ofCounty(countyId: number): Person[];
}

/** `snoozed(openId, itemKey)` → the day reminders resume, or undefined. */
export type SnoozeLookup = (openId: string, itemKey: string) => IsoDate | undefined;

/** Whether an item's deadline was escalated on an earlier slot (a record per item and deadline, migration 010). */
export type EscalatedLookup = (itemKey: string, due: IsoDate) => boolean;

export function selectMessages(
  items: readonly OpenItem[],
  day: IsoDate,
  leaders: Leaders,
  snoozed: SnoozeLookup,
  escalated: EscalatedLookup,
): PlannedMessage[] {
  const reminders = new Map<number, PlannedMessage>();
  const escalations = new Map<number, PlannedMessage>();
  // The unbound (known by phone only, issue 14) cannot be messaged; the admin sees them listed
  // (digest, `people --unbound`) and they are reminded from the first slot after they are bound.
  const add = (map: Map<number, PlannedMessage>, kind: PlannedMessage['kind'], to: Person, item: ReminderItem) => {
    if (!isBound(to)) return;
    let m = map.get(to.id);
    if (!m) map.set(to.id, (m = { kind, to, items: [] }));
    m.items.push(item);
  };
  // Few distinct due dates: the day arithmetic is done once per date, not once per item.
  const lateness = new Map<string, number>();
  for (const it of items) {
    let late = lateness.get(it.due);
    if (late === undefined) lateness.set(it.due, (late = overdueDays(it, day)));
    const remind = late > 0 || (REMIND_DAYS_BEFORE as readonly number[]).includes(-late);
    // ≥, not =: what was never escalated on its day 2 is escalated now, once (the record stops it after).
    const escalate = late >= ESCALATE_AFTER_DAYS && !escalated(it.key, it.due);
    if (!remind && !escalate) continue;
    const base: ReminderItem = {
      key: it.key,
      kind: it.kind,
      villageId: it.villageId,
      village: it.village,
      township: it.township,
      countyId: it.countyId,
      what: it.what,
      stageKey: it.stageKey,
      talkId: it.talkId,
      due: it.due,
      overdueDays: late,
    };
    if (remind) {
      for (const p of it.assignees) {
        const until = p.openId === null ? undefined : snoozed(p.openId, it.key);
        if (until && until > day) continue;
        add(reminders, 'reminder', p, base);
      }
    }
    if (escalate) {
      const to = leaders.ofTownship(it.townshipId);
      const recipients = to.length ? to : leaders.ofCounty(it.countyId);
      const esc: ReminderItem = { ...base, responsible: it.assignees.map((p) => p.name), ...(late > ESCALATE_AFTER_DAYS ? { catchUp: true } : {}) };
      for (const l of recipients) add(escalations, 'escalation', l, esc);
    }
  }
  const out = [...reminders.values(), ...escalations.values()];
  for (const m of out) m.items.sort(itemOrder);
  return out.sort(messageOrder);
}

// Plain code-point order: stable, and far cheaper than locale collation over hundreds of thousands of items.
const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** A message's items: soonest due first, then by village and what. */
export const itemOrder = (a: ReminderItem, b: ReminderItem) => cmp(a.due, b.due) || cmp(a.village, b.village) || cmp(a.what, b.what);

/** Messages by recipient, reminders before escalations. */
export const messageOrder = (a: PlannedMessage, b: PlannedMessage) => cmp(a.to.openId, b.to.openId) || cmp(a.kind, b.kind);
