import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { parseEnvelope } from '../../../src/bot/envelope.js';
import { slotOn } from '../../../src/workflow/schedule/daily-slots.js';
import { cardActionEvent } from '../../helpers/events.js';
import { sampleCampaign, seedCampaign } from '../../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../../helpers/test-runtime.js';

describe('reminder card buttons', () => {
  let t: TestEnv;
  afterEach(async () => t.close({ remove: true }));

  async function press(value: Record<string, unknown>, openId: string, eventId: string) {
    const env = parseEnvelope(cardActionEvent({ value, openId, eventId }));
    if (!env.ok) throw new Error(env.reason);
    const r = await t.rt.intake.receive(env.envelope);
    await t.rt.idle();
    return r as { status: string; body: { toast: { type: string; content: string } } };
  }

  it('已完成 sends the check-in form with the village, stage and 已完成 chosen', async () => {
    t = await startTestRuntime({ clock: new ManualClock(slotOn('2026-11-20', '09:00', 'Asia/Shanghai').at) });
    const c = sampleCampaign({ electionDay: '2026-12-01' });
    seedCampaign(t.rt.workflow.repos, c);
    const cadre = c.ids.cadres[0]![0]!;
    const roster = t.rt.workflow.repos.roster;
    const village = roster.village(roster.assignedVillageIds(roster.personByOpenId(cadre)!.id)[0]!)!;
    const r = await press({ action: 'reminder_done', item: `stage:${village.id}:audit` }, cadre, 'ev_done_1');
    expect(r.body.toast.content).toContain('登记表单');
    const form = t.rt.repos.outbox.listSince(0).find((o) => o.receive_id === cadre)!;
    const content = form.content;
    expect(content).toContain(`"initial_option":"${village.id}"`);
    expect(content).toContain('"initial_option":"audit"');
    expect(content).toContain('"initial_option":"已完成"');
  });

  it('延后 is stored once per press, audited, and refuses what it cannot read', async () => {
    t = await startTestRuntime({ clock: new ManualClock(slotOn('2026-11-20', '09:00', 'Asia/Shanghai').at) });
    const c = sampleCampaign({ electionDay: '2026-12-01' });
    seedCampaign(t.rt.workflow.repos, c);
    const cadre = c.ids.cadres[0]![0]!;
    const ok = await press({ action: 'reminder_snooze', item: 'stage:3:audit', days: 3 }, cadre, 'ev_sn_1');
    expect(ok.body.toast.content).toContain('11月23日再提醒');
    expect(t.rt.reminders.schedule.activeSnoozes('2026-11-20').get(`${cadre}\u0000stage:3:audit`)).toBe('2026-11-23');
    expect(t.rt.repos.audit.recent().filter((a) => a.action === 'reminder:snooze')).toHaveLength(1);
    for (const bad of [{ item: 'stage:3:audit', days: 7 }, { item: "x'; DROP TABLE outbox;--", days: 1 }, { item: 'stage:3:audit' }]) {
      const r = await press({ action: 'reminder_snooze', ...bad }, cadre, `ev_bad_${JSON.stringify(bad).length}`);
      expect(r.body.toast.type).toBe('error');
    }
    const stranger = await press({ action: 'reminder_snooze', item: 'stage:3:audit', days: 1 }, 'ou_not_in_roster', 'ev_sn_x');
    expect(stranger.body.toast.type).toBe('error');
    expect(t.rt.repos.audit.recent().filter((a) => a.action === 'reminder:snooze')).toHaveLength(1);
  });
});
