import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, freshDb, makeService, tempDir } from './helpers.js';
import { analyzeQuestion, answerTypeOf, expandAbbreviations, idf, topicality, type Concept, type VocabularyView } from '../../src/knowledge/query.js';
import { citedArticles, coverageOf, dedupe, onlyAsLongerHead, sentenceCoverage, type Passage } from '../../src/knowledge/retrieve.js';
import { decideAbstention } from '../../src/knowledge/abstain.js';
import { pickSentences } from '../../src/knowledge/answer-offline.js';
import { cutWords } from '../../src/knowledge/tokenize.js';

/** An index vocabulary given as document frequencies (100 passages). */
function vocab(dfs: Record<string, number>, chars: Record<string, number> = {}): VocabularyView {
  return {
    size: 100,
    df: (t) => dfs[t] ?? 0,
    oneCharAway: () => [],
    cooccurrence: () => 0,
    charDf: (c) => chars[c] ?? 0,
  };
}

const words = (cs: Concept[]) => cs.map((c) => c.word);

describe('query analysis', () => {
  it('reads an A-not-A question as asking about A (管不管, 变不变, 违不违反)', () => {
    const q = analyzeQuestion('交接乡镇政府管不管', vocab({ 交接: 3, 人民政府: 10, 监督: 8 }));
    expect(words(q.concepts)).toContain('管');
    expect(words(q.concepts)).not.toContain('不管');
    expect(q.concepts.find((c) => c.word === '管')!.alts.map((a) => a.token)).toContain('监督');
  });

  it('drops words that hold a question word (由谁来, 咋搞) instead of weighing them as unseen content', () => {
    const q = analyzeQuestion('补选由谁来组织 咋搞', vocab({ 补选: 2, 组织: 30 }));
    expect(words(q.concepts).some((w) => /谁|咋/.test(w))).toBe(false);
    expect(words(q.concepts)).toContain('补选');
  });

  it('recognises the kind of answer asked for and adds it as a half-weight concept', () => {
    expect(answerTypeOf('选民名单要提前多少天公布')?.name).toBe('期限');
    expect(answerTypeOf('村民代表会议多久开一回')?.name).toBe('频次');
    expect(answerTypeOf('村支书一个月补贴多少钱')?.name).toBe('金额');
    expect(answerTypeOf('投票日定在几月几号')?.name).toBe('日期');
    expect(answerTypeOf('要多少人联名')?.name).toBe('数量');
    expect(answerTypeOf('一肩挑是什么意思')).toBeNull();
    const q = analyzeQuestion('名单提前多少天公布', vocab({ 名单: 5, 提前: 5, 公布: 10 }));
    const t = q.concepts.find((c) => c.answerType)!;
    expect(t.word).toBe('#期限');
    const mean = q.concepts.filter((c) => !c.answerType).reduce((s, c) => s + c.weight, 0) / (q.concepts.length - 1);
    expect(t.weight).toBeCloseTo(mean * 0.5);
    // Matched on the passage text: a passage stating a number of days answers it.
    expect(coverageOf([t], new Set(), new Set(), '应当在选举日的二十日前公布').coverage).toBe(1);
    expect(coverageOf([t], new Set(), new Set(), '由村民选举委员会公布').coverage).toBe(0);
  });

  it('expands an abbreviation of a domain term only where the segmenter found no word', () => {
    expect(expandAbbreviations(cutWords('先审后换是啥原则'))).toContain('先审计后换届');
    expect(expandAbbreviations(cutWords('双考双回怎么搞'))).toContain('双考核双回头');
    // Known words are left alone (居民会议 is not read as an abbreviation of 居民委员会).
    expect(expandAbbreviations(cutWords('居民会议的决定要多少人同意'))).toContain('居民会议');
    expect(expandAbbreviations(cutWords('居民会议的决定要多少人同意'))).not.toContain('居民委员会');
  });

  it('weighs the first unseen word as the rarest and each further one less (1, 1/2, 1/3)', () => {
    // (A reduplication such as 天天 is phrasing and weighs apart: see generalisation2.test.ts.)
    const q = analyzeQuestion('候选人上门吓唬倒霉', vocab({ 候选人: 20 }));
    const unseen = q.concepts.filter((c) => c.word !== '候选人' && !c.answerType).map((c) => c.weight);
    const max = idf(0, 100);
    expect(unseen.length).toBeGreaterThanOrEqual(3);
    // Each also scaled by how topical the word is in general Chinese.
    const ws = q.concepts.filter((c) => c.word !== '候选人' && !c.answerType).map((c) => c.word);
    expect(unseen[0]).toBeCloseTo(max * topicality(ws[0]!));
    expect(unseen[1]).toBeCloseTo((max * topicality(ws[1]!)) / 2);
    expect(unseen[2]).toBeCloseTo((max * topicality(ws[2]!)) / 3);
  });

  it('gives a generic synonym that is part of the word (村民代表 → 代表) half credit', () => {
    const q = analyzeQuestion('村民代表任期', vocab({ 村民代表: 5, 代表: 40, 任期: 6 }));
    const alt = q.concepts.find((c) => c.word === '村民代表')!.alts.find((a) => a.token === '代表');
    expect(alt?.credit).toBe(0.5);
  });

  it('lets a compound the index never saw count through its known parts (不足应选名额 → 名额)', () => {
    const q = analyzeQuestion('不足应选名额算违纪不', vocab({ 名额: 2, 违纪: 3, 纪律: 5 }));
    const c = q.concepts.find((x) => x.word === '不足应选名额')!;
    expect(c.alts.some((a) => a.token === '名额' && a.via === 'part')).toBe(true);
    expect(coverageOf([c], new Set(['名额']), new Set()).coverage).toBeCloseTo(0.7);
  });

  it('matches a one-character content word on the passage text, weighted by how many passages hold it', () => {
    const q = analyzeQuestion('公章去哪里刻', vocab({ 公章: 2 }, { 刻: 0 }));
    const c = q.concepts.find((x) => x.char === '刻')!;
    expect(c.weight).toBeCloseTo(idf(0, 100));
    expect(coverageOf([c], new Set(), new Set(), '新公章由县里统一刻制').coverage).toBe(1);
  });
});

describe('ranking signals', () => {
  it('does not count a word that only begins a longer term (村民代表 in 村民代表会议)', () => {
    expect(onlyAsLongerHead('村民代表', '村民代表会议每季度召开一次。')).toBe(true);
    expect(onlyAsLongerHead('村民代表', '村民代表的任期与村民委员会的任期相同。')).toBe(false);
    // A longer term ending with the word is the same thing made specific.
    expect(onlyAsLongerHead('选举委员会', '由村民选举委员会主持。')).toBe(false);
  });

  it('scores the passage whose one sentence holds the question words above one that scatters them', () => {
    const q = analyzeQuestion('监委会成员怎么推选', vocab({ 监委会: 3, 村务监督委员会: 3, 成员: 30, 推选: 8 }));
    const body = new Set(['村务监督委员会', '成员', '推选']);
    const close = sentenceCoverage(q.concepts, '村务监督委员会成员由村民会议推选产生。其他事项另行规定。', body);
    const apart = sentenceCoverage(q.concepts, '村务监督委员会负责监督。成员另有规定。代表由各组推选。', body);
    expect(close).toBeGreaterThan(apart);
  });

  it('keeps one of several passages with the same text', () => {
    const p = (id: number, text: string) => ({ chunk: { id, text }, score: 1 }) as unknown as Passage;
    expect(dedupe([p(1, '第四条 任期五年。'), p(2, '第四条  任期五年'), p(3, '第五条 其他。')]).map((x) => x.chunk.id)).toEqual([1, 3]);
  });

  it('reads the articles a guide cites', () => {
    expect(citedArticles('依据：《中华人民共和国村民委员会组织法》第十一条、第十二条；《城市居民委员会组织法》第八条。')).toEqual([
      { law: '村民委员会组织法', article: '第十一条' },
      { law: '村民委员会组织法', article: '第十二条' },
      { law: '城市居民委员会组织法', article: '第八条' },
    ]);
  });

  it('declines when the question asks for an amount or a date that no top passage states', () => {
    const money: Concept = { word: '#金额', alts: [], weight: 1, answerType: { name: '金额', pattern: /元/ } };
    const p = (matched: string[]) => ({ coverage: 0.9, matched, score: 1 }) as unknown as Passage;
    expect(decideAbstention(3, [p(['补贴'])], 0.44, [money])).toMatchObject({ abstain: true, reason: 'no_such_fact' });
    expect(decideAbstention(3, [p(['补贴', '#金额'])], 0.44, [money]).abstain).toBe(false);
  });

  it('answers with the sentence that states the kind of fact asked for', () => {
    const q = analyzeQuestion('村民代表会议多久开一次', vocab({ 村民代表会议: 3, 召开: 10, 一次: 10 }));
    const s = pickSentences('第二十六条 村民代表会议由村民委员会召集。村民代表会议每季度召开一次。', q.concepts).join('');
    expect(s).toContain('每季度召开一次');
  });
});

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

describe('a guide restating the law (service, fixtures)', () => {
  it('quotes the article the guide cites first, the guide after it', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'guide.md'),
      [
        '标题：青禾县换届操作指引',
        '类型：工作指引',
        '版本：2025-10-01',
        '',
        '# 青禾县换届操作指引',
        '',
        '## 一、任期',
        '',
        '（一）任期。村委会每届任期五年，期满按时换届，换届前做好各项准备，任期届满前三个月启动。依据：《青禾县村级组织选举示范办法》第四条。',
      ].join('\n'),
    );
    const { svc } = makeService(db);
    await svc.ingestPaths([FIXTURES, dir]);
    const a = await svc.ask('村委会一届干几年');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]).toMatchObject({ doc: 'model-election-rules-2025.txt', locator: '第四条' });
    expect(a.answer).toContain('五年');
  });

  it('still declines an amount of money the library never states', async () => {
    const { svc } = makeService(db);
    await svc.ingestPaths([FIXTURES]);
    const a = await svc.ask('选举工作小组的人一天补助多少钱');
    expect(a.abstained).toBe(true);
  });
});
