import { Cron } from 'croner';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { dialectOf, type SqlDb } from '../../store/sql.js';
import type { Job, ScheduleRepo } from '../../store/schedule-repo.js';
import { afterQuiet, isQuiet, slotsBetween, type QuietHours, type Slot } from './daily-slots.js';

/** Slots missed by less than this (downtime) are still sent; older ones are recorded as missed. */
export const CATCH_UP_MS = 12 * 3600_000;
/** Slots further back than this are not looked at. */
const LOOKBACK_MS = 7 * 86_400_000;

export interface ScheduledJob {
  name: Job;
  /** HH:MM in the campaign time zone. */
  time: string;
  run(slot: Slot, mode: 'send' | 'missed'): Promise<void> | void;
}

/**
 * Reminders are data, not timers: a minute tick (croner) looks at which daily
 * slots are due and not yet planned, and plans each once (the job writes the
 * slot row and its outbox messages in one transaction). Nothing is planned in
 * quiet hours; a slot inside quiet hours waits for their end.
 */
export class Scheduler {
  private cron?: Cron;
  private running: Promise<void> | null = null;
  private lock?: { tryTake(): boolean; release(): void } | null;
  /** Work done on every tick after the slots, quiet hours included (nothing is sent): binding contacts (issue 14). */
  private readonly tasks: { name: string; run(): Promise<void> }[] = [];

  constructor(
    private readonly o: {
      jobs: ScheduledJob[];
      schedule: ScheduleRepo;
      clock: Clock;
      tz: string;
      quiet?: QuietHours;
      logger: Logger;
      /** The store: on PostgreSQL a pass runs only in the instance holding the scheduler lock. */
      db?: SqlDb;
    },
  ) {}

  addJob(job: ScheduledJob): void {
    this.o.jobs.push(job);
  }

  addTickTask(name: string, run: () => Promise<void>): void {
    this.tasks.push({ name, run });
  }

  start(): void {
    this.cron = new Cron('* * * * *', { timezone: this.o.tz, protect: true }, () => void this.tick());
    void this.tick();
  }

  stop(): Promise<void> {
    this.cron?.stop();
    return this.running ?? Promise.resolve();
  }

  /** One pass over every job; overlapping calls share the pass in progress. */
  tick(): Promise<void> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** The slots of a job that are due now and not yet planned, with what to do with each. */
  dueSlots(job: ScheduledJob, now: number): { slot: Slot; mode: 'send' | 'missed' }[] {
    const last = this.o.schedule.lastSlot(job.name);
    // With no history (first start), only a slot of the last 12 hours counts: nothing was "missed" before we existed.
    const from = last ? Math.max(last.slot_at, now - LOOKBACK_MS) : now - CATCH_UP_MS;
    const out: { slot: Slot; mode: 'send' | 'missed' }[] = [];
    for (const slot of slotsBetween(job.time, this.o.tz, from, now)) {
      if (this.o.schedule.slot(job.name, slot.date)) continue;
      const effective = afterQuiet(slot.at, this.o.quiet, this.o.tz);
      if (now < effective) continue;
      out.push({ slot, mode: now - effective <= CATCH_UP_MS ? 'send' : 'missed' });
    }
    return out;
  }

  private async pass(): Promise<void> {
    const now = this.o.clock.now();
    const quiet = isQuiet(now, this.o.quiet, this.o.tz);
    if (quiet && !this.tasks.length) return;
    if (this.lock === undefined) this.lock = this.o.db && dialectOf(this.o.db) === 'postgres' ? schedulerLock(this.o.db) : null;
    const lock = this.lock;
    // Another instance is planning: it plans every due slot (planning is idempotent anyway, keyed per person and day,
    // but one planner means one set of digest images and no two instances building the same province's cards).
    if (lock && !lock.tryTake()) return;
    try {
      if (!quiet) await this.planDue(now);
      for (const t of this.tasks) {
        try {
          await t.run();
        } catch (e) {
          this.o.logger.error({ err: e, task: t.name }, 'a tick task failed; will retry on the next tick');
        }
      }
    } finally {
      lock?.release();
    }
  }

  private async planDue(now: number): Promise<void> {
    for (const job of this.o.jobs) {
      for (const { slot, mode } of this.dueSlots(job, now)) {
        try {
          await job.run(slot, mode);
          this.o.logger.info({ job: job.name, slot: slot.date, mode }, mode === 'send' ? 'slot planned' : 'slot missed during downtime; recorded');
        } catch (e) {
          this.o.logger.error({ err: e, job: job.name, slot: slot.date }, 'planning a slot failed; will retry on the next tick');
        }
      }
    }
  }
}

/**
 * PostgreSQL: a session advisory lock per schema, held for one pass (which awaits uploads, so it
 * cannot be a transaction's lock). The process has one connection, so the session is the instance;
 * if it dies the server frees the lock and the next minute's tick of another instance plans the rest.
 */
function schedulerLock(db: SqlDb): { tryTake(): boolean; release(): void } {
  const take = db.prepare(`SELECT pg_try_advisory_lock(hashtext('huanjie-scheduler:' || current_schema())) AS ok`);
  const free = db.prepare(`SELECT pg_advisory_unlock(hashtext('huanjie-scheduler:' || current_schema())) AS ok`);
  return {
    tryTake: () => Number((take.get() as { ok: number | boolean }).ok) === 1,
    release: () => {
      if (db.open) free.get();
    },
  };
}
