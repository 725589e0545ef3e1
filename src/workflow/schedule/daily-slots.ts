import { Cron } from 'croner';
import { todayIn } from '../dates.js';

/**
 * Daily slots (the reminder time, the digest time) as instants in the campaign
 * time zone. croner does the calendar arithmetic, so a time zone with daylight
 * saving would also come out right.
 */
export interface Slot {
  /** The calendar day of the slot in the campaign time zone, YYYY-MM-DD. */
  date: string;
  /** The instant (epoch ms). */
  at: number;
}

function dailyCron(hhmm: string, tz: string): Cron {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return new Cron(`${m} ${h} * * *`, { timezone: tz, paused: true });
}


/** Every slot with fromMs < at ≤ toMs, oldest first. */
export function slotsBetween(hhmm: string, tz: string, fromMs: number, toMs: number): Slot[] {
  const cron = dailyCron(hhmm, tz);
  const out: Slot[] = [];
  let next = cron.nextRun(new Date(fromMs));
  while (next && next.getTime() <= toMs) {
    out.push({ date: todayIn(tz, next.getTime()), at: next.getTime() });
    next = cron.nextRun(next);
  }
  return out;
}

/** The slot of a given day. */
export function slotOn(date: string, hhmm: string, tz: string): Slot {
  const dayStart = Date.parse(`${date}T00:00:00Z`) - 14 * 3600_000; // before the day begins in any zone
  const s = slotsBetween(hhmm, tz, dayStart, dayStart + 2 * 86_400_000).find((x) => x.date === date);
  if (!s) throw new Error(`no ${hhmm} slot on ${date} in ${tz}`);
  return s;
}

export interface QuietHours {
  start: string;
  end: string;
}

function minutesOfDay(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const h = Number(parts.find((p) => p.type === 'hour')!.value);
  const m = Number(parts.find((p) => p.type === 'minute')!.value);
  return h * 60 + m;
}

const toMin = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** Whether `ms` falls inside the quiet hours (which may wrap past midnight, e.g. 22:00-07:30). */
export function isQuiet(ms: number, quiet: QuietHours | undefined, tz: string): boolean {
  if (!quiet) return false;
  const t = minutesOfDay(ms, tz);
  const s = toMin(quiet.start);
  const e = toMin(quiet.end);
  if (s === e) return false;
  return s < e ? t >= s && t < e : t >= s || t < e;
}

/** The first instant at or after `ms` outside quiet hours. */
export function afterQuiet(ms: number, quiet: QuietHours | undefined, tz: string): number {
  if (!isQuiet(ms, quiet, tz)) return ms;
  const end = slotsBetween(quiet!.end, tz, ms - 1, ms + 2 * 86_400_000)[0]!;
  return end.at;
}
