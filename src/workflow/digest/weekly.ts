import { addDays } from '../dates.js';
import type { IsoDate } from '../types.js';

/**
 * 周调度: on Mondays the digest compares the week that just ended (本周 =
 * last Monday … Sunday, D−7 … D−1) with the week before (上周 = D−14 … D−8).
 * Everything is reconstructed from dates already stored (stage
 * `completed_on`, stage deadlines, talk `held_on`, risk open/close times), so
 * no snapshots are needed. docs/digest.md defines each figure.
 */

/** Monday = the day of the weekly comparison. */
export function isWeeklyDay(date: IsoDate): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() === 1;
}

export interface WeekWindows {
  /** First and last day of the week just ended (Monday … Sunday when the digest day is a Monday). */
  thisWeek: { from: IsoDate; to: IsoDate };
  prevWeek: { from: IsoDate; to: IsoDate };
}

export function weekWindows(date: IsoDate): WeekWindows {
  return {
    thisWeek: { from: addDays(date, -7), to: addDays(date, -1) },
    prevWeek: { from: addDays(date, -14), to: addDays(date, -8) },
  };
}

/**
 * Per-village weekly counters, filled in the digest's single pass over the
 * stages (one call per required stage).
 */
export interface WeekCounters {
  /** Required stages done by the end of each week (completion rate numerators). */
  doneEndThis: number;
  doneEndPrev: number;
  /** Stages whose completion date falls in the week. */
  completedThis: number;
  completedPrev: number;
  /** Stages overdue on the digest day whose deadline passed during the week just ended (and the same one week earlier). */
  newOverdueThis: number;
  newOverduePrev: number;
}

export function emptyWeek(): WeekCounters {
  return { doneEndThis: 0, doneEndPrev: 0, completedThis: 0, completedPrev: 0, newOverdueThis: 0, newOverduePrev: 0 };
}

/**
 * Adds one required stage. `doneOn` = completion date (null when not done);
 * `deadline` may be null (no election day yet).
 */
export function countWeek(c: WeekCounters, w: WeekWindows, doneOn: IsoDate | null, deadline: IsoDate | null): void {
  const { thisWeek: t, prevWeek: p } = w;
  if (doneOn !== null) {
    if (doneOn <= t.to) c.doneEndThis++;
    if (doneOn <= p.to) c.doneEndPrev++;
    if (doneOn >= t.from && doneOn <= t.to) c.completedThis++;
    else if (doneOn >= p.from && doneOn <= p.to) c.completedPrev++;
  }
  if (deadline !== null) {
    // Overdue on day X = deadline < X and not done by X. Monday mornings: X = digest day (D) and D−7.
    const digestDay = addDaysCached(t.to, 1);
    const prevMonday = t.from;
    if (deadline >= t.from && deadline <= t.to && !(doneOn !== null && doneOn <= digestDay)) c.newOverdueThis++;
    if (deadline >= p.from && deadline <= p.to && !(doneOn !== null && doneOn <= prevMonday)) c.newOverduePrev++;
  }
}

const nextDay = new Map<string, string>();
function addDaysCached(d: IsoDate, n: 1): IsoDate {
  let v = nextDay.get(d);
  if (v === undefined) {
    v = addDays(d, n);
    if (nextDay.size > 1000) nextDay.clear();
    nextDay.set(d, v);
  }
  return v;
}

export function addWeek(into: WeekCounters, c: WeekCounters): void {
  into.doneEndThis += c.doneEndThis;
  into.doneEndPrev += c.doneEndPrev;
  into.completedThis += c.completedThis;
  into.completedPrev += c.completedPrev;
  into.newOverdueThis += c.newOverdueThis;
  into.newOverduePrev += c.newOverduePrev;
}

/** One row of the weekly comparison: a township (or a county for a province-wide digest), or the whole scope. */
export interface WeeklyRow {
  id: number | null;
  name: string;
  /** Required stages (denominator of both rates). */
  total: number;
  /** Completion rate at the end of the week just ended, and at the end of the week before. */
  rateThis: number;
  ratePrev: number;
  /** rateThis − ratePrev (in points of 1, e.g. 0.05 = +5 个百分点). */
  delta: number;
  completedThis: number;
  completedPrev: number;
  newOverdueThis: number;
  newOverduePrev: number;
}

export interface WeeklyData {
  windows: WeekWindows;
  /** The leader's scope as a whole. */
  total: WeeklyRow;
  /** Per township (per county when the scope is province-wide), biggest progress first. */
  rows: WeeklyRow[];
  talksHeldThis: number;
  talksHeldPrev: number;
  risksOpenedThis: number;
  risksOpenedPrev: number;
  risksClosedThis: number;
  risksClosedPrev: number;
}

export function weeklyRow(id: number | null, name: string, total: number, c: WeekCounters): WeeklyRow {
  const rateThis = total ? c.doneEndThis / total : 0;
  const ratePrev = total ? c.doneEndPrev / total : 0;
  return {
    id,
    name,
    total,
    rateThis,
    ratePrev,
    delta: rateThis - ratePrev,
    completedThis: c.completedThis,
    completedPrev: c.completedPrev,
    newOverdueThis: c.newOverdueThis,
    newOverduePrev: c.newOverduePrev,
  };
}

/** Sorts weekly rows: biggest gain first, then most completed, then name. */
export function sortWeekly(rows: WeeklyRow[]): WeeklyRow[] {
  return rows.sort((a, b) => b.delta - a.delta || b.completedThis - a.completedThis || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
