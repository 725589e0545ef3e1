import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProvince, type ProvinceSummary } from '../../../bench/province-data.js';
import { ManualClock } from '../../../src/clock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { openTestDb } from '../../helpers/store.js';
import { createWorkflowRepos } from '../../../src/store/workflow-repos.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { buildDigest, buildDigests, type DigestData } from '../../../src/workflow/digest/data.js';
import { loadPrincipal } from '../../../src/workflow/permissions.js';

/**
 * The province-wide digest is built a county at a time, keeping only the best
 * candidates of each named list between counties. On a small generated
 * province (4 counties) it must give exactly what sorting everything would:
 * the same counts, and lists that are the head of the uncut lists.
 */
const DAY = '2026-11-10';
let dir: string;
let db: Db;
let ctx: WorkflowContext;
let gen: ProvinceSummary;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hj-province-'));
  db = openTestDb(join(dir, 'p.db'));
  gen = generateProvince(db, { villages: 400, villagesPerCounty: 100, townshipsPerCounty: 5, people: 900, talks: 1500, seed: 5, today: DAY });
  ctx = { repos: createWorkflowRepos(db), tz: 'Asia/Shanghai', clock: new ManualClock(Date.parse(`${DAY}T01:00:00Z`)) };
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const admin = () => loadPrincipal(ctx.repos.roster, { openId: gen.leaders.admin[0]!, isAdmin: true });
const countyLeader = (i: number) => loadPrincipal(ctx.repos.roster, { openId: gen.leaders.county[i]!, isAdmin: false });

/** Every named list of a digest, by name. */
const lists = (d: DigestData): Record<string, unknown[]> => ({
  completed: d.completedYesterday.items,
  overdueVillages: d.overdue.villages,
  overduePeople: d.overdue.byPerson,
  dueSoon: d.dueSoon.items,
  notReported: d.notReported.villages,
  notReportedPeople: d.notReported.people,
  overdueTalks: d.talks.overdueList,
  risks: d.risks.items,
  missing: d.structure.missing,
  unmet: d.structure.unmet,
});

describe('province-wide digest, county by county', () => {
  it('covers four counties with enough in every list to be cut', () => {
    expect(gen.counties).toHaveLength(4);
    const d = buildDigest(ctx, admin(), DAY, { maxListItems: Infinity });
    for (const [name, xs] of Object.entries(lists(d))) if (name !== 'completed' && name !== 'missing' && name !== 'unmet') expect(xs.length, name).toBeGreaterThan(4);
  });

  it('cut lists are the head of the uncut lists, counts unchanged', () => {
    const full = buildDigest(ctx, admin(), DAY, { maxListItems: Infinity });
    const cut = buildDigest(ctx, admin(), DAY, { maxListItems: 4 });
    const a = lists(full);
    for (const [name, xs] of Object.entries(lists(cut))) expect(xs, name).toEqual(a[name]!.slice(0, 4));
    expect({ ...cut, ...lists(cut), completedYesterday: null, overdue: null, dueSoon: null, notReported: null, talks: null, risks: null, structure: null }).toEqual({
      ...full,
      ...lists(cut),
      completedYesterday: null,
      overdue: null,
      dueSoon: null,
      notReported: null,
      talks: null,
      risks: null,
      structure: null,
    });
    expect(cut.overdue.total).toBe(full.overdue.total);
    expect(cut.notReported.peopleCount).toBe(full.notReported.peopleCount);
    expect(cut.talks.byCategory).toEqual(full.talks.byCategory);
    expect(cut.structure.byTarget).toEqual(full.structure.byTarget);
  });

  it('adds up to the four county digests', () => {
    const whole = buildDigest(ctx, admin(), DAY, { maxListItems: Infinity });
    const parts = gen.counties.map((_, i) => buildDigest(ctx, countyLeader(i), DAY));
    const sum = (f: (d: DigestData) => number) => parts.reduce((n, d) => n + f(d), 0);
    expect(whole.villages).toBe(400);
    for (const f of [
      (d: DigestData) => d.villages,
      (d: DigestData) => d.completion.done,
      (d: DigestData) => d.completion.total,
      (d: DigestData) => d.overdue.total,
      (d: DigestData) => d.overdue.villageCount,
      (d: DigestData) => d.dueSoon.total,
      (d: DigestData) => d.notReported.count,
      (d: DigestData) => d.talks.total,
      (d: DigestData) => d.talks.overdue,
      (d: DigestData) => d.risks.open,
      (d: DigestData) => d.structure.reported,
    ])
      expect(f(whole)).toBe(sum(f));
    // 晾晒 province-wide: one row per county, with the county digest's totals.
    expect(whole.ranking.level).toBe('county');
    for (const [i, c] of gen.counties.entries()) {
      const row = whole.ranking.rows.find((r) => r.id === c.id)!;
      expect([row.villages, row.done, row.total, row.overdue]).toEqual([parts[i]!.villages, parts[i]!.completion.done, parts[i]!.completion.total, parts[i]!.overdue.total]);
    }
    expect(new Set(whole.ranking.rows.map((r) => r.rank)).size).toBe(4);
  });

  it('the daily batch gives every leader what buildDigest gives, admins included', () => {
    const leaders = [admin(), countyLeader(0), countyLeader(2), loadPrincipal(ctx.repos.roster, { openId: gen.leaders.township[7]!, isAdmin: false })];
    const out = [...buildDigests(ctx, leaders, DAY, { weekly: true })];
    expect(out.map((r) => r.leader.openId).sort()).toEqual(leaders.map((l) => l.openId).sort());
    for (const r of out) expect(r.data, r.leader.openId).toEqual(buildDigest(ctx, r.leader, DAY, { weekly: true }));
  });
});
