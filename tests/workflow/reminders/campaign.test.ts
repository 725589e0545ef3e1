import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { parseEnvelope } from '../../../src/bot/envelope.js';
import { recordStage } from '../../../src/workflow/checkin.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { addDays } from '../../../src/workflow/dates.js';
import { dueItemsFor } from '../../../src/workflow/progress.js';
import { isQuiet, slotOn } from '../../../src/workflow/schedule/daily-slots.js';
import { stagesFor } from '../../../src/workflow/stage-templates.js';
import { cardActionEvent } from '../../helpers/events.js';
import { sampleCampaign, seedCampaign } from '../../helpers/roster.js';
import { startTestRuntime, tempDir, type TestEnv } from '../../helpers/test-runtime.js';

/**
 * A whole campaign, day by day, with the injected clock: 3 townships, 40
 * villages, 60 people, 40 days. The expected reminders of each day are worked
 * out from `dueItemsFor` (the 我的 read model, written independently of the
 * reminder planner) and compared with what the planner recorded and queued.
 */
const TZ = 'Asia/Shanghai';
const QUIET = { start: '22:00', end: '07:30' };
const START = '2026-11-01';
const DAYS = 40;
const at = (date: string, hhmm: string) => slotOn(date, hhmm, TZ).at;

const campaign = sampleCampaign({
  townships: 3,
  villagesPerTownship: [14, 13, 13],
  cadresPerVillage: 1,
  extraCadres: 12,
  electionDay: (i) => addDays('2026-12-05', i % 15),
});

interface DayLog {
  day: string;
  expected: Map<string, string[]>;
  escalations: Map<string, string[]>;
  /** Escalated items past day 2 (never escalated before: overdue at import, or day 2 in the outage). */
  catchUps: Set<string>;
}

describe('reminders over a simulated 40-day campaign', () => {
  const clock = new ManualClock(at(START, '06:00'));
  const dir = tempDir('hj-sim-');
  let t: TestEnv;
  const days: DayLog[] = [];
  /** Planning ticks and whether anything was planned in them. */
  const ticks: { at: number; planned: number }[] = [];
  const snoozes: { openId: string; key: string; from: string; until: string }[] = [];
  const completed = new Map<string, string>(); // item key → day completed
  const outages = { twoHours: addDays(START, 24), twoDaysFrom: addDays(START, 30) };
  const restartDay = addDays(START, 20);

  const ctx = (): WorkflowContext => ({ repos: t.rt.workflow.repos, tz: TZ, clock });
  const start = async () => {
    t = await startTestRuntime({ dir, clock, env: { TZ_NAME: TZ, QUIET_HOURS: '22:00-07:30', REMINDER_TIME: '09:00' } });
  };
  const tick = async (date: string, hhmm: string) => {
    clock.set(at(date, hhmm));
    const before = t.rt.db.prepare('SELECT COUNT(*) AS n FROM sched_slots').get() as { n: number };
    await t.rt.reminders.scheduler.tick();
    const after = t.rt.db.prepare('SELECT COUNT(*) AS n FROM sched_slots').get() as { n: number };
    ticks.push({ at: clock.now(), planned: after.n - before.n });
  };

  /** Deadlines the oracle has seen escalated (`key|due`): each is escalated once, on day 2 or, if it was never, later. */
  const escalatedDeadlines = new Set<string>();

  /** What the day should bring, from the 我的 read model and the snoozes the test made. */
  function oracle(day: string): Pick<DayLog, 'expected' | 'escalations' | 'catchUps'> {
    const expected = new Map<string, string[]>();
    const late2 = new Map<number, Set<string>>();
    const catchUps = new Set<string>();
    const people = t.rt.workflow.repos.roster.people();
    const townshipIds = new Map(t.rt.workflow.repos.roster.townships().map((x) => [x.name, x.id]));
    const escalatedToday = new Set<string>();
    for (const p of people) {
      const keys: string[] = [];
      for (const i of dueItemsFor(ctx(), p, { day })) {
        const key = i.kind === 'stage' ? `stage:${i.villageId}:${i.stageKey}` : `talk:${i.talkId}`;
        const deadline = `${key}|${i.due}`;
        if (i.overdueDays >= 2 && !escalatedDeadlines.has(deadline)) {
          // A talk held at a township has no village: its township is the place itself.
          const township = i.villageId !== null ? t.rt.workflow.repos.roster.village(i.villageId)!.townshipId : (townshipIds.get(i.township) ?? -1);
          if (!late2.has(township)) late2.set(township, new Set());
          late2.get(township)!.add(key);
          if (i.overdueDays > 2) catchUps.add(key);
          escalatedToday.add(deadline);
        }
        const due = i.overdueDays > 0 || [0, -1, -3].includes(i.overdueDays);
        const snoozed = snoozes.some((s) => s.openId === p.openId && s.key === key && s.from <= day && day < s.until);
        if (due && !snoozed) keys.push(key);
      }
      if (keys.length) expected.set(p.openId!, keys.sort());
    }
    const escalations = new Map<string, string[]>();
    for (const [townshipId, keys] of late2) {
      for (const l of people.filter((p) => p.role === '领导' && p.scopeId === townshipId)) escalations.set(l.openId!, [...keys].sort());
    }
    // Only days whose slot is sent get here (the 2-day outage is skipped): what was missed stays unescalated.
    for (const d of escalatedToday) escalatedDeadlines.add(d);
    return { expected, escalations, catchUps };
  }

  function delivered(day: string, kind: 'reminder' | 'escalation', status = 'queued'): Map<string, string[]> {
    const rows = t.rt.reminders.schedule.deliveries(day).filter((d) => d.kind === kind && d.status === status);
    return new Map(rows.map((r) => [r.open_id, (JSON.parse(r.items) as { key: string }[]).map((i) => i.key).sort()]));
  }

  /** Each day some villages complete their next stage (in template order, so prerequisites hold). */
  function checkIns(day: string, d: number) {
    const villages = t.rt.workflow.repos.roster.villages();
    villages.forEach((v, i) => {
      if ((i + d) % 3 !== 0) return;
      const progress = t.rt.workflow.repos.plan.progress(v.id);
      const next = stagesFor(v.type).find((s) => !s.optional && progress.get(s.key)?.status !== '已完成');
      if (!next) return;
      const cadre = t.rt.workflow.repos.roster.assignees(v.id)[0]!;
      try {
        recordStage(ctx(), { sourceId: `sim:${day}:${v.id}`, actor: cadre.openId!, actorName: cadre.name, village: v, stage: next, status: '已完成', date: day });
        completed.set(`stage:${v.id}:${next.key}`, day);
      } catch {
        // a stage this village's template does not allow yet: skipped, as a cadre would
      }
    });
  }

  beforeAll(async () => {
    await start();
    seedCampaign(t.rt.workflow.repos, campaign);
    expect(t.rt.workflow.repos.roster.people()).toHaveLength(60);
    expect(t.rt.workflow.repos.roster.villages()).toHaveLength(40);

    for (let d = 0; d < DAYS; d++) {
      const day = addDays(START, d);
      const inTwoDayOutage = day >= outages.twoDaysFrom && day < addDays(outages.twoDaysFrom, 2);
      if (inTwoDayOutage) continue; // the service is down: nothing ticks
      if (day === addDays(outages.twoDaysFrom, 2)) {
        // Back after two days: a new process at 08:00.
        await t.close();
        clock.set(at(day, '08:00'));
        await start();
        await tick(day, '08:00');
      }
      if (day === restartDay) {
        // A restart in the middle of the campaign: a new process on the same database.
        await t.close();
        await start();
      }
      await tick(day, '07:00'); // quiet hours
      await tick(day, '08:59');
      const o = oracle(day);
      if (day === outages.twoHours) {
        // Down from 08:00 to 10:00: the 09:00 slot is caught up at start, an hour late.
        await t.close();
        clock.set(at(day, '10:00'));
        await start();
        await tick(day, '10:00');
      } else {
        await tick(day, '09:00');
      }
      await tick(day, '09:01');
      await tick(day, '15:00');
      await tick(day, '23:30'); // quiet hours
      days.push({ day, ...o });
      checkIns(day, d);
      if (d === 5 || d === 12) {
        // A cadre presses 延后3天 on the first item of today's reminder, through the card callback.
        const first = [...delivered(day, 'reminder')].find(([, keys]) => keys.length > 0)!;
        const env = parseEnvelope(cardActionEvent({ value: { action: 'reminder_snooze', item: first[1][0], days: 3 }, openId: first[0], eventId: `ev_snooze_${d}` }));
        if (!env.ok) throw new Error(env.reason);
        const r = await t.rt.intake.receive(env.envelope);
        expect(JSON.stringify(r)).toContain('已延后');
        snoozes.push({ openId: first[0], key: first[1][0]!, from: addDays(day, 1), until: addDays(day, 3) });
      }
    }
    await t.rt.idle();
  }, 120_000);

  afterAll(async () => {
    await t.close({ remove: true });
  });

  it('sends every due item to every responsible person at each slot, and nothing else', () => {
    let checked = 0;
    for (const d of days) {
      if (d.day >= outages.twoDaysFrom && d.day < addDays(outages.twoDaysFrom, 2)) continue;
      expect(delivered(d.day, 'reminder'), d.day).toEqual(d.expected);
      checked += [...d.expected.values()].reduce((n, k) => n + k.length, 0);
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('queues exactly one message per person per slot, each in the outbox once', () => {
    const rows = t.rt.db
      .prepare(`SELECT intent, COUNT(*) AS n FROM outbox WHERE intent LIKE 'reminder:%' OR intent LIKE 'escalation:%' GROUP BY intent`)
      .all() as { intent: string; n: number }[];
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const queued = t.rt.db.prepare(`SELECT COUNT(*) AS n FROM reminder_deliveries WHERE status = 'queued'`).get() as { n: number };
    expect(rows.length).toBe(queued.n);
    const uuids = t.rt.db.prepare(`SELECT COUNT(*) AS n FROM reminder_deliveries d JOIN outbox o ON o.uuid = d.outbox_uuid`).get() as { n: number };
    expect(uuids.n).toBe(queued.n);
  });

  it('plans nothing in quiet hours, and each slot once', () => {
    expect(ticks.filter((x) => isQuiet(x.at, QUIET, TZ)).every((x) => x.planned === 0)).toBe(true);
    const slots = t.rt.reminders.schedule.slots('reminders');
    expect(new Set(slots.map((s) => s.slot_date)).size).toBe(slots.length);
    expect(slots.every((s) => !isQuiet(s.planned_at, QUIET, TZ))).toBe(true);
    expect(slots).toHaveLength(DAYS);
  });

  it('never reminds of an item after it was completed', () => {
    for (const d of days) {
      for (const keys of delivered(d.day, 'reminder').values()) {
        for (const k of keys) {
          const done = completed.get(k);
          expect(done === undefined || done >= d.day, `${k} done ${done}, reminded ${d.day}`).toBe(true);
        }
      }
    }
    expect(completed.size).toBeGreaterThan(100);
  });

  it('escalates each deadline to the township leader once: on day 2, or at the first slot after (补充督办)', () => {
    let n = 0;
    const catchUpDays = new Set<string>();
    for (const d of days) {
      if (d.day >= outages.twoDaysFrom && d.day < addDays(outages.twoDaysFrom, 2)) continue;
      expect(delivered(d.day, 'escalation'), d.day).toEqual(d.escalations);
      n += d.escalations.size;
      // The catch-ups are marked as such, the others not.
      for (const r of t.rt.reminders.schedule.deliveries(d.day).filter((x) => x.kind === 'escalation')) {
        for (const i of JSON.parse(r.items) as { key: string; catch_up?: boolean }[]) expect(i.catch_up === true, `${d.day} ${i.key}`).toBe(d.catchUps.has(i.key));
      }
      if (d.catchUps.size) catchUpDays.add(d.day);
    }
    expect(n).toBeGreaterThan(10);
    // The campaign starts with stages already overdue (the backlog), and day 2 of some fell in the 2-day outage.
    expect(catchUpDays.has(START)).toBe(true);
    expect(catchUpDays.has(addDays(outages.twoDaysFrom, 2))).toBe(true);
    expect(t.rt.reminders.schedule.escalations().length).toBe(escalatedDeadlines.size);
  });

  it('respects 延后: the snoozed item is left out for that person until the snooze ends', () => {
    for (const s of snoozes) {
      expect(delivered(s.from, 'reminder').get(s.openId) ?? []).not.toContain(s.key);
      const back = delivered(s.until, 'reminder').get(s.openId) ?? [];
      if (!completed.has(s.key) || completed.get(s.key)! >= s.until) expect(back).toContain(s.key);
    }
    expect(snoozes).toHaveLength(2);
  });

  it('catches up a slot missed by a 2-hour outage, and records the slots of a 2-day outage as missed', () => {
    const slot = t.rt.reminders.schedule.slot('reminders', outages.twoHours)!;
    expect(slot.status).toBe('sent');
    expect(slot.planned_at).toBe(at(outages.twoHours, '10:00'));
    for (const day of [outages.twoDaysFrom, addDays(outages.twoDaysFrom, 1)]) {
      expect(t.rt.reminders.schedule.slot('reminders', day)!.status).toBe('missed');
      expect(delivered(day, 'reminder')).toEqual(new Map());
      expect(delivered(day, 'reminder', 'missed').size).toBeGreaterThan(0);
      const queued = t.rt.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE intent LIKE ?`).get(`%:${day}`) as { n: number };
      expect(queued.n).toBe(0);
    }
    expect(t.rt.reminders.schedule.missedSince(outages.twoDaysFrom).length).toBeGreaterThan(0);
  });
});

describe('a reminder time inside quiet hours', () => {
  it('waits for the end of quiet hours, then sends once', async () => {
    const clock = new ManualClock(slotOn('2026-11-10', '22:30', TZ).at);
    const t = await startTestRuntime({ clock, env: { REMINDER_TIME: '23:00', QUIET_HOURS: '22:00-07:30' } });
    try {
      seedCampaign(t.rt.workflow.repos, sampleCampaign({ electionDay: '2026-11-20' }));
      await t.rt.reminders.scheduler.tick();
      clock.set(slotOn('2026-11-10', '23:05', TZ).at);
      await t.rt.reminders.scheduler.tick();
      expect(t.rt.reminders.schedule.slots('reminders')).toHaveLength(0);
      clock.set(slotOn('2026-11-11', '07:31', TZ).at);
      await t.rt.reminders.scheduler.tick();
      await t.rt.reminders.scheduler.tick();
      const slots = t.rt.reminders.schedule.slots('reminders');
      expect(slots.map((s) => [s.slot_date, s.status])).toEqual([['2026-11-10', 'sent']]);
      expect(slots[0]!.messages).toBeGreaterThan(0);
    } finally {
      await t.close({ remove: true });
    }
  });
});
