import type { CountyFacts, DigestScope } from './data.js';
import { zhCompare } from './export-print.js';

/**
 * 乡镇排名 of the export, by the reader's scope:
 *  - a county leader: the townships of their county;
 *  - a township leader: the same county-wide ranking, their own township
 *    marked. Decided so because 晾晒 is a comparison — a ranking of one is
 *    no ranking — and it is what the daily digest and the dashboard already
 *    show them; it holds aggregate figures only (counts and rates per
 *    township), never another township's villages or people;
 *  - an admin without a scope: every county's townships, ranked within
 *    their county, the counties one after the other, best first, each
 *    headed by its own totals and place among the counties.
 * Today's export gave an admin the ranking of the counties only (a sheet
 * called 县(市、区)排名), no township of any county.
 */

export interface TownshipRank {
  rank: number;
  id: number;
  name: string;
  villages: number;
  /** Villages with every required stage done. */
  villagesAllDone: number;
  done: number;
  total: number;
  rate: number;
  dueTotal: number;
  dueDone: number;
  overdue: number;
  completedYesterday: number;
  own: boolean;
}

export interface RankGroup {
  countyId: number;
  county: string;
  /** The county's place among the counties (province-wide only). */
  countyRank: number | null;
  villages: number;
  done: number;
  total: number;
  rate: number;
  overdue: number;
  rows: TownshipRank[];
}

const byRate = <T extends { rate: number; overdue: number; name: string }>(a: T, b: T) => b.rate - a.rate || a.overdue - b.overdue || zhCompare(a.name, b.name);

export function townshipRanking(counties: readonly CountyFacts[], scope: DigestScope): RankGroup[] {
  const groups = counties.map((c): RankGroup => {
    const units = new Map(c.townships.map((t) => [t.id, { rank: 0, id: t.id, name: t.name, villages: 0, villagesAllDone: 0, done: 0, total: 0, rate: 0, dueTotal: 0, dueDone: 0, overdue: 0, completedYesterday: 0, own: scope.kind === 'township' && t.id === scope.id }]));
    for (const v of c.villages) {
      const u = units.get(v.townshipId);
      if (!u) continue;
      u.villages++;
      if (v.done === v.total) u.villagesAllDone++;
      u.done += v.done;
      u.total += v.total;
      u.dueTotal += v.dueTotal;
      u.dueDone += v.dueDone;
      u.overdue += v.overdue.length;
      u.completedYesterday += v.completedYesterday.length;
    }
    const rows = [...units.values()].filter((u) => u.villages > 0);
    for (const u of rows) u.rate = u.total ? u.done / u.total : 0;
    rows.sort(byRate);
    rows.forEach((u, i) => (u.rank = i + 1));
    const sum = (k: 'villages' | 'done' | 'total' | 'overdue') => rows.reduce((n, u) => n + u[k], 0);
    const total = sum('total');
    return { countyId: c.countyId, county: c.county, countyRank: null, villages: sum('villages'), done: sum('done'), total, rate: total ? sum('done') / total : 0, overdue: sum('overdue'), rows };
  });
  if (scope.kind !== 'all') return groups;
  const ranked = groups.filter((g) => g.villages > 0).sort((a, b) => b.rate - a.rate || a.overdue - b.overdue || zhCompare(a.county, b.county));
  ranked.forEach((g, i) => (g.countyRank = i + 1));
  return ranked;
}
