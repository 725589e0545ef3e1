import { describe, expect, it } from 'vitest';
import { FakeLark } from './helpers/fake-lark.js';
import { cardActionEvent, messageEvent } from './helpers/events.js';
import { parseEnvelope } from '../src/bot/envelope.js';
import { startTestRuntime } from './helpers/test-runtime.js';

describe('Runtime', () => {
  it('graceful stop waits for in-flight handlers and sends what they wrote', async () => {
    const fake = await FakeLark.start();
    const t = await startTestRuntime({ fake });
    let finished = false;
    t.rt.commands.on('我的', async ({ reply }) => {
      await new Promise((r) => setTimeout(r, 300));
      reply.text('我的待办：无');
      finished = true;
    });
    const env = parseEnvelope(messageEvent({ text: '我的' }));
    if (!env.ok) throw new Error(env.reason);
    await t.rt.intake.receive(env.envelope);
    await t.app.close();
    await t.rt.stop(); // as server.ts does on SIGTERM: handlers finish, then the outbox is flushed
    expect(finished).toBe(true);
    expect(fake.texts()).toEqual(['我的待办：无']);
    await fake.close();
  });

  it('fetches the bot open_id at start so group @-mentions are recognised', async () => {
    const fake = await FakeLark.start({ botOpenId: 'ou_bot_from_api' });
    const t = await startTestRuntime({ fake });
    expect(t.rt.botOpenId).toBe('ou_bot_from_api');
    await t.close({ remove: true });
    await fake.close();
  });

  it('logs a failing handler with its event id and marks the event failed', async () => {
    const t = await startTestRuntime();
    t.rt.cardActions.set('boom', () => {
      throw new Error('kaboom');
    });
    const env = parseEnvelope(cardActionEvent({ value: { action: 'boom' }, eventId: 'ev_boom_1' }));
    if (!env.ok) throw new Error(env.reason);
    const r = await t.rt.intake.receive(env.envelope);
    expect(r).toEqual({ status: 'answered', body: { toast: { type: 'error', content: '操作未成功，请稍后再试。' } } });
    expect(t.rt.repos.events.get('ev_boom_1')!.status).toBe('failed');
    const line = t.logs.find((l) => l.includes('event handler failed'))!;
    expect(JSON.parse(line).event_id).toBe('ev_boom_1');
    await t.close({ remove: true });
  });
});

describe('errors reach the person as Chinese messages', () => {
  it('a refusal (UserError) is told as is; an unexpected failure gets an apology and an error log', async () => {
    const { UserError } = await import('../src/errors.js');
    const t = await startTestRuntime();
    t.rt.commands.on('完成', () => {
      throw new UserError('找不到村(社区)「城东」。您是不是要找：城东村？');
    });
    t.rt.commands.on('撤销', () => {
      throw new TypeError('undefined is not a function');
    });
    for (const text of ['完成 城东 审计', '撤销']) {
      const env = parseEnvelope(messageEvent({ text }));
      if (!env.ok) throw new Error(env.reason);
      await t.rt.intake.receive(env.envelope);
    }
    await t.rt.idle();
    const texts = t.rt.repos.outbox.listSince(0).map((r) => JSON.parse(r.content).text as string);
    expect(texts).toEqual(['找不到村(社区)「城东」。您是不是要找：城东村？', expect.stringContaining('系统内部错误')]);
    expect(t.logs.filter((l) => l.includes('handling a message failed'))).toHaveLength(1);
    await t.close({ remove: true });
  });
});

describe('the scheduler runs with the service', () => {
  it('plans the day’s reminder slot when the service starts after the reminder time', async () => {
    const { ManualClock } = await import('../src/clock.js');
    const { slotOn } = await import('../src/workflow/schedule/daily-slots.js');
    const { sampleCampaign, seedCampaign } = await import('./helpers/roster.js');
    const { tempDir } = await import('./helpers/test-runtime.js');
    const dir = tempDir();
    const clock = new ManualClock(slotOn('2026-11-20', '09:30', 'Asia/Shanghai').at);
    const seed = await startTestRuntime({ dir, clock, start: false });
    seedCampaign(seed.rt.workflow.repos, sampleCampaign({ electionDay: '2026-12-01' }));
    await seed.close();
    const t = await startTestRuntime({ dir, clock, services: true });
    await t.rt.reminders.scheduler.tick(); // the start-up tick may still be running: share it
    const slot = t.rt.reminders.schedule.slot('reminders', '2026-11-20');
    expect(slot?.status).toBe('sent');
    expect(slot!.messages).toBeGreaterThan(0);
    await t.close({ remove: true });
  });
});
