import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderMessageText } from '../../src/bot/card-text.js';
import { localTextMessage } from '../../src/bot/local-event.js';
import { chatHarness, type ChatHarness } from './workflow/harness.js';

/**
 * Small talk and near-commands through the real intake, router and Q&A entry
 * on a seeded campaign (沁河镇/郭道镇: 城西村, 城东村, 南关社区; talk subjects
 * 候选人城西0 …). What reaches the policy Q&A is seen in its question log
 * (kb_questions): small talk and suggestions must leave no row there.
 */
let h: ChatHarness;
let cadre: string;
beforeEach(async () => {
  h = await chatHarness();
  cadre = h.campaign.ids.cadres[0]![0]!;
});
afterEach(() => h.close());

const questions = () => (h.t.rt.db.prepare('SELECT question FROM kb_questions ORDER BY id').all() as { question: string }[]).map((r) => r.question);

/** Sends a non-text (or hand-built) message through the same intake as `say`. */
async function sendRaw(messageType: string, content: unknown): Promise<string[]> {
  const env = localTextMessage({ openId: cadre, session: `raw-${cadre}`, text: '', token: h.t.rt.config.lark.verificationToken });
  const m = env.payload.event.message as { message_type: string; content: string };
  m.message_type = messageType;
  m.content = JSON.stringify(content);
  const before = h.t.rt.repos.outbox.maxId();
  await h.t.rt.intake.receive(env);
  await h.t.rt.intake.idle();
  return h.t.rt.repos.outbox
    .listSince(before)
    .filter((r) => r.intent.startsWith(`reply:${env.messageId}:`))
    .map((r) => renderMessageText(r.msg_type, r.content));
}

describe('small talk gets a short friendly reply and never reaches the Q&A', () => {
  it.each([
    ['你好', /您好！我是换届助手/],
    ['您好！', /您好！/],
    ['在吗？', /您好！/],
    ['早上好', /您好！/],
    ['Hello', /您好！/],
    ['hi～', /您好！/],
    ['谢谢', /不客气/],
    ['謝謝您', /不客气/],
    ['多谢！', /不客气/],
    ['辛苦了', /不客气/],
    ['谢谢你的回答', /不客气/],
    ['好的', /好的。/],
    ['收到', /好的。/],
    ['明白了', /好的。/],
    ['ＯＫ', /好的。/],
    ['好的好的，谢谢', /不客气/],
    ['再见', /再见！/],
    ['👍', /政策问题请直接打字提问/],
    ['🙏🙏🙏', /政策问题请直接打字提问/],
    ['[微笑]', /政策问题请直接打字提问/],
    ['。。。', /政策问题请直接打字提问/],
    ['嗯', /好的。/],
    ['a', /只收到一个字/],
    ['城', /只收到一个字/],
  ])('%j', async (text, reply) => {
    const r = await h.say(cadre, text);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(reply);
    expect(r[0]).toContain('发送「帮助」');
    expect(questions()).toEqual([]);
  });

  it('a sticker, an image, and a post of only an image get the friendly reply, not the Q&A', async () => {
    for (const [type, content] of [
      ['sticker', { file_key: 'file_v2_sticker_0001' }],
      ['image', { image_key: 'img_v2_0001' }],
      ['post', { zh_cn: { title: '', content: [[{ tag: 'img', image_key: 'img_v2_0002' }], [{ tag: 'emotion', emoji_type: 'SMILE' }]] } }],
    ] as const) {
      const r = await sendRaw(type, content);
      expect(r, type).toHaveLength(1);
      expect(r[0], type).toMatch(/只能处理文字消息[\s\S]*发送「帮助」/);
    }
    expect(questions()).toEqual([]);
  });

  it('other message types still say only text is read; a bare @-mention still gets the help card', async () => {
    expect(await sendRaw('audio', { file_key: 'file_v2_audio', duration: 2000 })).toEqual(['目前只能处理文字消息。发送「帮助」查看用法。']);
    const help = await sendRaw('text', { text: '   ' });
    expect(help[0]).toMatch(/换届助手 · 使用说明/);
    expect(questions()).toEqual([]);
  });

  it('a greeting with a question is a question', async () => {
    await h.say(cadre, '您好，选民名单要提前多少天公布？');
    expect(questions()).toEqual(['您好，选民名单要提前多少天公布？']);
  });
});

describe('near-commands get 您是不是要：… and nothing is executed', () => {
  it.each([
    ['完成城西村承诺谈话', '完成 城西村 承诺谈话', /空格/],
    ['完成城西村 承诺谈话', '完成 城西村 承诺谈话', /空格/],
    ['完成 城西村承诺谈话', '完成 城西村 承诺谈话', /空格/],
    ['进度 城西村选举 进行中', '进度 城西村 选举 进行中', /空格/],
    ['完成城西村审计11月1日', '完成 城西村 审计 11月1日', /空格/],
    ['进度城西村', '进度 城西村', /空格/],
    ['進度城西村', '进度 城西村', /空格/],
    ['进度城西村摸底研判进行中已走访30户', '进度 城西村 摸底研判 进行中 已走访30户', /空格/],
    ['谈话候选人城西0完成11月3日已签承诺书', '谈话 候选人城西0 完成 11月3日 已签承诺书', /空格/],
    ['风险城西村信访有群众反映拉票', '风险 城西村 信访 有群众反映拉票', /空格/],
    ['逾期沁河镇', '逾期 沁河镇', /空格/],
    ['城西村完成审计', '完成 城西村 审计', /命令词「完成」要写在最前面/],
    ['进渡 城西村', '进度 城西村', /命令词是「进度」（您输入的是「进渡」）/],
    ['进渡城西村', '进度 城西村', /命令词是「进度」/],
    ['完城 城西村 审计', '完成 城西村 审计', /命令词是「完成」/],
    ['帮主', '帮助', /命令词是「帮助」/],
    ['撤消', '撤销', /命令词是「撤销」/],
  ])('%j → %j', async (text, command, why) => {
    const before = h.state();
    const r = await h.say(cadre, text);
    expect(r).toHaveLength(1);
    expect(r[0]!.split('\n')[0]).toBe(`您是不是要：${command}`);
    expect(r[0]).toMatch(why);
    expect(r[0]).toMatch(/不会自动执行/);
    expect(h.state()).toBe(before);
    expect(questions()).toEqual([]);
  });

  it('a village or talk added after the first message is known to the next one', async () => {
    expect((await h.say(cadre, '完成新庄村审计'))[0]).not.toMatch(/您是不是要/);
    const township = h.repos.roster.townships().find((t) => t.name === '沁河镇')!;
    const village = h.repos.roster.insertVillage(township.id, '新庄村', '村', '2026-11-28');
    h.repos.talks.insert('选前谈话', '候选人赵六', village, '2026-11-10');
    expect((await h.say(cadre, '完成新庄村审计'))[0]!.split('\n')[0]).toBe('您是不是要：完成 新庄村 审计');
    expect((await h.say(cadre, '谈话候选人赵六完成'))[0]!.split('\n')[0]).toBe('您是不是要：谈话 候选人赵六 完成');
  });

  it('the suggested command, sent as suggested, works', async () => {
    const [hint] = await h.say(cadre, '完成城西村审计');
    const command = hint!.split('\n')[0]!.replace('您是不是要：', '');
    const [done] = await h.say(cadre, command);
    expect(done).toMatch(/已登记：沁河镇城西村「审计」登记为“已完成”/);
  });
});

describe('questions still reach the Q&A, commands still work', () => {
  it.each([
    '完成选民登记要多少天？',
    '完成选民登记要多少天',
    '完成城西村的选举需要哪些材料',
    '进度城西村怎么样了',
    '帮助我看看这个问题',
    '选民名单要提前多少天公布？',
    '我的村什么时候选举',
    '完成了吗',
    '进度表',
  ])('%j goes to the Q&A (logged once)', async (text) => {
    const r = await h.say(cadre, text);
    expect(r).toHaveLength(1);
    expect(r[0]).not.toMatch(/您是不是要：/);
    expect(questions()).toEqual([text]);
  });

  it('commands are untouched', async () => {
    expect((await h.say(cadre, '完成 城西村 审计'))[0]).toMatch(/已登记：沁河镇城西村「审计」/);
    expect((await h.say(cadre, '進度 城西村'))[0]).toMatch(/城西村 · 换届进度/);
    expect((await h.say(cadre, '帮助'))[0]).toMatch(/换届助手 · 使用说明/);
    expect((await h.say(cadre, '?'))[0]).toMatch(/换届助手 · 使用说明/);
    expect(questions()).toEqual([]);
  });
});
