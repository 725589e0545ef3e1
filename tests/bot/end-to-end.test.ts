import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeLark } from '../helpers/fake-lark.js';
import { cardActionEvent, fixture, messageEvent } from '../helpers/events.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, waitFor, type TestEnv } from '../helpers/test-runtime.js';

/** The real SDK, the real store, the real HTTP route; only Lark is fake. */
describe('bot end to end against a fake Lark Open Platform', () => {
  let fake: FakeLark;
  let t: TestEnv;

  beforeEach(async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  async function deliver(payload: unknown) {
    const req = larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true });
    const r = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(r.statusCode).toBe(200);
    return r;
  }

  it('answers a p2p 帮助 with the usage card, in the thread of the message', async () => {
    const ev = messageEvent({ text: '帮助', messageId: 'om_help_1' });
    await deliver(ev);
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    const m = fake.sent[0]!;
    expect(m.reply_to).toBe('om_help_1');
    expect(m.msg_type).toBe('interactive');
    expect(JSON.stringify(m.content)).toContain('使用说明');
    expect(m.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
    expect(fake.tokenRequests).toBe(1);
  });

  it('answers an event delivered three times once', async () => {
    const ev = messageEvent({ text: '帮助' });
    await deliver(ev);
    await deliver(ev);
    await t.rt.idle();
    await deliver(ev);
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('answers the same message_id under a new event_id once', async () => {
    await deliver(messageEvent({ text: '帮助', messageId: 'om_same', eventId: 'ev_a' }));
    await deliver(messageEvent({ text: '帮助', messageId: 'om_same', eventId: 'ev_b' }));
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
  });

  it('keeps dedupe keys across a restart', async () => {
    const ev = messageEvent({ text: '帮助' });
    await deliver(ev);
    await t.rt.idle();
    await t.close();
    t = await startTestRuntime({ fake, dir: t.dir });
    await deliver(ev);
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
  });

  it('ignores group chatter without an @ of the bot, and answers with one', async () => {
    await deliver(messageEvent({ text: '帮助', chat: 'group', mentionBot: false }));
    await deliver(messageEvent({ text: '帮助', chat: 'group', mentionBot: 'ou_someone_else_entirely' }));
    await t.rt.idle();
    expect(fake.sent).toHaveLength(0);
    await deliver(messageEvent({ text: '帮助', chat: 'group', messageId: 'om_g1' }));
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.reply_to).toBe('om_g1');
  });

  it('does not answer messages sent by other bots', async () => {
    const ev = messageEvent({ text: '帮助' });
    (ev.event.sender as { sender_type: string }).sender_type = 'app';
    await deliver(ev);
    await t.rt.idle();
    expect(fake.sent).toHaveLength(0);
  });

  it('answers a policy question with a card quoting its basis, and takes 👍/👎 on it', async () => {
    await t.close({ remove: true });
    t = await startTestRuntime({ fake, ingest: true });
    await deliver(messageEvent({ text: '选民名单要提前多少天公布？', openId: 'ou_asker' }));
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    const card = JSON.stringify(fake.sent[0]!.content);
    expect(card).toContain('二十日');
    expect(card).toContain('依据');
    const buttons = JSON.stringify(fake.sent[0]!.content).match(/"question_id":(\d+)/);
    expect(buttons).not.toBeNull();
    const qid = Number(buttons![1]);
    const r = await deliver(cardActionEvent({ value: { action: 'qa_feedback', question_id: qid, vote: 'down' }, openId: 'ou_asker' }));
    expect(r.json().toast.type).toBe('success');
    const row = t.rt.db.prepare('SELECT COUNT(*) AS n FROM kb_feedback WHERE question_id = ?').get(qid) as { n: number };
    expect(row.n).toBe(1);
  });

  it('refuses non-text messages politely', async () => {
    const ev = messageEvent({ text: 'x' });
    const m = ev.event.message as Record<string, unknown>;
    m.message_type = 'image';
    m.content = JSON.stringify({ image_key: 'img_x' });
    await deliver(ev);
    await t.rt.idle();
    expect(fake.texts()[0]).toContain('只能处理文字消息');
  });

  it('posts a welcome when the bot is added to a group', async () => {
    await deliver(fixture('im.chat.member.bot.added_v1.json'));
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.receive_id).toBe('oc_group_township_0001');
    expect(fake.sent[0]!.receive_id_type).toBe('chat_id');
    expect(fake.texts()[0]).toContain('换届助手');
  });

  it('answers a card callback synchronously with the handler’s toast', async () => {
    t.rt.cardActions.set('ping', ({ actor }) => ({ toast: { type: 'success', content: `pong ${actor.openId}` } }));
    const r = await deliver(cardActionEvent({ value: { action: 'ping' }, openId: 'ou_cadre_9' }));
    expect(r.json()).toEqual({ toast: { type: 'success', content: 'pong ou_cadre_9' } });
    const unknown = await deliver(cardActionEvent({ value: { action: 'no-such-button' } }));
    expect(unknown.json().toast.type).toBe('warning');
  });

  it('answers a slow card callback within the budget with a holding toast', async () => {
    t.rt.cardActions.set('slow', async () => {
      await new Promise((r) => setTimeout(r, 3500));
      return { toast: { type: 'success', content: 'late' } };
    });
    const started = Date.now();
    const r = await deliver(cardActionEvent({ value: { action: 'slow' } }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.json().toast.content).toContain('正在处理');
    await t.rt.idle();
  }, 10_000);

  describe('sending through failures', () => {
    it('429 with x-ogw-ratelimit-reset, then 200 → one message, sent after the reset', async () => {
      fake.failNext({ status: 429, body: { code: 99991400, msg: 'request trigger frequency limit' }, headers: { 'x-ogw-ratelimit-reset': '1' } });
      await deliver(messageEvent({ text: '帮助' }));
      await waitFor(() => fake.sent.length === 1, 10_000, 'the retried message');
      await t.rt.idle();
      expect(fake.requests).toHaveLength(2);
      const row = t.rt.repos.outbox.listSince(0)[0]!;
      expect(row.status).toBe('sent');
      expect(row.attempts).toBe(2);
      // Not retried before the reset the platform asked for.
      expect(fake.sent[0]!.at - Date.parse(new Date(row.created_at).toISOString())).toBeGreaterThanOrEqual(900);
    });

    it('500 three times, then 200 → one message', async () => {
      fake.failNext({ status: 500, body: {} }, { status: 502, body: 'bad gateway' }, { status: 503 });
      await deliver(messageEvent({ text: '帮助' }));
      await waitFor(() => fake.sent.length === 1, 20_000, 'the message after three failures');
      expect(fake.requests).toHaveLength(4);
      expect(new Set(fake.requests.map((r) => r.uuid)).size).toBe(1);
    }, 30_000);

    it('a business error (230002 bot not in chat) is recorded and not retried', async () => {
      fake.failNext({ status: 400, body: { code: 230002, msg: 'The bot can not be outside the group.' } });
      await deliver(messageEvent({ text: '帮助' }));
      await waitFor(() => t.rt.repos.outbox.listSince(0)[0]?.status === 'failed', 5000, 'the failed row');
      await new Promise((r) => setTimeout(r, 300));
      expect(fake.requests).toHaveLength(1);
      const row = t.rt.repos.outbox.listSince(0)[0]!;
      expect(row.error_code).toBe(230002);
    });

    it('a stalled request counts as a failure and the retry delivers once', async () => {
      // The SDK times out after 10 s; a 200 that arrives late still lands once thanks to the uuid.
      fake.failNext({ status: 500, delayMs: 200 });
      await deliver(messageEvent({ text: '帮助' }));
      await waitFor(() => fake.sent.length === 1, 10_000, 'the message');
      expect(fake.sent).toHaveLength(1);
    });
  });

  it('resumes pending outbox rows after a restart and sends each exactly once', async () => {
    // Stop the sender before it sends anything, as if the process died right after writing the outbox.
    await t.rt.worker.stop();
    for (let i = 0; i < 5; i++) await deliver(messageEvent({ text: '帮助', openId: `ou_p${i}`, chatId: `oc_p${i}` }));
    await t.rt.intake.idle();
    expect(t.rt.repos.outbox.depth()).toBe(5);
    // Also a row claimed ('sending') by the dead process.
    const first = t.rt.repos.outbox.listSince(0)[0]!;
    t.rt.repos.outbox.claim(first.id, Date.now() - 1000);
    expect(fake.sent).toHaveLength(0);
    await t.close();

    t = await startTestRuntime({ fake, dir: t.dir });
    await waitFor(() => fake.sent.length === 5, 10_000, 'resumed sends');
    await t.rt.idle();
    expect(fake.sent).toHaveLength(5);
    expect(new Set(fake.sent.map((m) => m.uuid)).size).toBe(5);
    expect(t.rt.repos.outbox.depth()).toBe(0);
  });

  it('handles after a restart an event acknowledged but not handled before the crash', async () => {
    // Record the event as the intake does, but never run it (the process "died" after the 200).
    const ev = messageEvent({ text: '帮助', messageId: 'om_crash' });
    t.rt.repos.events.tryInsert({ eventId: String(ev.header.event_id), messageId: 'om_crash', eventType: 'im.message.receive_v1', payload: JSON.stringify(ev), receivedAt: Date.now() });
    await t.close();
    t = await startTestRuntime({ fake, dir: t.dir });
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.reply_to).toBe('om_crash');
    expect(t.rt.repos.events.get(String(ev.header.event_id))!.status).toBe('done');
  });

  it('never logs a secret', async () => {
    fake.failNext({ status: 500 });
    await deliver(messageEvent({ text: '帮助' }));
    await waitFor(() => fake.sent.length === 1, 10_000);
    const all = t.logs.join('\n');
    for (const secret of ['sec_hj_test_app_secret_0001', TEST_ENCRYPT_KEY, 'vtok_test_0001', 't-fake-tenant-token']) {
      expect(all).not.toContain(secret);
    }
    expect(all.length).toBeGreaterThan(0);
  });
});
