import type { Db } from './db.js';

export type Job = 'reminders' | 'digest';

export interface SlotRow {
  job: Job;
  slot_date: string;
  slot_at: number;
  status: 'sent' | 'missed';
  planned_at: number;
  messages: number;
}

export interface DeliveryRow {
  slot_date: string;
  kind: 'reminder' | 'escalation';
  open_id: string;
  person_name: string;
  items: string;
  item_count: number;
  status: 'queued' | 'missed';
  outbox_uuid: string | null;
  planned_at: number;
}

/** An item's deadline escalated to the leaders (migration 010): at most once per item and deadline. */
export interface EscalationRow {
  item_key: string;
  due: string;
  county_id: number;
  escalated_on: string;
  overdue_days: number;
  catch_up: 0 | 1;
  planned_at: number;
}

/** The key of an escalated deadline in the set `escalatedBefore` returns. */
export const escalationKey = (itemKey: string, due: string) => `${itemKey}|${due}`;

export function createScheduleRepo(db: Db) {
  const s = {
    claimSlot: db.prepare(
      `INSERT INTO sched_slots (job, slot_date, slot_at, status, planned_at, messages) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT DO NOTHING`,
    ),
    setCount: db.prepare(`UPDATE sched_slots SET messages = ? WHERE job = ? AND slot_date = ?`),
    slot: db.prepare(`SELECT * FROM sched_slots WHERE job = ? AND slot_date = ?`),
    lastSlot: db.prepare(`SELECT * FROM sched_slots WHERE job = ? ORDER BY slot_date DESC LIMIT 1`),
    slots: db.prepare(`SELECT * FROM sched_slots WHERE job = ? ORDER BY slot_date`),
    delivery: db.prepare(
      `INSERT INTO reminder_deliveries (slot_date, kind, open_id, person_name, items, item_count, status, outbox_uuid, planned_at)
       VALUES (@slot_date, @kind, @open_id, @person_name, @items, @item_count, @status, @outbox_uuid, @planned_at)
       ON CONFLICT DO NOTHING`,
    ),
    deliveries: db.prepare(`SELECT * FROM reminder_deliveries WHERE slot_date = ? ORDER BY open_id, kind`),
    missedSince: db.prepare(`SELECT * FROM reminder_deliveries WHERE status = 'missed' AND slot_date >= ? ORDER BY slot_date, open_id`),
    snooze: db.prepare(
      `INSERT INTO reminder_snoozes (open_id, item_key, until_date, created_at, source_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (open_id, item_key) DO UPDATE SET until_date = excluded.until_date, created_at = excluded.created_at,
         source_id = excluded.source_id
       WHERE excluded.source_id NOT IN (SELECT source_id FROM reminder_snoozes)`,
    ),
    snoozes: db.prepare(`SELECT open_id, item_key, until_date FROM reminder_snoozes WHERE until_date > ?`),
    escalation: db.prepare(
      `INSERT INTO reminder_escalations (item_key, due, county_id, escalated_on, overdue_days, catch_up, planned_at)
       VALUES (@item_key, @due, @county_id, @escalated_on, @overdue_days, @catch_up, @planned_at)
       ON CONFLICT DO NOTHING`,
    ),
    // One string per row, built by the database (a province's scan reads some 100,000 of them): the same as escalationKey.
    escalatedBefore: db.prepare(`SELECT item_key || '|' || due FROM reminder_escalations WHERE county_id = ? AND escalated_on < ?`).pluck(),
    escalations: db.prepare(`SELECT * FROM reminder_escalations ORDER BY escalated_on, item_key, due`),
    digest: db.prepare(
      `INSERT INTO digest_deliveries (slot_date, open_id, status, outbox_uuid, planned_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    digests: db.prepare(`SELECT * FROM digest_deliveries WHERE slot_date = ? ORDER BY open_id`),
  };
  return {
    /** Marks the slot planned; false when it already was (by this or another process). */
    claimSlot(job: Job, date: string, at: number, status: 'sent' | 'missed', now: number): boolean {
      return s.claimSlot.run(job, date, at, status, now).changes === 1;
    },
    setMessageCount(job: Job, date: string, n: number): void {
      s.setCount.run(n, job, date);
    },
    slot(job: Job, date: string): SlotRow | undefined {
      return s.slot.get(job, date) as SlotRow | undefined;
    },
    lastSlot(job: Job): SlotRow | undefined {
      return s.lastSlot.get(job) as SlotRow | undefined;
    },
    slots(job: Job): SlotRow[] {
      return s.slots.all(job) as SlotRow[];
    },
    addDelivery(d: DeliveryRow): boolean {
      return s.delivery.run(d).changes === 1;
    },
    deliveries(date: string): DeliveryRow[] {
      return s.deliveries.all(date) as DeliveryRow[];
    },
    missedSince(date: string): DeliveryRow[] {
      return s.missedSince.all(date) as DeliveryRow[];
    },
    /** Sets (or moves) a snooze; the same source (card event) applied twice changes nothing. */
    snooze(openId: string, itemKey: string, untilDate: string, sourceId: string, now: number): void {
      s.snooze.run(openId, itemKey, untilDate, now, sourceId);
    },
    /** Snoozes still running after `day`. */
    activeSnoozes(day: string): Map<string, string> {
      const m = new Map<string, string>();
      for (const r of s.snoozes.all(day) as { open_id: string; item_key: string; until_date: string }[]) {
        m.set(`${r.open_id}\u0000${r.item_key}`, r.until_date);
      }
      return m;
    },
    /** Records an escalated deadline; false when it already was (the first escalation stands). */
    addEscalation(e: EscalationRow): boolean {
      return s.escalation.run(e).changes === 1;
    },
    /**
     * The deadlines of one county escalated on a slot before `day` (keys from `escalationKey`). Those of
     * `day` itself are left out: a slot planned half-way before a crash selects them again, so the
     * leaders its first run did not reach still get them (their deliveries are keyed per leader and day).
     */
    escalatedBefore(countyId: number, day: string): Set<string> {
      return new Set(s.escalatedBefore.all(countyId, day) as string[]);
    },
    escalations(): EscalationRow[] {
      return s.escalations.all() as EscalationRow[];
    },
    addDigest(date: string, openId: string, status: 'queued' | 'missed', uuid: string | null, now: number): boolean {
      return s.digest.run(date, openId, status, uuid, now).changes === 1;
    },
    digests(date: string): { slot_date: string; open_id: string; status: string; outbox_uuid: string | null }[] {
      return s.digests.all(date) as { slot_date: string; open_id: string; status: string; outbox_uuid: string | null }[];
    },
  };
}

export type ScheduleRepo = ReturnType<typeof createScheduleRepo>;
