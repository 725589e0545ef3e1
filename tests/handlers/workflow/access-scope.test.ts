import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderMessageText } from '../../../src/bot/card-text.js';
import { parseEnvelope } from '../../../src/bot/envelope.js';
import { cardActionEvent, messageEvent } from '../../helpers/events.js';
import { chatHarness, type ChatHarness } from './harness.js';

/**
 * Regression tests for defects found by tests/faults/access.fault.ts (issue 8 §4):
 * - talk notes were shown in group chats, where everyone in the group reads
 *   them (进度 村 by a leader, 谈话 and 我的 by the interviewer);
 * - a reminder's 已完成/延后 buttons worked on any item for anyone in the
 *   roster (a snooze row written for a village not theirs), and their
 *   refusals were not audited.
 */
const BOT = 'ou_bot0000000000000000000000000001';
const NOTE = '家里有矛盾需关注';

let h: ChatHarness;
beforeEach(async () => {
  h = await chatHarness({ env: { LARK_BOT_OPEN_ID: BOT } });
});
afterEach(() => h.close());

async function inGroup(openId: string, text: string): Promise<string> {
  const ev = messageEvent({ text, openId, chat: 'group', mentionBot: BOT, chatId: 'oc_group_mixed' });
  const env = parseEnvelope(ev);
  if (!env.ok) throw new Error(env.reason);
  const before = h.t.rt.repos.outbox.maxId();
  await h.t.rt.intake.receive(env.envelope);
  await h.t.rt.intake.idle();
  return h.t.rt.repos.outbox.listSince(before).map((r) => renderMessageText(r.msg_type, r.content)).join('\n');
}

async function press(openId: string, value: Record<string, unknown>) {
  const env = parseEnvelope(cardActionEvent({ value, openId }));
  if (!env.ok) throw new Error(env.reason);
  const r = (await h.t.rt.intake.receive(env.envelope)) as { body: { toast: { type: string; content: string } } };
  await h.t.rt.idle();
  return r.body.toast;
}

describe('talk notes stay out of group chats', () => {
  it('a leader sees the note in private, not in a group; so does the interviewer', async () => {
    const cadre = h.campaign.ids.cadres[0]![0]!;
    const leader = h.campaign.ids.townshipLeaders[0]!;
    const done = await h.say(cadre, `谈话 候选人城西0 完成 11月3日 已签承诺书 ${NOTE}`);
    expect(done.join('')).toContain('已登记');

    expect((await h.say(leader, '进度 城西村')).join('')).toContain(NOTE);
    const group = await inGroup(leader, '进度 城西村');
    expect(group).toContain('候选人城西0');
    expect(group).not.toContain(NOTE);
    expect(group).toContain('谈话记录不在群聊中显示');

    expect((await h.say(cadre, '谈话')).join('')).toContain(NOTE);
    expect(await inGroup(cadre, '谈话')).not.toContain(NOTE);
    expect((await h.say(cadre, '我的')).join('')).toContain(NOTE);
    expect(await inGroup(cadre, '我的')).not.toContain(NOTE);
  });
});

describe('reminder buttons act only on the presser’s own items, and refusals are audited', () => {
  it('延后 and 已完成 on a village not theirs are refused, audited, and change nothing', async () => {
    const cadre = h.campaign.ids.cadres[0]![0]!; // 沁河镇城西村
    const roster = h.repos.roster;
    const own = roster.villages().find((v) => v.name === '城西村' && v.township === '沁河镇')!;
    const other = roster.villages().find((v) => v.name === '城西村' && v.township === '郭道镇')!;
    const snoozes = () => h.t.rt.db.prepare('SELECT COUNT(*) AS n FROM reminder_snoozes').get() as { n: number };
    const denied = () => h.t.rt.repos.audit.recent(100).filter((a) => a.action.startsWith('denied:reminder_'));

    expect((await press(cadre, { action: 'reminder_snooze', item: `stage:${other.id}:audit`, days: 1 })).type).toBe('error');
    expect((await press(cadre, { action: 'reminder_done', item: `stage:${other.id}:audit` })).content).toContain('不是您负责的');
    expect((await press('ou_not_in_roster', { action: 'reminder_snooze', item: `stage:${own.id}:audit`, days: 1 })).type).toBe('error');
    expect((await press('ou_not_in_roster', { action: 'reminder_done', item: `stage:${own.id}:audit` })).type).toBe('error');
    expect(snoozes().n).toBe(0);
    expect(denied().map((a) => [a.actor, a.action])).toEqual([
      ['ou_not_in_roster', 'denied:reminder_done'],
      ['ou_not_in_roster', 'denied:reminder_snooze'],
      [cadre, 'denied:reminder_done'],
      [cadre, 'denied:reminder_snooze'],
    ]);

    // On their own village both work.
    expect((await press(cadre, { action: 'reminder_snooze', item: `stage:${own.id}:audit`, days: 1 })).type).toBe('success');
    expect((await press(cadre, { action: 'reminder_done', item: `stage:${own.id}:audit` })).type).toBe('info');
    expect(snoozes().n).toBe(1);
    // A talk the cadre does not hold is not theirs either.
    const foreignTalk = h.t.rt.workflow.repos.talks.all().find((t) => !t.interviewer_ids.includes(roster.personByOpenId(cadre)!.id))!;
    expect((await press(cadre, { action: 'reminder_snooze', item: `talk:${foreignTalk.id}`, days: 3 })).type).toBe('error');
    expect(snoozes().n).toBe(1);
  });
});
