import { reminderDoneHandler, reminderSnoozeHandler } from '../../handlers/workflow/reminder-actions.js';
import type { Runtime } from '../../runtime.js';
import { createScheduleRepo, type ScheduleRepo } from '../../store/schedule-repo.js';
import { Scheduler } from '../schedule/scheduler.js';
import { REMINDER_DONE_ACTION, REMINDER_SNOOZE_ACTION } from './card.js';
import { planReminderSlot, type ReminderPlannerDeps } from './planner.js';

export interface ReminderSystem {
  schedule: ScheduleRepo;
  scheduler: Scheduler;
  planner: ReminderPlannerDeps;
}

/**
 * Reminders (issue 5): the daily slot at REMINDER_TIME planned by the scheduler,
 * and the 已完成 / 延后 buttons of reminder cards. Started and stopped with the runtime.
 */
export function registerReminders(rt: Runtime): ReminderSystem {
  const schedule = createScheduleRepo(rt.db);
  const planner: ReminderPlannerDeps = {
    db: rt.db,
    ctx: { repos: rt.workflow.repos, tz: rt.config.tz, clock: rt.clock },
    schedule,
    outbox: rt.repos.outbox,
    wallNow: () => Date.now(),
    onMessages: () => rt.worker.notify(),
  };
  const scheduler = new Scheduler({
    jobs: [{ name: 'reminders', time: rt.config.reminderTime, run: (slot, mode) => void planReminderSlot(planner, slot, mode) }],
    schedule,
    clock: rt.clock,
    tz: rt.config.tz,
    quiet: rt.config.quietHours,
    logger: rt.logger.child({ component: 'scheduler' }),
    db: rt.db,
  });
  rt.cardActions.set(REMINDER_DONE_ACTION, reminderDoneHandler(rt.workflow));
  rt.cardActions.set(REMINDER_SNOOZE_ACTION, reminderSnoozeHandler(rt.workflow, rt.db, schedule));
  rt.addService(scheduler);
  return { schedule, scheduler, planner };
}
