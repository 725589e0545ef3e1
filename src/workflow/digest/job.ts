import { toOutboxInput } from '../../bot/outbox.js';
import type { Uploader } from '../../bot/lark-uploads.js';
import type { Logger } from '../../logger.js';
import { inTransaction, type Db } from '../../store/db.js';
import type { OutboxRepo } from '../../store/outbox-repo.js';
import type { ScheduleRepo } from '../../store/schedule-repo.js';
import type { UnansweredRow } from '../../knowledge/question-log.js';
import type { WorkflowContext } from '../context.js';
import { addDays } from '../dates.js';
import { loadPrincipal, type Principal } from '../permissions.js';
import type { Slot } from '../schedule/daily-slots.js';
import type { IsoDate } from '../types.js';
import { digestCard } from './card.js';
import { buildDigests, canReceiveDigest, type MissedReminder } from './data.js';
import { digestImageKey } from './deliver.js';

export interface DigestJobDeps {
  db: Db;
  ctx: WorkflowContext;
  schedule: ScheduleRepo;
  outbox: OutboxRepo;
  adminOpenIds: readonly string[];
  uploader: Uploader;
  logger: Logger;
  wallNow: () => number;
  onMessages: () => void;
  unanswered: (sinceMs: number) => UnansweredRow[];
  dashboardUrl?: (p: Principal) => string | undefined;
}

/** Who gets a digest: leaders with a county or township scope, and admins (roster or ADMIN_OPEN_IDS). */
export function digestRecipients(ctx: WorkflowContext, adminOpenIds: readonly string[]): Principal[] {
  const admins = new Set(adminOpenIds);
  const out = new Map<string, Principal>();
  for (const p of ctx.repos.roster.people()) {
    // The unbound cannot be sent a digest; the admin's digest lists them (issue 14).
    if (p.openId === null) continue;
    const pr = loadPrincipal(ctx.repos.roster, { openId: p.openId, name: p.name, isAdmin: admins.has(p.openId) });
    if (canReceiveDigest(pr)) out.set(pr.openId, pr);
  }
  for (const id of admins) if (!out.has(id)) out.set(id, loadPrincipal(ctx.repos.roster, { openId: id, isAdmin: true }));
  return [...out.values()];
}

/** Reminders recorded as missed (downtime) in the three days before the digest: admins see who was not told. */
export function missedRemindersFor(schedule: ScheduleRepo, date: IsoDate): MissedReminder[] {
  return schedule
    .missedSince(addDays(date, -3))
    .filter((d) => d.slot_date < date || d.slot_date === date)
    .map((d) => ({ openId: d.open_id, name: d.person_name, slot: d.slot_date, items: d.item_count }));
}

export function digestIntent(openId: string, date: IsoDate): string {
  return `digest:${openId}:${date}`;
}

/**
 * The daily digest slot: one digest per leader per day. Each leader's digest is
 * written (delivery row + outbox message) in its own transaction, keyed by
 * (day, leader), so a crash half-way resumes with the leaders not yet served and
 * never serves one twice; the slot is marked done when every leader is served.
 */
export async function planDigestSlot(deps: DigestJobDeps, slot: Slot, mode: 'send' | 'missed'): Promise<{ sent: number }> {
  const { ctx, schedule } = deps;
  if (schedule.slot('digest', slot.date)) return { sent: 0 };
  const recipients = digestRecipients(ctx, deps.adminOpenIds);
  const done = new Set(schedule.digests(slot.date).map((d) => d.open_id));
  const todo = recipients.filter((p) => !done.has(p.openId));
  if (mode === 'missed') {
    inTransaction(deps.db, () => {
      for (const p of todo) schedule.addDigest(slot.date, p.openId, 'missed', null, ctx.clock.now());
      schedule.claimSlot('digest', slot.date, slot.at, 'missed', ctx.clock.now());
    });
    return { sent: 0 };
  }
  const unanswered = deps.unanswered(slot.at - 86_400_000);
  const missed = missedRemindersFor(schedule, slot.date);
  let sent = 0;
  const groups = [todo.filter((p) => !p.isAdmin), todo.filter((p) => p.isAdmin)];
  for (const [i, group] of groups.entries()) {
    if (!group.length) continue;
    const gen = buildDigests(ctx, group, slot.date, i === 1 ? { optsFor: () => ({ unanswered, missedReminders: missed }) } : {});
    for (const { leader, data, error } of gen) {
      if (!data) {
        deps.logger.warn({ leader: leader.openId, error }, 'digest not built for this person');
        continue;
      }
      const imageKey = await digestImageKey(data, deps.uploader, deps.logger);
      const card = digestCard(data, { imageKey, dashboardUrl: deps.dashboardUrl?.(leader), tz: ctx.tz });
      const out = toOutboxInput(
        { intent: digestIntent(leader.openId, slot.date), to: { type: 'open_id', id: leader.openId }, msgType: 'interactive', content: card },
        deps.wallNow(),
      );
      const wrote = inTransaction(deps.db, () => {
        if (!schedule.addDigest(slot.date, leader.openId, 'queued', out.uuid, ctx.clock.now())) return false;
        deps.outbox.enqueue(out);
        return true;
      });
      if (wrote) {
        sent++;
        deps.onMessages();
      }
    }
  }
  inTransaction(deps.db, () => {
    if (schedule.claimSlot('digest', slot.date, slot.at, 'sent', ctx.clock.now())) schedule.setMessageCount('digest', slot.date, done.size + sent);
  });
  return { sent };
}
