import { describe, expect, it } from 'vitest';
import { buildAnswerCard, MAX_CARD_BYTES } from '../../src/knowledge/answer-card.js';
import { scoreItem, summarize, visibleText } from '../../src/knowledge/eval.js';
import type { AnswerResult } from '../../src/knowledge/service.js';

const ALLOWED = new Set(['markdown', 'hr', 'column_set', 'column', 'button']);
function tags(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => tags(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.tag === 'string' && o.tag !== 'plain_text') out.push(o.tag);
    Object.values(o).forEach((v) => tags(v, out));
  }
  return out;
}

const answer: AnswerResult = {
  questionId: 42,
  question: '选民名单提前几天公布？',
  answer: '依据《示范办法》第三条：花名册应当在投票日的二十五日前张榜公布。',
  citations: [{ doc: 'a.txt', title: '示范办法', version: '2025-09-15 修订', locator: '第三条', text: '第三条 花名册应当在投票日的二十五日前张榜公布。' }],
  abstained: false,
  mode: 'offline',
};

describe('answer card', () => {
  it('is a JSON 2.0 card with the answer, 依据 and feedback buttons, using only allowed elements', () => {
    const card = buildAnswerCard(answer) as { schema: string; config: unknown; body: { elements: unknown[] } };
    expect(card.schema).toBe('2.0');
    expect(card.config).toEqual({ update_multi: true });
    expect(tags(card).every((t) => ALLOWED.has(t))).toBe(true);
    const json = JSON.stringify(card);
    expect(json).toContain('依据');
    expect(json).toContain('《示范办法》第三条');
    expect(json).toContain('2025-09-15 修订');
    expect(json).toContain('{"action":"qa_feedback","question_id":42,"vote":"up"}');
    expect(json).toContain('{"action":"qa_feedback","question_id":42,"vote":"down"}');
    expect(json).toContain('👍 有用');
    expect(json).toContain('👎 没用');
  });

  it('says plainly it found no basis and cites nothing when abstaining', () => {
    const card = buildAnswerCard({ ...answer, abstained: true, citations: [], answer: '已收录的政策文件中没有找到…乡镇（街道）换届办' });
    const json = JSON.stringify(card);
    expect(json).toContain('未找到依据');
    expect(json).not.toContain('依据**');
    expect(json).toContain('qa_feedback');
  });

  it('stays under 30 KB with huge quotes, truncating them with …', () => {
    const big = '很长的条文内容'.repeat(3000);
    const card = buildAnswerCard({ ...answer, answer: big, citations: Array.from({ length: 8 }, () => ({ ...answer.citations[0]!, text: big })) });
    const json = JSON.stringify(card);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_CARD_BYTES);
    expect(json).toContain('…');
  });
});

describe('eval scoring', () => {
  const item = { id: 'x', question: 'q', doc: 'a.txt', article: '第三条', must_contain: ['二十五日前'], kind: 'fact' as const };
  it('counts a fact right only when it is visible and the citation names doc and article', () => {
    expect(scoreItem(item, answer)).toMatchObject({ fact: true, citation: true, abstention: true });
    expect(scoreItem({ ...item, article: '第四条' }, answer).citation).toBe(false);
    expect(scoreItem({ ...item, must_contain: ['三十日'] }, answer)).toMatchObject({ fact: false, missing: ['三十日'] });
    const hidden = { ...answer, answer: 'x'.repeat(1600) };
    expect(scoreItem(item, hidden).fact).toBe(false);
    expect(visibleText(answer)).toContain('《示范办法》第三条');
  });
  it('scores abstention both ways', () => {
    const none = { ...item, doc: null, article: null, must_contain: [], kind: 'none' as const };
    const s = summarize([scoreItem(none, { ...answer, abstained: true, citations: [] }), scoreItem(item, { ...answer, abstained: true, citations: [] })]);
    expect(s.abstentionAccuracy).toBe(0.5);
    expect(s.factAccuracy).toBe(0);
  });
});
