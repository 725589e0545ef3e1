import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { createScheduleRepo } from '../../../src/store/schedule-repo.js';
import { createWorkflowRepos } from '../../../src/store/workflow-repos.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { addDays } from '../../../src/workflow/dates.js';
import { dueItemsFor } from '../../../src/workflow/progress.js';
import { computeReminders } from '../../../src/workflow/reminders/planner.js';
import { slotOn } from '../../../src/workflow/schedule/daily-slots.js';
import { stagesFor } from '../../../src/workflow/stage-templates.js';
import { runTs } from '../../helpers/spawn.js';
import { openTestDb } from '../../helpers/store.js';
import { sampleCampaign, seedCampaign } from '../../helpers/roster.js';
import { startTestRuntime, tempDir, type TestEnv } from '../../helpers/test-runtime.js';

/**
 * Issue 14: a plan imported with its deadlines already past (a county joining mid-campaign) is
 * escalated to the township leaders once, at the next slot, one card per leader listing every
 * item, marked 补充督办; not again the next day, nor after a restart; an item going overdue
 * normally is still escalated on its day 2. The expected items come from the 我的 read model
 * (`dueItemsFor`), which is written independently of the reminder planner.
 */
const TZ = 'Asia/Shanghai';
const T = '2026-12-20';
const at = (date: string, hhmm: string) => slotOn(date, hhmm, TZ).at;
// Election 30 days before T: the last stage (election day + 20) was due 10 days before T, so every
// stage and talk is at least 10 days overdue. Village 0 elects later: its first stage (−45 days) is
// due the day before T, so it reaches day 2 on T + 1, the normal way.
const LATE_ELECTION = addDays(T, 44);
const campaign = sampleCampaign({ townships: 2, villagesPerTownship: 3, electionDay: (i) => (i === 0 ? LATE_ELECTION : addDays(T, -30)) });
// A second leader in township 0: one item reaches two leaders, each once.
campaign.people.push({ name: '副镇长甲', openId: 'ou_leader_t0b', role: '领导', county: campaign.county, township: campaign.townships[0]!, villages: [] });
const leadersOf = (township: string) => campaign.people.filter((p) => p.role === '领导' && p.township === township).map((p) => p.openId);
const firstStage = stagesFor('村')[0]!;

describe('an imported backlog is escalated once', () => {
  const clock = new ManualClock(at(T, '08:00'));
  const dir = tempDir('hj-catchup-');
  let t: TestEnv;
  const start = async () => {
    t = await startTestRuntime({ dir, clock, env: { TZ_NAME: TZ, QUIET_HOURS: '22:00-07:30', REMINDER_TIME: '09:00' } });
  };
  const ctx = (): WorkflowContext => ({ repos: t.rt.workflow.repos, tz: TZ, clock });
  const tick = async (date: string, hhmm: string) => {
    clock.set(at(date, hhmm));
    await t.rt.reminders.scheduler.tick();
  };
  const count = (table: string, where = '1 = 1') => Number((t.rt.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n);
  /** Escalations recorded for a day: leader → item keys. */
  const escalations = (day: string) =>
    new Map(
      t.rt.reminders.schedule
        .deliveries(day)
        .filter((d) => d.kind === 'escalation' && d.status === 'queued')
        .map((d) => [d.open_id, (JSON.parse(d.items) as { key: string }[]).map((i) => i.key).sort()]),
    );
  /** From the 我的 read model: every item at least `minLate` days overdue, by leader of its township. */
  function overdueByLeader(day: string, minLate: number): Map<string, string[]> {
    const byTownship = new Map<string, Set<string>>();
    for (const p of t.rt.workflow.repos.roster.people()) {
      for (const i of dueItemsFor(ctx(), p, { day })) {
        if (i.overdueDays < minLate) continue;
        const key = i.kind === 'stage' ? `stage:${i.villageId}:${i.stageKey}` : `talk:${i.talkId}`;
        if (!byTownship.has(i.township)) byTownship.set(i.township, new Set());
        byTownship.get(i.township)!.add(key);
      }
    }
    const out = new Map<string, string[]>();
    for (const [township, keys] of byTownship) for (const l of leadersOf(township)) out.set(l, [...keys].sort());
    return out;
  }
  let backlog: Map<string, string[]>;

  beforeAll(async () => {
    await start();
    seedCampaign(t.rt.workflow.repos, campaign);
    backlog = overdueByLeader(T, 2);
  }, 60_000);
  afterAll(async () => {
    await t.close({ remove: true });
  });

  it('the dry run shows the catch-up escalations and records nothing', async () => {
    const planned = computeReminders(ctx(), t.rt.reminders.schedule, T).filter((m) => m.kind === 'escalation');
    expect(new Map(planned.map((m) => [m.to.openId, m.items.map((i) => i.key).sort()]))).toEqual(backlog);
    expect(planned.every((m) => m.items.every((i) => i.catchUp && i.overdueDays >= 10))).toBe(true);

    // The CLI, a separate process on the same database.
    const text = await runTs('src/cli/main.ts', ['reminders', 'due', '--at', `${T}T09:00:00+08:00`], { env: { DATA_DIR: dir, TZ_NAME: TZ } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('补充督办');
    expect(text.stdout).toMatch(/逾期\d+天/);
    const json = await runTs('src/cli/main.ts', ['reminders', 'due', '--at', `${T}T09:00:00+08:00`, '--json'], { env: { DATA_DIR: dir, TZ_NAME: TZ } });
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { to: string; kind: string; items: { overdue_days: number; catch_up?: boolean }[] });
    const esc = lines.filter((l) => l.kind === 'escalation');
    expect(esc.map((l) => l.to).sort()).toEqual([...backlog.keys()].sort());
    expect(esc.every((l) => l.items.every((i) => i.catch_up === true && i.overdue_days >= 10))).toBe(true);

    for (const table of ['reminder_escalations', 'reminder_deliveries', 'sched_slots', 'outbox']) expect(count(table), table).toBe(0);
  }, 120_000);

  it('the next slot sends one card per township leader listing every overdue item, marked 补充督办', async () => {
    await tick(T, '08:59');
    expect(count('sched_slots', `job = 'reminders'`)).toBe(0);
    await tick(T, '09:00');
    expect(escalations(T)).toEqual(backlog);
    expect(backlog.size).toBe(3); // two leaders of township 0, one of township 1; the county leader is not told
    for (const keys of backlog.values()) expect(keys.length).toBeGreaterThan(20);

    const rows = t.rt.db.prepare(`SELECT receive_id, content FROM outbox WHERE intent LIKE ? ORDER BY receive_id`).all(`escalation:%:${T}`) as { receive_id: string; content: string }[];
    expect(rows.map((r) => r.receive_id)).toEqual([...backlog.keys()].sort());
    for (const r of rows) {
      expect(r.content).toContain('补充督办');
      expect(r.content).toMatch(/逾期\d{2}天/);
    }
    const recorded = t.rt.reminders.schedule.escalations();
    expect(recorded.length).toBe(new Set([...backlog.values()].flat()).size);
    expect(recorded.every((e) => e.escalated_on === T && e.catch_up === 1 && e.overdue_days >= 10)).toBe(true);
  });

  it('a slot re-planned after dying half-way reaches the leader it had not reached, and nobody twice', async () => {
    // As if the process died after the transaction with the first leader's card, before the second's.
    const missing = 'ou_leader_t0b';
    t.rt.db.prepare(`DELETE FROM outbox WHERE intent = ?`).run(`escalation:${missing}:${T}`);
    t.rt.db.prepare(`DELETE FROM reminder_deliveries WHERE slot_date = ? AND kind = 'escalation' AND open_id = ?`).run(T, missing);
    t.rt.db.prepare(`DELETE FROM sched_slots WHERE job = 'reminders' AND slot_date = ?`).run(T);
    const recorded = count('reminder_escalations');
    await tick(T, '15:00');
    expect(escalations(T)).toEqual(backlog);
    expect(count('outbox', `intent LIKE 'escalation:%'`)).toBe(3);
    expect(count('reminder_escalations')).toBe(recorded);
  });

  it('the next day: only the item reaching day 2 normally, not the backlog again', async () => {
    await tick(addDays(T, 1), '09:00');
    const village0 = t.rt.workflow.repos.roster.villages().find((v) => v.name === campaign.villages[0]!.name && v.township === campaign.townships[0])!;
    const key = `stage:${village0.id}:${firstStage.key}`;
    expect(escalations(addDays(T, 1))).toEqual(new Map(leadersOf(campaign.townships[0]!).map((l) => [l, [key]])));
    const row = t.rt.reminders.schedule.deliveries(addDays(T, 1)).find((d) => d.kind === 'escalation')!;
    expect(JSON.parse(row.items)).toEqual([expect.not.objectContaining({ catch_up: true })]);
    const content = (t.rt.db.prepare(`SELECT content FROM outbox WHERE intent = ?`).get(`escalation:${row.open_id}:${addDays(T, 1)}`) as { content: string }).content;
    expect(content).toContain('今天逾期满 2 天');
    expect(content).not.toContain('补充督办');
    expect(t.rt.reminders.schedule.escalations().find((e) => e.item_key === key)).toMatchObject({ escalated_on: addDays(T, 1), catch_up: 0, overdue_days: 2 });
    // Reminders to the cadres go on every day as before.
    expect(t.rt.reminders.schedule.deliveries(addDays(T, 1)).filter((d) => d.kind === 'reminder').length).toBeGreaterThan(0);
  });

  it('after a restart (a new runtime on the same database): no escalation again', async () => {
    await t.close();
    clock.set(at(addDays(T, 2), '08:00'));
    await start();
    await tick(addDays(T, 2), '09:00');
    expect(t.rt.reminders.schedule.slot('reminders', addDays(T, 2))?.status).toBe('sent');
    expect(escalations(addDays(T, 2))).toEqual(new Map());
    expect(count('outbox', `intent LIKE 'escalation:%'`)).toBe(3 + 2);
  });

  it('a deadline moved by a re-import and missed again is escalated once more, on its day 2', async () => {
    const village = campaign.villages[1]!;
    const stage = stagesFor(village.type).find((s) => !s.optional)!;
    const moved = addDays(T, 1);
    seedCampaign(t.rt.workflow.repos, { ...campaign, overrides: [{ village: village.name, township: village.township, stage: stage.name, deadline: moved }] });
    const id = t.rt.workflow.repos.roster.villages().find((v) => v.name === village.name && v.township === village.township)!.id;
    const key = `stage:${id}:${stage.key}`;
    await tick(addDays(T, 3), '09:00'); // the new deadline is 2 days past
    const got = escalations(addDays(T, 3));
    expect([...got.values()]).toEqual(leadersOf(village.township).map(() => [key]));
    expect(t.rt.reminders.schedule.escalations().filter((e) => e.item_key === key).map((e) => [e.due, e.escalated_on])).toEqual([
      [addDays(T, -30 + stage.offsetDays), T],
      [moved, addDays(T, 3)],
    ]);
    await tick(addDays(T, 4), '09:00');
    expect(escalations(addDays(T, 4))).toEqual(new Map());
  });
});

describe('migration 010 on a database escalated before it', () => {
  it('records what was escalated (sent) and leaves what was missed in downtime to be caught up', () => {
    const file = join(tempDir('hj-catchup-mig-'), 'huanjie.db');
    const c = sampleCampaign({ townships: 1, villagesPerTownship: 2, electionDay: addDays(T, -30) });
    let db = openTestDb(file);
    seedCampaign(db, c);
    const repos = createWorkflowRepos(db);
    const [v0, v1] = repos.roster.villages();
    const talk = repos.talks.all()[0]!;
    const stage = stagesFor('村')[0]!;
    const item = (key: string, due: string) => ({ key, village: '', what: '', due, overdue_days: 2 });
    const sent = [item(`stage:${v0!.id}:${stage.key}`, addDays(T, -75)), item(`talk:${talk.id}`, talk.due_date!)];
    const missed = [item(`stage:${v1!.id}:${stage.key}`, addDays(T, -75))];
    const schedule = createScheduleRepo(db);
    for (const [slot, items, status] of [[addDays(T, -5), sent, 'queued'], [addDays(T, -3), sent, 'queued'], [addDays(T, -4), missed, 'missed']] as const) {
      schedule.addDelivery({ slot_date: slot, kind: 'escalation', open_id: c.ids.townshipLeaders[0]!, person_name: '', items: JSON.stringify(items), item_count: items.length, status, outbox_uuid: null, planned_at: 1 });
    }
    // Back to before migration 010, as a database of the previous release.
    db.exec('DROP TABLE reminder_escalations');
    db.prepare('DELETE FROM schema_migrations WHERE version = 10').run();
    db.close();

    db = openTestDb(file);
    const after = createScheduleRepo(db);
    const county = createWorkflowRepos(db).roster.counties()[0]!.id;
    expect(after.escalations().map((e) => [e.item_key, e.due, e.county_id, e.escalated_on, e.catch_up])).toEqual(
      sent.map((i) => [i.key, i.due, county, addDays(T, -5), 0]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // The next slot escalates only what nobody was told: the item missed in downtime, as a catch-up.
    const ctx: WorkflowContext = { repos: createWorkflowRepos(db), tz: TZ, clock: new ManualClock(at(T, '09:00')) };
    const esc = computeReminders(ctx, after, T).filter((m) => m.kind === 'escalation');
    const keys = new Set(esc.flatMap((m) => m.items.map((i) => i.key)));
    for (const i of sent) expect(keys.has(i.key), i.key).toBe(false);
    expect(keys.has(missed[0]!.key)).toBe(true);
    db.close();
  });
});
