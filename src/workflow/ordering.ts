import { UserError } from '../errors.js';
import type { WorkflowContext } from './context.js';
import { formatDateCn, todayIn } from './dates.js';

/**
 * Messages apply in the order they were sent, not the order they arrive (issue 17). Lark
 * redelivers for hours and a long connection redelivers after a reconnect, so a check-in
 * written at 10:02 may arrive after one written at 10:05. Every "latest state" row carries
 * as_of, the instant of the message that set it; a message older than that does not
 * overwrite it: it is audited as superseded and its sender told, plainly, that it was not
 * applied.
 */

/** Whether a message sent at `sentAt` is older than the state recorded as of `asOf`. */
export function isSuperseded(asOf: number | null | undefined, sentAt: number): boolean {
  return asOf !== null && asOf !== undefined && sentAt < asOf;
}

/** 10:02 (with the day when it is not today's, seconds when both fall in one minute). */
function clockText(ctx: WorkflowContext, ms: number, other: number): string {
  const parts = (t: number) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', { timeZone: ctx.tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .formatToParts(new Date(t))
        .map((p) => [p.type, p.value]),
    ) as Record<string, string>;
  const a = parts(ms);
  const b = parts(other);
  const sameMinute = a.hour === b.hour && a.minute === b.minute && Math.abs(ms - other) < 60_000;
  const day = todayIn(ctx.tz, ms);
  const today = todayIn(ctx.tz, ctx.clock.now());
  return `${day === today ? '' : formatDateCn(day, today) + ' '}${a.hour}:${a.minute}${sameMinute ? `:${a.second}` : ''}`;
}

export interface Superseded {
  sourceId: string;
  actor: string;
  /** The change kind it would have been (checkin.stage, checkin.talk, structure). */
  kind: string;
  target: string;
  sentAt: number;
  asOf: number;
  /** The row as it stays, and what the late message asked for. */
  current: unknown;
  attempted: unknown;
  /** What the row says now, for the sender: 城西村「审计」现在是“已完成”（11月20日）. */
  now: string;
}

/** Audits the late message as superseded and refuses it with the reason (nothing changed). */
export function refuseSuperseded(ctx: WorkflowContext, s: Superseded): never {
  ctx.repos.audit.record({
    at: ctx.clock.now(),
    actor: s.actor,
    action: `${s.kind}.superseded`,
    target: s.target,
    before: s.current,
    after: s.attempted,
    detail: `source=${s.sourceId}; sent_at=${s.sentAt}; state_as_of=${s.asOf}`,
  });
  throw new UserError(
    `您在 ${clockText(ctx, s.sentAt, s.asOf)} 发出的登记晚于 ${clockText(ctx, s.asOf, s.sentAt)} 的登记到达，未覆盖：${s.now}。如确需更改，请重新发送。`,
    'conflict',
  );
}
