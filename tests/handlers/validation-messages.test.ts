import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMessageText } from '../../src/bot/card-text.js';
import { parseEnvelope } from '../../src/bot/envelope.js';
import { asAppError, UserError } from '../../src/errors.js';
import { GUARD_FALLBACK_TEXT, GUARD_LOG_MESSAGE, guardCardResponse, guardingSink, unfitForUser } from '../../src/handlers/user-text.js';
import type { OutgoingMessage } from '../../src/bot/outbox.js';
import { stageByKey } from '../../src/workflow/stage-templates.js';
import { parseInput, validationMessage } from '../../src/validation.js';
import { z } from 'zod';
import { cardActionEvent, messageEvent } from '../helpers/events.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';
import { badUserText, toastWithoutAdvice } from '../helpers/user-text.js';
import { CARD_SAMPLES, cardProbes, commandProbes, type ProbeIds } from '../helpers/validation-probes.js';

/**
 * Issue 17 item 7: every validation message a person can see is Chinese and says what to send
 * instead. Every card action of the runtime's own table and every command word of COMMANDS is
 * driven with wrong-typed fields through the real intake and handlers; each toast, card and
 * reply is judged by tests/helpers/user-text.ts (not by the service's own guard), and the guard
 * must not have had to step in: the known paths word their refusals themselves.
 */
describe('validation messages through the real handlers', () => {
  let t: TestEnv;
  let ids: ProbeIds;
  let cadre: string;
  let admin: string;
  const guardFires = () => t.logs.filter((l) => l.includes(GUARD_LOG_MESSAGE)).length;

  beforeAll(async () => {
    t = await startTestRuntime();
    const c = sampleCampaign({ electionDay: '2026-12-20' });
    seedCampaign(t.rt.workflow.repos, c);
    const roster = t.rt.workflow.repos.roster;
    cadre = c.ids.cadres[0]![0]!;
    admin = c.ids.admin;
    const person = roster.personByOpenId(cadre)!;
    const village = roster.village(roster.assignedVillageIds(person.id)[0]!)!;
    const talks = t.rt.workflow.repos.talks.all();
    const talk = talks.find((x) => x.interviewer_ids.includes(person.id)) ?? talks[0]!;
    ids = { villageId: village.id, villageName: village.name, stageKey: 'audit', stageName: stageByKey(village.type, 'audit')!.name, talkId: talk.id };
  });
  afterAll(async () => t.close({ remove: true }));

  let seq = 0;
  async function press(value: Record<string, unknown>, formValue: Record<string, unknown> | undefined, openId: string) {
    const eventId = `ev_vm_${++seq}`;
    const env = parseEnvelope(cardActionEvent({ value, formValue, openId, eventId }));
    if (!env.ok) throw new Error(env.reason);
    const before = t.rt.repos.outbox.maxId();
    const r = (await t.rt.intake.receive(env.envelope)) as { status: string; body?: { toast?: { type?: string; content?: string }; card?: { data?: unknown } } };
    await t.rt.idle();
    const messages = t.rt.repos.outbox.listSince(before).filter((m) => m.intent.includes(eventId)).map((m) => renderMessageText(m.msg_type, m.content));
    return { r, messages };
  }

  it('every registered card action has a well-formed press to attack (a new action fails here until it has one)', () => {
    const actions = [...t.rt.cardActions.keys()];
    expect(actions.length).toBeGreaterThanOrEqual(4);
    expect(actions.filter((a) => !CARD_SAMPLES[a])).toEqual([]);
    expect(() => cardProbes([...actions, 'brand_new_button'], ids)).toThrow(/brand_new_button/);
  });

  it('answers every wrong-typed card field in Chinese, saying what to do', async () => {
    const probes = cardProbes(t.rt.cardActions.keys(), ids);
    const guardBefore = guardFires();
    const failures: string[] = [];
    for (const p of probes) {
      const { r, messages } = await press(p.value, p.formValue, cadre);
      const toast = r.body?.toast;
      const problems = [
        r.status !== 'answered' ? `status ${r.status}` : null,
        !toast && !r.body?.card ? 'no answer' : null,
        toast ? (badUserText(String(toast.content ?? ''), p.sent) ?? toastWithoutAdvice(toast)) : null,
        r.body?.card?.data ? badUserText(renderMessageText('interactive', JSON.stringify(r.body.card.data)), p.sent) : null,
        ...messages.map((m) => badUserText(m, p.sent)),
      ].filter(Boolean);
      if (problems.length) failures.push(`${p.action} ${p.what} → ${problems.join(' | ')}`);
    }
    expect(probes.length).toBeGreaterThan(200);
    expect(failures).toEqual([]);
    expect(guardFires() - guardBefore, 'texts the guard had to replace').toBe(0);
  }, scaled(120_000));

  it('names the field in the user\'s words: a village id sent as a number, a missing stage, a long note', async () => {
    const base = CARD_SAMPLES.checkin_submit!(ids);
    const form = (patch: Record<string, unknown>) => ({ ...base.formValue, ...patch });
    // The id as a number (as seen in the issue) is read as the id, not refused in English.
    const asNumber = await press(base.value, form({ village: ids.villageId, status: '未开始' }), cadre);
    expect(asNumber.r.body?.toast?.content).not.toMatch(/Invalid|expected/);
    expect(asNumber.r.body?.toast?.type).toBe('success');
    const noStage = await press(base.value, form({ stage: [1] }), cadre);
    expect(noStage.r.body?.toast?.content).toBe('「阶段」格式不对，请在表单中重新选择阶段。');
    const longNote = await press(base.value, form({ note: '长'.repeat(501) }), cadre);
    expect(longNote.r.body?.toast?.content).toBe('备注过长（最多 500 字），请精简到 500 字以内后重新提交。');
    const missing = await press(base.value, form({ village: undefined }), cadre);
    expect(missing.r.body?.toast?.content).toBe('「村(社区)」没有填写，请在表单中重新选择村(社区)。');
  });

  it('answers every command word with wrong-kind arguments in Chinese', async () => {
    const probes = commandProbes(ids);
    const everySent = new Set(probes.flatMap((p) => p.sent));
    const guardBefore = guardFires();
    const failures: string[] = [];
    for (const [i, p] of probes.entries()) {
      const messageId = `om_vm_${i}`;
      const env = parseEnvelope(messageEvent({ text: p.text, openId: i % 3 === 2 ? admin : cadre, messageId, eventId: `ev_vm_cmd_${i}`, chatId: `oc_vm_${i}` }));
      if (!env.ok) throw new Error(env.reason);
      const before = t.rt.repos.outbox.maxId();
      await t.rt.intake.receive(env.envelope);
      await t.rt.idle();
      const replies = t.rt.repos.outbox.listSince(before).filter((m) => m.reply_to === messageId).map((m) => renderMessageText(m.msg_type, m.content));
      const problems = [replies.length === 0 ? 'no reply' : null, ...replies.map((m) => badUserText(m, everySent))].filter(Boolean);
      if (problems.length) failures.push(`${p.text.slice(0, 40)} → ${problems.join(' | ').slice(0, 300)}`);
    }
    expect(probes.length).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
    expect(guardFires() - guardBefore, 'texts the guard had to replace').toBe(0);
  }, scaled(300_000));
});

describe('the Chinese error map (src/validation.ts)', () => {
  const schema = z.object({ count: z.number().int().max(20), name: z.string().min(1).max(5), kind: z.enum(['一般', '严重']) });
  const fields = { count: { label: '人数' }, name: { label: '村名', hint: '请写村(社区)的名称' }, kind: { label: '严重程度' } };

  it('says each of zod\'s issues with the field\'s label and what to do, never the key or the English', () => {
    const msg = (data: unknown) => {
      const r = parseInput(schema, data, { fields, hint: '请改正后重新发送' });
      return r.ok ? 'ok' : r.message;
    };
    expect(msg({ count: '3', name: '城西', kind: '一般' })).toBe('「人数」应为数字，请改正后重新发送。');
    expect(msg({ count: 99, name: '城西', kind: '一般' })).toBe('「人数」不能大于 20，请改正后重新发送。');
    expect(msg({ count: 1, name: '城西村城东村', kind: '一般' })).toBe('「村名」过长（最多 5 字），请写村(社区)的名称。');
    expect(msg({ count: 1, kind: '一般' })).toBe('「村名」没有填写，请写村(社区)的名称。');
    expect(msg({ count: 1, name: '城西', kind: 'x' })).toBe('「严重程度」只能是：一般、严重，请改正后重新发送。');
    for (const data of [null, [], 'x', { count: [], name: {}, kind: 1 }]) expect(unfitForUser(msg(data))).toBeNull();
  });

  it('turns a ZodError that escaped a handler into a UserError, not an internal error', () => {
    const thrown = (() => {
      try {
        schema.parse({ count: 1, name: '城西村城东村', kind: '一般' });
      } catch (e) {
        return e;
      }
    })();
    const err = asAppError(thrown);
    expect(err).toBeInstanceOf(UserError);
    expect(err.userMessage).toMatch(/^提交的内容过长（最多 5 字），/);
    expect(validationMessage({ issues: [{ code: 'custom', path: ['x'], message: '缺少村(社区)' }] })).toBe('缺少村(社区)，请检查后重新发送；发送「帮助」可查看用法。');
  });
});

describe('the reply-boundary guard (src/handlers/user-text.ts)', () => {
  const logged: unknown[] = [];
  const logger = () => ({ error: (o: unknown) => logged.push(o) }) as never;

  it('replaces English, library errors and stack traces, logging the original; keeps Chinese and what the person wrote', () => {
    for (const bad of ['Invalid input: expected string, received number', 'OK', 'TypeError: x is not a function', '登记失败：Error: SQLITE_BUSY', '出错了\n    at foo (file:///a.js:1:2)', '结果：[object Object]']) {
      expect(unfitForUser(bad), bad).not.toBeNull();
    }
    for (const good of ['已登记：城西村「审计」登记为“进行中”。', '「党员比例」应为 0–100% 的比例（收到「NaN%」）。', '导出进度表 (Excel)']) expect(unfitForUser(good), good).toBeNull();
    expect(unfitForUser('已登记，备注：TypeError: 是我写的', ['TypeError: 是我写的'])).toBeNull();

    const sent: OutgoingMessage[] = [];
    const sink = guardingSink({ enqueue: (m) => sent.push(m) }, { logger, where: 'test' });
    sink.enqueue({ intent: 'a:0', to: { type: 'open_id', id: 'ou_x' }, msgType: 'text', content: { text: 'Invalid input: expected string, received undefined' } });
    sink.enqueue({ intent: 'b:0', to: { type: 'open_id', id: 'ou_x' }, msgType: 'text', content: { text: '已登记。' } });
    expect(sent.map((m) => m.content.text)).toEqual([GUARD_FALLBACK_TEXT, '已登记。']);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0])).toContain('Invalid input');

    const answer = guardCardResponse({ toast: { type: 'error', content: 'Too big: expected string to have <=40 characters' } }, { logger, where: 'test' }) as { toast: { content: string } };
    expect(answer.toast.content).toBe(GUARD_FALLBACK_TEXT);
    expect(unfitForUser(GUARD_FALLBACK_TEXT)).toBeNull();
  });

  it('answers a card handler that throws with Chinese, not the exception', async () => {
    const t = await startTestRuntime();
    try {
      t.rt.cardActions.set('vm_throws', () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      });
      t.rt.cardActions.set('vm_english', () => ({ toast: { type: 'error', content: 'Invalid input: expected number, received string' } }));
      for (const action of ['vm_throws', 'vm_english']) {
        const env = parseEnvelope(cardActionEvent({ value: { action }, eventId: `ev_${action}` }));
        if (!env.ok) throw new Error(env.reason);
        const r = (await t.rt.intake.receive(env.envelope)) as { body: { toast: { content: string } } };
        expect(badUserText(r.body.toast.content), action).toBeNull();
        expect(toastWithoutAdvice({ type: 'error', content: r.body.toast.content })).toBeNull();
      }
      expect(t.logs.some((l) => l.includes('Cannot read properties'))).toBe(true);
      expect(t.logs.some((l) => l.includes(GUARD_LOG_MESSAGE))).toBe(true);
    } finally {
      await t.close({ remove: true });
    }
  });
});
