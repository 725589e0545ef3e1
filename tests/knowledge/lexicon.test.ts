import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';
import { compileLexicon, lexicon, LexiconError, parseLexicon } from '../../src/knowledge/lexicon.js';
import { COLLOQUIAL, synonymsOf } from '../../src/knowledge/synonyms.js';
import { analyzeQuestion, answerTypeOf, fusedAcross, isKnownWord, typoCorrection, type VocabularyView } from '../../src/knowledge/query.js';
import { cutWords } from '../../src/knowledge/tokenize.js';

/**
 * The lexicon is data (src/knowledge/lexicon.tsv): its loader, its invariants, and what
 * its entries do on a small library of our own (a fictional province's election rules in
 * a hidden fixture folder, so the tests loading the whole fixtures folder do not see it).
 */
const RULES = join(FIXTURES, '.lexicon', 'village-election-rules.txt');

describe('lexicon loader', () => {
  it('reads terms, synonyms, colloquial words and rewrites, skipping comments and blank lines', () => {
    const entries = parseLexicon(
      ['# 注释', '', '一肩挑\t-\tterm\t制度名', '村委会\t村民委员会\tsynonym\t简称', '老丈人\t岳父|近亲属\tcolloquial\t妻子的父亲', '半个月\t十五日\trewrite\t时间口语'].join('\n'),
    );
    expect(entries.map((e) => [e.kind, e.line])).toEqual([
      ['term', 3],
      ['synonym', 4],
      ['colloquial', 5],
      ['rewrite', 6],
    ]);
    const c = compileLexicon(entries);
    expect(c.terms).toEqual(['一肩挑']);
    expect(c.groups).toEqual([['村民委员会', '村委会']]);
    expect(c.colloquial.get('老丈人')).toEqual(['岳父', '近亲属']);
    expect('名单提前半个月公布'.replace(c.rewrites[0]![0], c.rewrites[0]![1])).toBe('名单提前 十五日 公布');
  });

  it('names the line of a bad entry and says what is wrong', () => {
    const bad = (text: string) => {
      try {
        parseLexicon(text, 'test.tsv');
      } catch (e) {
        expect(e).toBeInstanceOf(LexiconError);
        return (e as LexiconError).userMessage;
      }
      throw new Error('no error');
    };
    expect(bad('# 注释\n村委会\t村民委员会\tsynonym')).toBe('词表 test.tsv 第 2 行有误：应有 4 列（用 Tab 分隔），实有 3 列');
    expect(bad('村委会\t村民委员会\tsynonym\t简称\n村委\t村民委员会\tsynonim\t简称')).toContain('第 2 行有误：类别“synonim”不认识');
    expect(bad('村委会\t村民委员会\tsynonym\t')).toContain('第 1 行有误：缺少来源或理由');
    expect(bad('\n\n近亲属\t近亲属\tcolloquial\t同一个词')).toContain('第 3 行有误：两侧相同');
    expect(bad('村委会\t村民委员会\tsynonym\t简称\n村委会\t村民委员会\tsynonym\t简称')).toContain('第 2 行有误：与第 1 行重复');
  });

  it('ships entries that each have a reason and never map a word onto itself', () => {
    const entries = lexicon();
    expect(entries.length).toBeGreaterThan(300);
    for (const e of entries) {
      expect(e.reason, `line ${e.line}`).not.toBe('');
      if (e.kind !== 'term') expect(e.legal.split(/[|\s]+/), `line ${e.line}`).not.toContain(e.colloquial);
    }
  });

  it('keeps every colloquial word whole for the segmenter, so a question can look it up', () => {
    const split = [...COLLOQUIAL.keys()].filter((w) => cutWords(w).length !== 1);
    expect(split).toEqual([]);
  });

  it('reads colloquial words one way: 老丈人 searches for 近亲属, 近亲属 not for 老丈人, 老丈人 is no synonym of 儿媳', () => {
    expect(synonymsOf('老丈人')).toContain('近亲属');
    expect(synonymsOf('近亲属')).not.toContain('老丈人');
    expect(synonymsOf('老丈人')).not.toContain('儿媳');
  });
});

describe('typo correction', () => {
  function vocab(dfs: Record<string, number>, near: Record<string, string[]>): VocabularyView {
    return { size: 100, df: (t) => dfs[t] ?? 0, oneCharAway: (w) => near[w] ?? [], cooccurrence: () => 1, charDf: () => 0 };
  }

  it('treats words of the general dictionary and of its IDF table as known, whatever the segmenter does with them', () => {
    expect(isKnownWord('日内')).toBe(true);
    expect(isKnownWord('新老')).toBe(true);
    expect(isKnownWord('唱票人')).toBe(true);
    expect(isKnownWord('近姻亲')).toBe(true);
    expect(isKnownWord('明单')).toBe(false);
  });

  it('never replaces a known word, even when a word one character away fills the index', () => {
    const v = vocab({ 党内: 5, 新任: 5, 名单: 5 }, { 日内: ['党内'], 新老: ['新任'], 明单: ['名单'] });
    expect(typoCorrection('日内', [], ['处理决定'], v)).toBeUndefined();
    expect(typoCorrection('新老', [], ['交接'], v)).toBeUndefined();
    expect(typoCorrection('明单', [], ['选民'], v)).toBe('名单');
  });

  it('corrects into domain words only, not into any general word the index holds', () => {
    const v = vocab({ 打击: 5 }, { 打叉: ['打击'] });
    expect(typoCorrection('打叉', [], ['选票'], v)).toBeUndefined();
  });

  it('does not take pieces of two words glued by the segmenter (选举日 + 定 → 日定) for a misspelling', () => {
    expect(fusedAcross('日定', ['今年', '换届选举', '日定', '在', '几号'])).toBe(true);
    expect(fusedAcross('明单', ['选民', '明单', '漏', '了'])).toBe(false);
    expect(fusedAcross('主认', ['村委会', '主认', '的', '亲戚'])).toBe(false);
  });

  it('reads 新老班子 as written, not as 新任班子', () => {
    const v = vocab({ 新任: 5, 交接: 5 }, { 新老: ['新任'] });
    const q = analyzeQuestion('新老班子交接乡镇政府管不管', v);
    expect(q.concepts.flatMap((c) => c.alts).some((a) => a.via === 'typo')).toBe(false);
  });
});

describe('question grammar', () => {
  const vocab = (dfs: Record<string, number>): VocabularyView => ({ size: 100, df: (t) => dfs[t] ?? 0, oneCharAway: () => [], cooccurrence: () => 0, charDf: () => 0 });
  const words = (q: string, dfs: Record<string, number> = {}) => analyzeQuestion(q, vocab(dfs)).concepts.map((c) => c.word);

  it('binds a question numeral to its classifier (多少人才能开 is not about 人才, 多少户设一个 not about 户设)', () => {
    expect(words('居民会议到多少人才能开', { 居民会议: 3 })).not.toContain('人才');
    expect(words('居委会一般多少户设一个', { 居委会: 3 })).not.toContain('户设');
  });

  it('asks for a number of the unit named (多少户 → 七百户), a deadline for 最晚哪天, money for 多少误工费', () => {
    const households = answerTypeOf('居委会一般多少户设一个')!;
    expect(households.pattern.test('一般在一百户至七百户的范围内设立')).toBe(true);
    expect(households.pattern.test('由主任、副主任和委员共五至九人组成')).toBe(false);
    expect(answerTypeOf('当选名单最晚哪天要贴出来')?.name).toBe('期限');
    expect(answerTypeOf('选举日定在哪天')?.name).toBe('日期');
    expect(answerTypeOf('选举那天给来投票的村民发多少误工费')?.name).toBe('金额');
  });

  it('reads 多长时间 as how long, not 长时间, and a person named 老张 as nobody the library holds', () => {
    expect(words('村委会多长时间开一回会', { 村委会: 3 })).not.toContain('长时间');
    expect(words('我提名老张当主任算数不', { 提名: 3, 主任: 3 })).not.toContain('老张');
  });
});

describe('everyday words on a library that uses the legal ones', () => {
  let db: Db;
  let cleanup: () => void;
  let svc: ReturnType<typeof makeService>['svc'];
  // One library for the whole block: ingesting is the slow part, the questions only read.
  beforeAll(async () => {
    ({ db, cleanup } = freshDb());
    ({ svc } = makeService(db));
    await svc.ingestPaths([RULES]);
  });
  afterAll(() => cleanup());

  /** The locator of the best passage, when it comes from the fixture rules. */
  async function top(question: string): Promise<string | undefined> {
    const r = await svc.retrieve(question, { limit: 3 });
    const p = r.passages[0];
    return p?.chunk.doc_name === 'village-election-rules.txt' ? p.chunk.locator : `other: ${p?.chunk.doc_name} ${p?.chunk.locator}`;
  }

  it('finds the 近亲属 article for family words (老丈人, 两口子, 儿媳)', async () => {
    expect(await top('老丈人能进村务监督委员会吗')).toBe('第四条');
    expect(await top('两口子一个在村委会一个在村务监督委员会行不行')).toBe('第四条');
    expect(await top('儿媳妇外出打工了，能让婆婆替她投票吗')).toBe('第九条');
  });

  it('reads loose time words as the law counts them (半个月 → 十五日)', async () => {
    expect(await top('选民名单要提前半个月贴出来吗')).toBe('第五条');
  });

  it('reads absence from duty (老是不来开会) as 无正当理由不参加', async () => {
    expect(await top('村委委员老是不来开会咋办')).toBe('第六条');
  });

  it('reads the village seal (章子) as 印章 and seats left over (还差几个) as 不足应选名额', async () => {
    expect(await top('村委会的章子归谁管')).toBe('第七条');
    expect(await top('投完票还差几个没选上咋办')).toBe('第八条');
  });
});
