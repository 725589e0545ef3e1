import type { IsoDate } from './types.js';

/**
 * Calendar dates in the campaign time zone (TZ_NAME). Deadlines and check-in
 * dates are days, not instants: everything here works on `YYYY-MM-DD` strings,
 * and "today" is always derived from the injected clock.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of an instant in time zone `tz` (formatters cached: digests call this per row). */
export function todayIn(tz: string, nowMs: number): IsoDate {
  let f = dayFormats.get(tz);
  // en-CA formats as YYYY-MM-DD.
  if (!f) dayFormats.set(tz, (f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(new Date(nowMs));
}

export function isValidIsoDate(s: string): boolean {
  const m = ISO.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isRealDate(y, mo, d);
}

function isRealDate(y: number, mo: number, d: number): boolean {
  if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

function iso(y: number, mo: number, d: number): IsoDate {
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const dt = new Date(Date.UTC(y, m - 1, d + days));
  return iso(dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate());
}

/** Whole days from a to b (b − a). */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  const t = (s: IsoDate) => {
    const [y, m, d] = s.split('-').map(Number) as [number, number, number];
    return Date.UTC(y, m - 1, d);
  };
  return Math.round((t(b) - t(a)) / 86_400_000);
}

/** 2026-11-20 → 11月20日 (with the year when it differs from `today`'s). */
export function formatDateCn(date: IsoDate, today?: IsoDate): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const sameYear = today ? today.slice(0, 4) === date.slice(0, 4) : false;
  return `${sameYear ? '' : `${y}年`}${m}月${d}日`;
}

// Future words are read too, so that they are refused as future dates rather than taken as notes.
const RELATIVE: Record<string, number> = { 今天: 0, 今日: 0, 昨天: -1, 昨日: -1, 前天: -2, 大前天: -3, 明天: 1, 明日: 1, 后天: 2, 大后天: 3 };

/**
 * How far back a check-in date may go: one campaign (换届 runs for months, never a year), the
 * same bound as 「N天前」. Older dates (1900年, 1999-12-31, a typo in the year) are refused.
 */
export const MAX_DAYS_BACK = 366;

/** What to send instead, appended to every refusal of a date. */
export const DATE_HINT = '请写实际日期，例如 今天、昨天、3天前、11月20日 或 2026-11-20。';

/** A date as read from what a person sent: the day, a refusal saying why, or not a date at all. */
export type DateReading = { kind: 'date'; date: IsoDate } | { kind: 'refused'; message: string } | null;

/**
 * THE reading of a date, for chat words and card forms alike: 2026-11-20, 2026/11/20,
 * 2026.11.20, 2026年11月20日, 11月20日, 11/20, 11-20, 今天, 昨天, 前天, 3天前, full-width
 * digits (３天前), and a date picker's "2026-11-20 +0800" (the day picked). `today` is the
 * campaign day (todayIn(tz, the message's instant)): nothing here reads a clock or the host's
 * zone. A date without a year is taken in the current year unless that is more than half a
 * year ahead (a December campaign reported in January means last year).
 * Refused: dates that do not exist (2月30日, 13月1日), and dates more than MAX_DAYS_BACK days
 * before today. Future dates are read (明天 is a date); whether one is allowed is the caller's
 * rule (refuseFuture).
 */
export function readDate(text: string, today: IsoDate): DateReading {
  const raw = text.trim();
  const t = raw.normalize('NFKC').replace(/\s+[+-]\d{2}:?\d{2}$/, '').replace(/号$/, '日');
  const found = (date: IsoDate): DateReading =>
    daysBetween(date, today) > MAX_DAYS_BACK
      ? { kind: 'refused', message: `「${raw}」是 ${formatDateCn(date)}，早于本次换届（最早可登记 ${formatDateCn(addDays(today, -MAX_DAYS_BACK))}）。${DATE_HINT}` }
      : { kind: 'date', date };
  const impossible: DateReading = { kind: 'refused', message: `「${raw}」不是有效日期（没有这一天）。${DATE_HINT}` };
  if (t in RELATIVE) return found(addDays(today, RELATIVE[t]!));
  let m = /^(\d+)天前$/.exec(t);
  if (m) {
    const n = Number(m[1]);
    return n <= MAX_DAYS_BACK ? found(addDays(today, -n)) : { kind: 'refused', message: `「${raw}」早于本次换届（最多可写 ${MAX_DAYS_BACK}天前）。${DATE_HINT}` };
  }
  m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isCalendarDate(y, mo, d) ? found(iso(y, mo, d)) : impossible;
  }
  m = /^(\d{1,2})月(\d{1,2})日?$/.exec(t) ?? /^(\d{1,2})[/-](\d{1,2})$/.exec(t);
  if (m) {
    const [mo, d] = [Number(m[1]), Number(m[2])];
    const y = Number(today.slice(0, 4));
    if (!isRealDate(y, mo, d) && !(mo === 2 && d === 29 && isRealDate(y - 1, mo, d))) return impossible;
    const thisYear = isRealDate(y, mo, d) ? iso(y, mo, d) : null;
    if (thisYear && daysBetween(today, thisYear) <= 183) return found(thisYear);
    return isRealDate(y - 1, mo, d) ? found(iso(y - 1, mo, d)) : impossible;
  }
  return null;
}

/** Whether the day exists in any year (1899-12-31 does: refused as too old, not as impossible). */
function isCalendarDate(y: number, mo: number, d: number): boolean {
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(2000, mo - 1, d));
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo === 2 && d === 29) return leap;
  return dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/**
 * The same reading with the old shape: null when not a date, 'invalid' when refused (the
 * command suggester only asks whether a word is a date).
 */
export function parseChineseDate(text: string, today: IsoDate): IsoDate | 'invalid' | null {
  const r = readDate(text, today);
  return r === null ? null : r.kind === 'date' ? r.date : 'invalid';
}

/** A day that has not come yet cannot be when something was done: the refusal, or null. */
export function futureDateRefusal(date: IsoDate, today: IsoDate, what = '登记'): string | null {
  if (date <= today) return null;
  return `日期 ${formatDateCn(date, today)} 还没到，不能${what}未来的日期（今天是 ${formatDateCn(today, today)}）。已经完成的请写实际完成的日期，例如 今天 或 昨天。`;
}
