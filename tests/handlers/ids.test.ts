import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/bot/envelope.js';
import { isWellFormedId } from '../../src/handlers/ids.js';
import { cardActionEvent, fixture, messageEvent } from '../helpers/events.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';

/**
 * Regression test (issue 8 §3, found by tests/faults/bad-input.fault.ts at
 * 10,000 bodies): a signed bot-added event whose chat_id was a lone surrogate
 * ("\ud800") made the handler throw "URI malformed" (the message uuid is
 * derived from the intent, which must be valid UTF-8), so the event failed;
 * one whose chat_id was "帮助" or 20,000 x's got a welcome sent to that chat.
 * Ids that did not come from Lark are now ignored everywhere a handler answers.
 */
describe('ids that did not come from Lark', () => {
  let t: TestEnv;
  beforeEach(async () => {
    t = await startTestRuntime();
  });
  afterEach(() => t.close({ remove: true }));

  async function deliver(payload: unknown) {
    const env = parseEnvelope(payload);
    if (!env.ok) throw new Error(env.reason);
    await t.rt.intake.receive(env.envelope);
    await t.rt.intake.idle();
    return t.rt.db.prepare('SELECT status, error FROM received_events WHERE event_id = ?').get(env.envelope.eventId) as { status: string; error: string | null };
  }
  const outbox = () => (t.rt.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;

  it('tells them apart', () => {
    for (const ok of ['oc_0123abcd', 'ou_x', 'om_x100b4', 'local:cli:ou_1', 'local_om_abc', 'ev_' + 'a'.repeat(125)]) expect(isWellFormedId(ok), ok).toBe(true);
    for (const bad of ['', '\ud800', 'oc_\udfff', 'a b', '帮助', 'oc_群', 'x'.repeat(129), 'oc\u0000', '\u202e', 5, null, {}]) expect(isWellFormedId(bad), JSON.stringify(bad)).toBe(false);
  });

  it('a bot-added event, a message, a menu event and a card callback with such ids are ignored, not failed, and answer nobody', async () => {
    for (const chatId of ['\ud800', '帮助 ', 'x'.repeat(20_000)]) {
      const ev = fixture<{ header: Record<string, unknown>; event: Record<string, unknown> }>('im.chat.member.bot.added_v1.json');
      ev.header.event_id = `ev_added_${chatId.length}_${chatId.charCodeAt(0)}`;
      ev.event.chat_id = chatId;
      expect((await deliver(ev)).status).toBe('done');
    }
    const msg = messageEvent({ text: '帮助', messageId: 'om_\ud800' });
    expect((await deliver(msg)).status).toBe('done');
    const fromNobody = messageEvent({ text: '帮助', openId: 'ou_\udfff' });
    expect((await deliver(fromNobody)).status).toBe('done');
    const menu = { schema: '2.0', header: { event_id: 'ev_menu_bad', event_type: 'application.bot.menu_v6', token: t.rt.config.lark.verificationToken }, event: { operator: { operator_id: { open_id: '\ud800' } }, event_key: 'help' } };
    expect((await deliver(menu)).status).toBe('done');
    const card = cardActionEvent({ value: { action: 'checkin_submit' }, openId: 'ou_\ud800', eventId: 'ev_card_bad' });
    expect((await deliver(card)).status).toBe('done');
    expect(outbox()).toBe(0);
    // The same events with proper ids are answered.
    const good = fixture<{ header: Record<string, unknown>; event: Record<string, unknown> }>('im.chat.member.bot.added_v1.json');
    expect((await deliver(good)).status).toBe('done');
    expect((await deliver(messageEvent({ text: '帮助' }))).status).toBe('done');
    expect(outbox()).toBe(2);
  });
});
