import { afterEach, describe, expect, it } from 'vitest';
import { messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, waitFor, type TestEnv } from '../helpers/test-runtime.js';

/** Arrivals at the fake within any `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * Issue 17: a reply to an event leaves in its own lane, ahead of a backlog of bulk sends, and
 * bulk sends leave a fifth of the per-app limit to it. The real runtime, sender and SDK against
 * the fake Open Platform.
 */
describe('outbox lanes: replies before bulk sends', () => {
  let fake: FakeLark;
  let t: TestEnv;
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  it('sends the reply to 帮助 while 200 queued reminders are still going out, bulk at no more than 40 per second', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
    const bulk = 200;
    for (let i = 0; i < bulk; i++) {
      t.rt.outbox.enqueue({ intent: `test:reminder:${i}`, to: { type: 'open_id', id: `ou_r${i}` }, msgType: 'text', content: { text: '提醒' } });
    }
    expect(t.rt.repos.outbox.listSince(0)[0]!.priority, 'scheduled sends are bulk').toBe(1);
    // The backlog is under way: the bulk lane has used its share of the first second.
    await waitFor(() => fake.sent.length >= 40, 10_000, 'the first reminders');
    const ev = messageEvent({ text: '帮助', messageId: 'om_lane_help', openId: 'ou_cadre_lane', chatId: 'oc_lane' });
    const req = larkRequest(ev, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true });
    const res = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(res.statusCode).toBe(200);
    await waitFor(() => fake.sent.some((m) => m.reply_to === 'om_lane_help'), 20_000, 'the reply to 帮助');
    const remindersBefore = fake.sent.findIndex((m) => m.reply_to === 'om_lane_help');
    expect(remindersBefore, 'reminders delivered before the reply').toBeLessThan(bulk / 2);
    const reply = t.rt.repos.outbox.listSince(0).find((r) => r.reply_to === 'om_lane_help')!;
    expect(reply.priority).toBe(0);

    await waitFor(() => fake.sent.length === bulk + 1, 20_000, 'every reminder');
    const reminders = fake.sent.filter((m) => m.reply_to === undefined).map((m) => m.at);
    expect(maxInWindow(reminders, 1000)).toBeLessThanOrEqual(40);
    expect(maxInWindow(fake.sent.map((m) => m.at), 1000)).toBeLessThanOrEqual(50);
    expect(new Set(fake.sent.map((m) => m.uuid)).size).toBe(bulk + 1);
  });
});
