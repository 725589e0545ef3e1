import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateProvince, type ProvinceSummary } from '../../../bench/province-data.js';
import { ManualClock } from '../../../src/clock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { openTestDb } from '../../helpers/store.js';
import { createOutboxRepo } from '../../../src/store/outbox-repo.js';
import { createScheduleRepo } from '../../../src/store/schedule-repo.js';
import { createWorkflowRepos } from '../../../src/store/workflow-repos.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { computeReminders, planReminderSlot, reminderBatches } from '../../../src/workflow/reminders/planner.js';
import { slotOn } from '../../../src/workflow/schedule/daily-slots.js';

/**
 * The slot is planned a county at a time (bounded memory). A cadre lent to a
 * village across the county line must still get one message with all items.
 */
const DAY = '2026-11-10';
let dir: string;
let db: Db;
let ctx: WorkflowContext;
let gen: ProvinceSummary;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hj-rem-counties-'));
  db = openTestDb(join(dir, 'p.db'));
  gen = generateProvince(db, { villages: 300, villagesPerCounty: 100, townshipsPerCounty: 5, people: 600, talks: 900, seed: 9, today: DAY });
  ctx = { repos: createWorkflowRepos(db), tz: 'Asia/Shanghai', clock: new ManualClock(slotOn(DAY, '09:00', 'Asia/Shanghai').at) };
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const schedule = () => createScheduleRepo(db);

describe('reminder slot, county by county', () => {
  it('one batch per county, no person twice in a kind', () => {
    const batches = [...reminderBatches(ctx, schedule(), DAY)];
    expect(batches.length).toBe(3);
    const seen = new Set<string>();
    for (const m of batches.flat()) {
      const k = `${m.kind}:${m.to.openId}`;
      expect(seen.has(k), k).toBe(false);
      seen.add(k);
    }
  });

  it('a cadre with villages in two counties gets one message listing both', () => {
    const first = computeReminders(ctx, schedule(), DAY);
    const [a, b] = gen.counties;
    const villagesOf = (countyId: number) => ctx.repos.roster.villages().filter((v) => v.countyId === countyId).map((v) => v.id);
    const inA = new Set(villagesOf(a!.id));
    const inB = new Set(villagesOf(b!.id));
    // A reminded cadre of county A, and a village of county B with something due.
    const cadre = first.find((m) => m.kind === 'reminder' && m.items.every((i) => i.villageId !== null && inA.has(i.villageId)))!.to;
    const other = first.find((m) => m.kind === 'reminder' && m.items.some((i) => i.villageId !== null && inB.has(i.villageId)))!;
    const lent = other.items.find((i) => i.villageId !== null && inB.has(i.villageId))!.villageId!;
    ctx.repos.roster.setAssignments(cadre.id, [...ctx.repos.roster.assignedVillageIds(cadre.id), lent]);
    expect(ctx.repos.roster.peopleInSeveralCounties().has(cadre.id)).toBe(true);

    const after = computeReminders(ctx, schedule(), DAY).filter((m) => m.kind === 'reminder' && m.to.id === cadre.id);
    expect(after).toHaveLength(1);
    const villages = new Set(after[0]!.items.map((i) => i.villageId));
    expect([...villages].some((v) => inA.has(v!))).toBe(true);
    expect(villages.has(lent)).toBe(true);
    const dues = after[0]!.items.map((i) => i.due);
    expect(dues).toEqual([...dues].sort());

    // The real run writes the same: one delivery for the cadre with every item.
    const r = planReminderSlot(
      { db, ctx, schedule: schedule(), outbox: createOutboxRepo(db), wallNow: () => Date.now(), onMessages: () => {} },
      { date: DAY, at: ctx.clock.now() },
      'send',
    );
    expect(r.messages).toBe(computeReminders(ctx, schedule(), DAY).length);
    const row = db.prepare(`SELECT item_count FROM reminder_deliveries WHERE slot_date = ? AND kind = 'reminder' AND open_id = ?`).all(DAY, cadre.openId) as { item_count: number }[];
    expect(row).toEqual([{ item_count: after[0]!.items.length }]);
  });
});
