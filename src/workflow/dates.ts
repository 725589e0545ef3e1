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
 * A date as people type it in chat: 2026-11-20, 2026/11/20, 2026.11.20,
 * 2026年11月20日, 11月20日, 11/20, 11-20, 今天, 昨天, 前天, 3天前.
 * A date without a year is taken in the current year unless that is more than
 * half a year ahead (a December campaign reported in January means last year).
 * Returns null when the text is not a date; 'invalid' when it looks like one but
 * does not exist (2月30日).
 */
export function parseChineseDate(text: string, today: IsoDate): IsoDate | 'invalid' | null {
  const t = text.trim().replace(/号$/, '日');
  if (t in RELATIVE) return addDays(today, RELATIVE[t]!);
  let m = /^(\d+)天前$/.exec(t);
  if (m) {
    const n = Number(m[1]);
    return n <= 366 ? addDays(today, -n) : 'invalid';
  }
  m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isRealDate(y, mo, d) ? iso(y, mo, d) : 'invalid';
  }
  m = /^(\d{1,2})月(\d{1,2})日?$/.exec(t) ?? /^(\d{1,2})[/-](\d{1,2})$/.exec(t);
  if (m) {
    const [mo, d] = [Number(m[1]), Number(m[2])];
    const y = Number(today.slice(0, 4));
    if (!isRealDate(y, mo, d) && !(mo === 2 && d === 29 && isRealDate(y - 1, mo, d))) return 'invalid';
    const thisYear = isRealDate(y, mo, d) ? iso(y, mo, d) : null;
    if (thisYear && daysBetween(today, thisYear) <= 183) return thisYear;
    return isRealDate(y - 1, mo, d) ? iso(y - 1, mo, d) : 'invalid';
  }
  return null;
}
