import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, type TestEnv } from '../helpers/test-runtime.js';
import { NOW } from './workflow/harness.js';

/** Through the signed, encrypted webhook, the real SDK and the fake Lark Open Platform. */
describe('small talk and near-commands end to end', () => {
  let fake: FakeLark;
  let t: TestEnv;
  const campaign = sampleCampaign();
  const cadre = campaign.ids.cadres[0]![0]!;

  beforeEach(async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake, clock: new ManualClock(NOW), env: { LARK_BOT_OPEN_ID: fake.botOpenId } });
    seedCampaign(t.rt.db, campaign);
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  async function deliver(payload: unknown) {
    const req = larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, nowMs: t.rt.clock.now() });
    const r = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(r.statusCode).toBe(200);
  }
  const questions = () => (t.rt.db.prepare('SELECT COUNT(*) AS n FROM kb_questions').get() as { n: number }).n;

  it('a greeting in a group (@bot), a sticker and a glued command are answered in the thread, none reaches the Q&A', async () => {
    await deliver(messageEvent({ text: '你好', chat: 'group', mentionBot: fake.botOpenId, openId: cadre, messageId: 'om_hi_1' }));
    const sticker = messageEvent({ text: 'x', openId: cadre, messageId: 'om_sticker_1' });
    Object.assign(sticker.event.message as Record<string, unknown>, { message_type: 'sticker', content: JSON.stringify({ file_key: 'file_v3_sticker' }) });
    await deliver(sticker);
    await deliver(messageEvent({ text: '完成城西村承诺谈话', openId: cadre, messageId: 'om_near_1' }));
    await t.rt.idle();

    const reply = (id: string) => fake.sent.filter((m) => m.reply_to === id).map((m) => String(m.content.text));
    expect(reply('om_hi_1')).toEqual([expect.stringMatching(/^您好！我是换届助手[\s\S]*发送「帮助」/)]);
    expect(reply('om_sticker_1')).toEqual([expect.stringMatching(/只能处理文字消息[\s\S]*发送「帮助」/)]);
    expect(reply('om_near_1')).toEqual([expect.stringMatching(/^您是不是要：完成 城西村 承诺谈话\n/)]);
    expect(questions()).toBe(0);
    expect(t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_changes').get()).toEqual({ n: 0 });
  });

  it('thanks to someone else in a group (@bot 谢谢 @张三) is still thanks', async () => {
    const ev = messageEvent({ text: '谢谢 @_user_2', chat: 'group', mentionBot: fake.botOpenId, openId: cadre, messageId: 'om_thx_1' });
    const m = ev.event.message as { mentions: unknown[] };
    m.mentions.push({ key: '@_user_2', id: { open_id: 'ou_someone_else_0001' }, name: '张三' });
    await deliver(ev);
    await t.rt.idle();
    expect(fake.sent.filter((x) => x.reply_to === 'om_thx_1').map((x) => String(x.content.text))).toEqual([expect.stringMatching(/^不客气/)]);
    expect(questions()).toBe(0);
  });

  it('a question still gets the Q&A answer card and is logged', async () => {
    await deliver(messageEvent({ text: '完成选民登记要多少天？', openId: cadre, messageId: 'om_q_1' }));
    await t.rt.idle();
    const sent = fake.sent.filter((m) => m.reply_to === 'om_q_1');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.msg_type).toBe('interactive');
    expect(questions()).toBe(1);
  });
});
