import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, chatCompletion, freshDb, makeService, sendJson, startFakeOpenAi } from './helpers.js';
import { checkCitations } from '../../src/knowledge/answer-llm.js';

let db: Db;
let cleanup: () => void;
let closers: (() => Promise<void>)[] = [];
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
  cleanup();
});

async function withModel(reply: (body: Record<string, unknown>) => { status?: number; content?: string; delayMs?: number }, timeoutMs?: number) {
  const fake = await startFakeOpenAi(async (path, body, res) => {
    const r = reply(body);
    if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
    if (res.destroyed) return;
    if (r.status && r.status !== 200) return sendJson(res, r.status, { error: { message: 'boom' } });
    sendJson(res, 200, chatCompletion(r.content ?? ''));
  });
  closers.push(fake.close);
  const { svc } = makeService(db, { env: { LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-chat', LLM_API_KEY: 'sk-test' }, llmTimeoutMs: timeoutMs });
  await svc.ingestPaths([FIXTURES]);
  return { svc, fake };
}

/** The answer prompt (not the search-term rewrite, which is asked first). */
function isAnswerRequest(r: { path: string; body: Record<string, unknown> }): boolean {
  return r.path.endsWith('/chat/completions') && JSON.stringify(r.body.messages).includes('只能依据下面给出的【资料】');
}

// The first test loads LangChain (about a second alone, several on shared cores).
describe('answers written by a chat model', { timeout: 30_000 }, () => {
  it('uses the model answer when every sentence cites a passage it was shown', async () => {
    const { svc, fake } = await withModel(() => ({ content: '花名册应当在投票日的二十五日前张榜公布[1]。有不同意见的可在七日内提出[1]。' }));
    const a = await svc.ask('花名册要提前几天张榜');
    expect(a.mode).toBe('llm');
    expect(a.answer).toContain('[1]');
    expect(a.citations[0]!.locator).toBe('第三条');
    const req = fake.requests.find(isAnswerRequest)!;
    const prompt = JSON.stringify(req.body.messages);
    expect(prompt).toContain('第三条');
    expect(prompt).toContain('只能依据下面给出的【资料】回答');
  });

  it('falls back to the offline answer when the model cites nothing, cites a passage it was not shown, or invents a number', async () => {
    for (const content of ['花名册要提前公布。', '应当提前二十五日公布[9]。', '应当在投票日的三十日前公布[1]。']) {
      const { svc } = await withModel(() => ({ content }));
      const a = await svc.ask('花名册要提前几天张榜');
      expect(a.mode).toBe('offline');
      expect(a.answer).toContain('二十五日前');
      expect(a.citations[0]!.locator).toBe('第三条');
      cleanup();
      ({ db, cleanup } = freshDb());
    }
  });

  it('falls back on a server error and on a timeout', async () => {
    const err = await withModel(() => ({ status: 500 }));
    expect((await err.svc.ask('花名册要提前几天张榜')).mode).toBe('offline');
    cleanup();
    ({ db, cleanup } = freshDb());
    const slow = await withModel(() => ({ delayMs: 2000, content: '二十五日前[1]。' }), 300);
    const t0 = Date.now();
    const a = await slow.svc.ask('花名册要提前几天张榜');
    expect(a.mode).toBe('offline');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('abstains without asking the model when the library has nothing, and when the model declines', async () => {
    const { svc, fake } = await withModel(() => ({ content: '无法回答' }));
    const none = await svc.ask('村干部的工资每月多少钱');
    expect(none.abstained).toBe(true);
    // Only the search-term rewrite is asked for; no answer is written from nothing.
    expect(fake.requests.filter(isAnswerRequest)).toHaveLength(0);
    const declined = await svc.ask('花名册要提前几天张榜');
    expect(declined.abstained).toBe(true);
    expect(declined.citations).toEqual([]);
  });
});

describe('citation check', () => {
  it('accepts numbers found in the cited passage only', () => {
    const passages = [{ chunk: { text: '每届任期五年。' } }, { chunk: { text: '二十日前公布。' } }] as never;
    expect(checkCitations('每届任期五年[1]。', passages)).toMatchObject({ ok: true, cited: [1] });
    expect(checkCitations('每届任期五年[2]。', passages).ok).toBe(false);
    expect(checkCitations('名单二十日前公布[2]，任期五年[1]。', passages)).toMatchObject({ ok: true, cited: [1, 2] });
  });
});

describe('hybrid retrieval with embeddings', () => {
  it('asks for float vectors and fuses the vector channel with full text', async () => {
    // Deterministic fake embedding: character histogram over a few domain characters.
    const axis = Array.from('票选任期名册委托投审计移交承诺录像');
    const embed = (s: string) => axis.map((c) => s.split(c).length - 1 + 0.01);
    const fake = await startFakeOpenAi((path, body, res) => {
      const input = (Array.isArray(body.input) ? body.input : [body.input]) as string[];
      sendJson(res, 200, { object: 'list', data: input.map((s, i) => ({ object: 'embedding', index: i, embedding: embed(s) })), model: 'fake-emb', usage: { prompt_tokens: 1, total_tokens: 1 } });
    });
    closers.push(fake.close);
    const { svc } = makeService(db, { env: { EMBEDDING_BASE_URL: fake.baseUrl, EMBEDDING_MODEL: 'fake-emb' } });
    await svc.ingestPaths([FIXTURES]);
    expect(svc.stats().embedded).toBe(svc.stats().chunks);
    expect(fake.requests.every((r) => r.body.encoding_format === 'float')).toBe(true);
    const r = await svc.retrieve('计票录像');
    expect(r.passages.some((p) => p.ranks.vector !== undefined)).toBe(true);
    expect((await svc.ask('花名册要提前几天张榜')).citations[0]!.locator).toBe('第三条');
  });
});
