import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import type { ChatModelLike, PromptMessage } from '../../src/knowledge/answer-llm.js';
import { checkCitations } from '../../src/knowledge/answer-llm.js';
import { createMetrics, knowledgeMetrics } from '../../src/metrics.js';
import { combineFollowUp, ConversationMemory, isFollowUp } from '../../src/knowledge/conversation.js';
import { cleanRewrite } from '../../src/knowledge/llm-rewrite.js';
import { ManualClock } from '../../src/clock.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

/** A chat model that answers the answer prompt with `answer` and the rewrite prompt with `rewrite`. */
function fakeModel(answer: string, rewrite = ''): ChatModelLike & { prompts: PromptMessage[][] } {
  const prompts: PromptMessage[][] = [];
  return {
    prompts,
    async invoke(messages) {
      prompts.push(messages);
      const isAnswer = messages[0]![1].includes('只能依据下面给出的【资料】');
      return { content: isAnswer ? answer : rewrite };
    },
  };
}

async function serviceWith(model: ChatModelLike) {
  const metrics = createMetrics({ outboxDepth: () => 0 });
  const { svc, clock } = makeService(db, { chatModel: model, metrics: knowledgeMetrics(metrics) });
  await svc.ingestPaths([FIXTURES]);
  return { svc, clock, metrics };
}

async function rejectedCount(metrics: ReturnType<typeof createMetrics>, reason: string): Promise<number> {
  const m = await metrics.kbLlmRejected.get();
  return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

const Q = '花名册要提前几天张榜';

describe('grounding: a model answer with an unsupported claim is replaced by the offline answer', () => {
  const invented: [string, string][] = [
    ['article', '依据《青禾县村级组织选举示范办法》第九十九条，花名册应当在投票日的二十五日前张榜公布[1]。'],
    ['article', '依据第３条和第十二条，花名册应当在投票日的二十五日前张榜公布[1]。'],
    ['title', '依据《青禾县村级组织选举条例》，花名册应当在投票日的二十五日前张榜公布[1]。'],
    ['quantity', '花名册应当在投票日的２０日前张榜公布[1]。'],
    ['quantity', '花名册应当在投票日的廿日前张榜公布[1]。'],
    ['quantity', '对花名册有不同意见的，可以在张榜之日起二十五日内提出[1]。'],
    ['quantity', '选举工作小组应当在卅日内答复[1]。'],
    ['modality', '选举工作小组不必在投票日前张榜公布选民花名册[1]。'],
    ['modality', '对花名册有不同意见的，不得在张榜之日起七日内提出[1]。'],
  ];
  for (const [reason, answer] of invented) {
    it(`${reason}: ${answer}`, async () => {
      const { svc, metrics } = await serviceWith(fakeModel(answer));
      const a = await svc.ask(Q);
      expect(a.mode).toBe('offline');
      expect(a.answer).toContain('二十五日前');
      expect(a.answer).not.toBe(answer);
      expect(a.citations[0]!.locator).toBe('第三条');
      expect(await rejectedCount(metrics, reason)).toBe(1);
      // The counter is what /metrics shows.
      expect(await metrics.registry.metrics()).toContain(`huanjie_kb_llm_rejected_total{reason="${reason}"} 1`);
    });
  }

  it('negating a permission in another article is caught too (可以委托 → 不得委托)', async () => {
    const { svc, metrics } = await serviceWith(fakeModel('选民外出务工不能到场的，不得委托亲属代为投票[1]。'));
    const a = await svc.ask('外出务工不能到场可以委托别人投票吗');
    expect(a.mode).toBe('offline');
    expect(a.citations[0]!.locator).toBe('第六条');
    expect(await rejectedCount(metrics, 'modality')).toBe(1);
  });

  it('keeps a faithful answer whatever numerals it uses, and the real article and title', async () => {
    for (const answer of [
      '依据《青禾县村级组织选举示范办法》第三条，花名册应当在投票日的二十五日前张榜公布[1]。',
      '花名册应当在投票日的２５日前张榜公布[1]。有不同意见的可在7日内提出，选举工作小组应当在四日内答复[1]。',
      '花名册应在投票日廿五日前张榜公布。[1]',
    ]) {
      const { svc, metrics } = await serviceWith(fakeModel(answer));
      const a = await svc.ask(Q);
      expect(a.mode, answer).toBe('llm');
      expect(a.answer).toBe(answer);
      expect((await metrics.kbLlmRejected.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
      cleanup();
      ({ db, cleanup } = freshDb());
    }
  });
});

describe('grounding check on its own', () => {
  const passages = [
    { chunk: { text: '村民委员会每届任期五年，届满应当及时举行换届选举。', doc_title: '中华人民共和国村民委员会组织法', locator: '第十三条', doc_version: '2018-12-29 修正' } },
    { chunk: { text: '选民名单应当在选举日的二十日前公布。', doc_title: '中华人民共和国村民委员会组织法', locator: '第十四条', doc_version: null } },
  ] as never;
  it('normalises numerals across Arabic, full-width and Chinese forms', () => {
    expect(checkCitations('每届任期５年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('名单在选举日的20日前公布[2]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('名单在选举日的廿日前公布[2]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('名单在选举日的廿五日前公布[2]。', passages)).toMatchObject({ ok: false, code: 'quantity' });
    expect(checkCitations('每届任期两年[1]。', passages)).toMatchObject({ ok: false, code: 'quantity' });
    expect(checkCitations('每届任期五年[2]。', passages)).toMatchObject({ ok: false, code: 'quantity' });
  });
  it('checks article numbers and titles against the passages the sentence cites', () => {
    expect(checkCitations('《村民委员会组织法》第十三条规定每届任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('《村民委员会组织法》第十三条规定每届任期五年[2]。', passages).ok).toBe(false);
    expect(checkCitations('《中华人民共和国村民委员会组织法》第13条规定任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('《村民委员会组织法》第九十九条规定任期五年[1]。', passages)).toMatchObject({ ok: false, code: 'article' });
    expect(checkCitations('《村民委员会选举法》规定任期五年[1]。', passages)).toMatchObject({ ok: false, code: 'title' });
    // A law named without 《》 before its article counts as a title too; 本法 names the cited one.
    expect(checkCitations('依据村民委员会组织法第十三条，每届任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('依据组织法第十三条，每届任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('依据本法第十三条，每届任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('依据村民委员会选举法第十三条，每届任期五年[1]。', passages)).toMatchObject({ ok: false, code: 'article' });
  });
  it('flags a sentence that turns the cited rule around', () => {
    expect(checkCitations('届满不必及时举行换届选举[1]。', passages)).toMatchObject({ ok: false, code: 'modality' });
    expect(checkCitations('届满应当及时举行换届选举[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('选民名单不得在选举日的二十日前公布[2]。', passages)).toMatchObject({ ok: false, code: 'modality' });
    // 所有权 is a noun: its 有权 is no permission that would make 可以 agree with 不得.
    const property = [{ chunk: { text: '任何部门和单位不得侵犯居民委员会的财产所有权。', doc_title: '居民委员会组织法', locator: '第十七条', doc_version: null } }] as never;
    expect(checkCitations('任何部门和单位可以侵犯居民委员会的财产所有权[1]。', property)).toMatchObject({ ok: false, code: 'modality' });
  });
  it('does not read list numbering as a quantity', () => {
    expect(checkCitations('1. 每届任期五年[1]；2、名单二十日前公布[2]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('（1）每届任期五年[1]。', passages)).toMatchObject({ ok: true });
    expect(checkCitations('每届任期五年，可连选1.5届[1]。', passages)).toMatchObject({ ok: false, code: 'quantity' });
  });
    it('keeps the sentence of a marker written after the full stop', () => {
    expect(checkCitations('每届任期五年。[1]名单二十日前公布。[2]', passages)).toMatchObject({ ok: true, cited: [1, 2] });
  });
});

describe('query rewrite before retrieval', () => {
  it('searches the user words together with the model terms and never shows the terms', async () => {
    const model = fakeModel('可以书面委托一名同户成年亲属代为投票[1]。', '外出务工 不能到场 委托 代为投票');
    const { svc, metrics } = await serviceWith(model);
    const a = await svc.ask('俺在外地打工回不去咋办');
    expect(a.mode).toBe('llm');
    expect(a.citations[0]!.locator).toBe('第六条');
    expect(a.answer).not.toContain('外出务工 不能到场');
    const rewritePrompt = model.prompts.find((p) => !p[0]![1].includes('只能依据'))!;
    expect(rewritePrompt[1]![1]).toContain('俺在外地打工回不去咋办');
    // The answer model is asked the user's question, not the search terms.
    const answerPrompt = model.prompts.find((p) => p[0]![1].includes('只能依据'))!;
    expect(answerPrompt[1]![1]).toContain('【问题】俺在外地打工回不去咋办');
    expect((await metrics.kbLlmRewrite.get()).values.find((v) => v.labels.outcome === 'rewritten')?.value).toBe(1);
  });

  it('searches the question as typed when the rewrite times out', async () => {
    const model: ChatModelLike = {
      invoke: (messages, opts) =>
        messages[0]![1].includes('只能依据')
          ? Promise.resolve({ content: '选举工作小组应当在投票日的二十五日前张榜公布选民花名册[1]。' })
          : new Promise((_, reject) => opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const metrics = createMetrics({ outboxDepth: () => 0 });
    const { svc } = makeService(db, { chatModel: model, metrics: knowledgeMetrics(metrics), env: { LLM_BASE_URL: 'http://127.0.0.1:9/v1', LLM_MODEL: 'm', LLM_REWRITE_TIMEOUT_MS: '200' } });
    await svc.ingestPaths([FIXTURES]);
    const t0 = Date.now();
    const a = await svc.ask(Q);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(a.mode).toBe('llm');
    expect(a.citations[0]!.locator).toBe('第三条');
    expect((await metrics.kbLlmRewrite.get()).values.find((v) => v.labels.outcome === 'timeout')?.value).toBe(1);
  });

  it('does not let numbers in the rewrite into the search', async () => {
    expect(cleanRewrite('检索词：选民名单 二十日前 公布 第十四条')).toBe('选民名单 日前 公布');
    expect(cleanRewrite('花名册，张榜；期限\n多余的解释')).toBe('花名册 张榜 期限');
  });
});

describe('follow-up questions in one conversation', () => {
  it('asks "那…呢" as the previous question with the new part, offline too, for ten minutes', async () => {
    const { svc, clock } = makeService(db);
    await svc.ingestPaths([FIXTURES]);
    const first = await svc.ask('花名册要提前几天张榜', { conversation: 'oc_1:ou_a' });
    expect(first.citations[0]!.locator).toBe('第三条');
    const follow = await svc.ask('那有意见几天内答复？', { conversation: 'oc_1:ou_a' });
    expect(follow.asked).toBe('花名册要提前几天张榜，有意见几天内答复？');
    expect(follow.abstained).toBe(false);
    expect(follow.answer).toContain('四日内答复');
    // Another conversation has no previous question.
    const elsewhere = await svc.ask('那有意见几天内答复？', { conversation: 'oc_2:ou_a' });
    expect(elsewhere.asked).toBeUndefined();
    clock.advance(11 * 60_000);
    const late = await svc.ask('那要几天？', { conversation: 'oc_1:ou_a' });
    expect(late.asked).toBeUndefined();
  });

  it('gives the model the previous question for a follow-up rewrite', async () => {
    const model = fakeModel('村委会每届任期五年[1]。', '村民委员会 任期');
    const { svc } = await serviceWith(model);
    await svc.ask('村委会一届干几年', { conversation: 'c' });
    model.prompts.length = 0;
    const a = await svc.ask('那要是提前换呢？', { conversation: 'c' });
    expect(a.asked).toBe('村委会一届干几年，提前换？');
    const rewritePrompt = model.prompts.find((p) => !p[0]![1].includes('只能依据'))!;
    expect(rewritePrompt[1]![1]).toContain('【上一个问题】村委会一届干几年');
    expect(rewritePrompt[1]![1]).toContain('第四条');
  });
});

describe('follow-up detection and combination', () => {
  it('swaps 村 and 社区 names, else adds the new part', () => {
    expect(combineFollowUp('村委会选举的选民名单提前几天公布？', '那社区呢？')).toBe('居委会选举的选民名单提前几天公布？');
    expect(combineFollowUp('居民委员会每届任期几年', '那村里呢')).toBe('村民委员会每届任期几年？');
    expect(combineFollowUp('选民名单在哪里公布', '那要几天？')).toBe('选民名单在哪里公布，要几天？');
  });
  it('tells a follow-up from a question of its own', () => {
    expect(isFollowUp('那社区呢？', true)).toBe(true);
    expect(isFollowUp('还有呢', true)).toBe(true);
    expect(isFollowUp('要几天？', false)).toBe(true);
    expect(isFollowUp('村委会每届任期几年？', true)).toBe(false);
    expect(isFollowUp('那么请问村民委员会成员的近亲属能不能担任村务监督委员会成员', true)).toBe(false);
  });
  it('remembers a bounded number of conversations', () => {
    const clock = new ManualClock(0);
    const m = new ConversationMemory(clock, 1000, 2);
    m.remember('a', { question: 'qa', cited: [] });
    m.remember('b', { question: 'qb', cited: [] });
    m.remember('c', { question: 'qc', cited: [] });
    expect(m.size).toBe(2);
    expect(m.previous('a')).toBeUndefined();
    clock.advance(1001);
    expect(m.previous('c')).toBeUndefined();
  });
});
