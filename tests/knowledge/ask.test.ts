import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';
import { ABSTAIN_ANSWER } from '../../src/knowledge/answer-offline.js';

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

async function ready() {
  const { svc, clock } = makeService(db);
  await svc.ingestPaths([FIXTURES]);
  return { svc, clock };
}

describe('ask (offline)', () => {
  it('answers a colloquial question with the article that states the rule', async () => {
    const { svc } = await ready();
    const a = await svc.ask('花名册要提前几天张榜', { askerOpenId: 'ou_a', channel: 'chat' });
    expect(a.abstained).toBe(false);
    expect(a.mode).toBe('offline');
    expect(a.citations[0]).toMatchObject({ doc: 'model-election-rules-2025.txt', locator: '第三条', version: '2025-09-15 修订' });
    expect(a.answer).toContain('二十五日前');
    // The deciding time limit first, then the article it comes from.
    expect(a.answer).toMatch(/^二十五日前。依据《青禾县村级组织选举示范办法（2025年修订）》第三条：/);
  });

  it('finds the rule through a typo and a colloquial synonym', async () => {
    const { svc } = await ready();
    const a = await svc.ask('在外打工回不来 能让家里人代投吗');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.locator).toBe('第六条');
    const t = await svc.ask('花明册有意见几天内提');
    expect(t.abstained).toBe(false);
    expect(t.citations[0]!.locator).toBe('第三条');
  });

  it('answers a speech point with its heading path, and a Traditional question', async () => {
    const { svc } = await ready();
    const a = await svc.ask('参选人员拒签承诺书能当候选人吗');
    expect(a.citations[0]!.doc).toBe('township-speech.txt');
    expect(a.citations[0]!.locator).toContain('一要签订承诺书');
    const t = await svc.ask('投票站幾點開放');
    expect(t.citations[0]!.doc).toBe('traditional-briefing.txt');
    expect(t.answer).toContain('上午八点');
  });

  it('declines plainly, with no citation, when the library does not cover the question, and logs it', async () => {
    const { svc } = await ready();
    for (const q of ['村干部的工资每月多少钱', '选票用什么颜色的纸张印刷']) {
      const a = await svc.ask(q, { askerOpenId: 'ou_b' });
      expect(a.abstained).toBe(true);
      expect(a.citations).toEqual([]);
      expect(a.answer).toBe(ABSTAIN_ANSWER);
    }
    const rows = svc.unanswered(0);
    expect(rows.map((r) => r.question)).toContain('村干部的工资每月多少钱');
    const logged = db.prepare('SELECT asker_open_id, abstained, top_score FROM kb_questions').all() as { asker_open_id: string; abstained: number; top_score: number }[];
    expect(logged.every((r) => r.asker_open_id === 'ou_b' && r.abstained === 1 && typeof r.top_score === 'number')).toBe(true);
  });

  it('never throws on hostile input and abstains or answers sensibly', async () => {
    const { svc } = await ready();
    const hostile = [
      '',
      '   ',
      '问'.repeat(2000),
      '选'.repeat(10_000),
      '"两委 AND (',
      '两委-换届 a:b C++ NOT 两委 "',
      "'; DROP TABLE kb_chunks; --",
      '🙂🙂🙂 换届？？？',
      '\u0000\u0001\u001b[31m',
      'NEAR(选举 投票, 2) *',
    ];
    for (const q of hostile) {
      const a = await svc.ask(q);
      expect(typeof a.answer).toBe('string');
      expect(a.questionId).toBeGreaterThan(0);
      if (a.abstained) expect(a.citations).toEqual([]);
    }
    expect((await svc.ask('')).abstained).toBe(true);
    expect((db.prepare('SELECT count(*) AS n FROM kb_chunks').get() as { n: number }).n).toBeGreaterThan(0);
    const stored = db.prepare('SELECT length(question) AS n FROM kb_questions ORDER BY length(question) DESC LIMIT 1').get() as { n: number };
    expect(stored.n).toBeLessThanOrEqual(2000);
  });

  it('records feedback once per voter, the latest vote winning, and lists down-voted answers', async () => {
    const { svc } = await ready();
    const a = await svc.ask('村委会一届干几年');
    svc.recordFeedback(a.questionId, 'ou_1', 'up');
    svc.recordFeedback(a.questionId, 'ou_1', 'up');
    svc.recordFeedback(a.questionId, 'ou_2', 'up');
    expect((db.prepare('SELECT count(*) AS n FROM kb_feedback').get() as { n: number }).n).toBe(2);
    svc.recordFeedback(a.questionId, 'ou_2', 'down');
    const rows = svc.unanswered(0);
    expect(rows.find((r) => r.id === a.questionId)).toMatchObject({ down_votes: 1, up_votes: 1 });
    expect(() => svc.recordFeedback(999_999, 'ou_1', 'up')).toThrow(/不存在/);
    expect(() => svc.recordFeedback(a.questionId, 'ou_1', 'maybe' as 'up')).toThrow();
    expect(svc.stats()).toMatchObject({ feedbackUp: 1, feedbackDown: 1 });
  });

  it('is ready once the index is loaded, even when empty', () => {
    const { svc } = makeService(db);
    expect(svc.isReady()).toBe(true);
  });
});
