import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { overdueStages } from '../../../src/workflow/progress.js';
import { slotOn } from '../../../src/workflow/schedule/daily-slots.js';
import { sampleCampaign, seedCampaign } from '../../helpers/roster.js';
import { startTestRuntime, tempDir, type TestEnv } from '../../helpers/test-runtime.js';

const TZ = 'Asia/Shanghai';
const at = (d: string, t: string) => slotOn(d, t, TZ).at;

/** The digest at DIGEST_TIME: one per leader and admin per day, through restarts and outages. */
describe('scheduled daily digest', () => {
  let t: TestEnv;
  afterEach(async () => t?.close({ remove: true }));

  function digestRows(date: string) {
    return t.rt.db.prepare(`SELECT receive_id, content FROM outbox WHERE intent LIKE 'digest:%' AND intent LIKE ?`).all(`%:${date}`) as {
      receive_id: string;
      content: string;
    }[];
  }

  it('sends one digest per leader and admin per day, with the scope’s overdue count, never twice', async () => {
    const dir = tempDir();
    const clock = new ManualClock(at('2026-11-20', '08:00'));
    const c = sampleCampaign({ townships: 3, villagesPerTownship: [4, 3, 3], electionDay: '2026-12-01' });
    t = await startTestRuntime({ dir, clock, env: { ADMIN_OPEN_IDS: 'ou_env_only_admin' } });
    seedCampaign(t.rt.workflow.repos, c);
    const expected = [c.ids.admin, c.ids.countyLeader, ...c.ids.townshipLeaders, 'ou_env_only_admin'].sort();

    await t.rt.reminders.scheduler.tick(); // 08:00: not yet
    expect(digestRows('2026-11-20')).toHaveLength(0);
    clock.set(at('2026-11-20', '08:30'));
    await t.rt.reminders.scheduler.tick();
    await t.rt.reminders.scheduler.tick();
    const rows = digestRows('2026-11-20');
    expect(rows.map((r) => r.receive_id).sort()).toEqual(expected);

    // The township leader's card states the overdue count of that township, computed here independently.
    const roster = t.rt.workflow.repos.roster;
    const leader = roster.personByOpenId(c.ids.townshipLeaders[0]!)!;
    const ctx = { repos: t.rt.workflow.repos, tz: TZ, clock };
    const overdue = overdueStages(ctx, (v) => v.townshipId === leader.scopeId).length;
    expect(overdue).toBeGreaterThan(0);
    const card = rows.find((r) => r.receive_id === leader.openId)!.content;
    expect(card).toContain(`逾期 **${overdue}** 项`);
    // …and names no village of another township.
    const others = roster.villages().filter((v) => v.townshipId !== leader.scopeId && !roster.villages().some((w) => w.townshipId === leader.scopeId && w.name === v.name));
    for (const v of others) expect(card).not.toContain(v.name);

    // A restart the same day changes nothing.
    await t.close();
    t = await startTestRuntime({ dir, clock, env: { ADMIN_OPEN_IDS: 'ou_env_only_admin' } });
    clock.set(at('2026-11-20', '12:00'));
    await t.rt.reminders.scheduler.tick();
    expect(digestRows('2026-11-20')).toHaveLength(expected.length);

    // Next day: again one each.
    clock.set(at('2026-11-21', '08:31'));
    await t.rt.reminders.scheduler.tick();
    expect(digestRows('2026-11-21').map((r) => r.receive_id).sort()).toEqual(expected);

    // Down from the 21st until the 23rd 08:00: the 22nd's digest is recorded as missed, not sent a day late.
    clock.set(at('2026-11-23', '08:00'));
    await t.rt.reminders.scheduler.tick();
    expect(digestRows('2026-11-22')).toHaveLength(0);
    expect(t.rt.reminders.schedule.slot('digest', '2026-11-22')!.status).toBe('missed');
    expect(t.rt.reminders.schedule.digests('2026-11-22').every((d) => d.status === 'missed')).toBe(true);
    clock.set(at('2026-11-23', '08:30'));
    await t.rt.reminders.scheduler.tick();
    expect(digestRows('2026-11-23')).toHaveLength(expected.length);
  });

  it('resumes a digest run cut short by a crash, serving only the leaders not yet served', async () => {
    const dir = tempDir();
    const clock = new ManualClock(at('2026-11-20', '08:30'));
    const c = sampleCampaign({ townships: 2, villagesPerTownship: 2, electionDay: '2026-12-01' });
    t = await startTestRuntime({ dir, clock });
    seedCampaign(t.rt.workflow.repos, c);
    // As if the previous process wrote one leader's digest and died before the others and the slot row.
    t.rt.reminders.schedule.addDigest('2026-11-20', c.ids.countyLeader, 'queued', 'uuid-from-before', clock.now());
    await t.rt.reminders.scheduler.tick();
    const rows = digestRows('2026-11-20').map((r) => r.receive_id);
    expect(rows).not.toContain(c.ids.countyLeader);
    expect(rows.sort()).toEqual([c.ids.admin, ...c.ids.townshipLeaders].sort());
    expect(t.rt.reminders.schedule.slot('digest', '2026-11-20')!.status).toBe('sent');
  });
});
