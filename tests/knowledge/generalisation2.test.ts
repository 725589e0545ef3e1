import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';
import { analyzeQuestion, answerTypeOf, exampleWords, functionOnly, idf, NARRATIVE_SHARE, type VocabularyView } from '../../src/knowledge/query.js';

/**
 * Behaviours added in the second generalisation pass (fresh2): function-character
 * fusions and reduplications are not topics, relation and list answer types, examples
 * of a named category. The fixture sits in a hidden folder so that the tests loading the
 * whole fixtures folder do not see it.
 */
const RULES = join(FIXTURES, '.generalisation2', 'community-committee-rules.txt');

function vocab(dfs: Record<string, number>): VocabularyView {
  return { size: 100, df: (t) => dfs[t] ?? 0, oneCharAway: () => [], cooccurrence: () => 0, charDf: () => 0 };
}
const words = (q: ReturnType<typeof analyzeQuestion>) => q.concepts.map((c) => c.word);

describe('phrasing that is not a topic', () => {
  it('drops words made only of function and light characters (上要, 做些), keeps content words', () => {
    expect(functionOnly('上要')).toBe(true);
    expect(functionOnly('做些')).toBe(true);
    expect(functionOnly('任期')).toBe(false);
    expect(functionOnly('出去')).toBe(false);
    // Even when an index of odd segments holds 上要 once, it is not a concept.
    const q = analyzeQuestion('村委会在民族团结上要做些啥', vocab({ 村委会: 10, 民族团结: 2, 上要: 1 }));
    expect(words(q)).not.toContain('上要');
    expect(words(q)).not.toContain('做些');
    expect(words(q)).toContain('民族团结');
  });

  it('weighs an unseen reduplicated word (讲讲, 偷偷) as phrasing, not as the missing topic', () => {
    const q = analyzeQuestion('候选人要不要跟村民讲讲', vocab({ 候选人: 10, 村民: 40 }));
    const w = (x: string) => q.concepts.find((c) => c.word === x)?.weight ?? 0;
    expect(w('讲讲')).toBeLessThan(idf(0, 100) * 0.3);
    expect(w('讲讲')).toBeLessThan(w('候选人'));
  });
});

describe('answer types for relations and lists', () => {
  it('reads 谁领导谁 / 什么关系 as a relation and 哪些任务 as a list', () => {
    expect(answerTypeOf('村党支部和村委会到底谁领导谁')?.name).toBe('关系');
    expect(answerTypeOf('社区居委会和街道办事处是什么关系')?.name).toBe('关系');
    expect(answerTypeOf('居委会平时要负责哪些任务')?.name).toBe('列举');
    expect(answerTypeOf('居委会一般多少户设一个')?.name).toBe('数量');
  });

  it('matches a list laid out as items, not a sentence that merely names things', () => {
    const list = answerTypeOf('有哪些任务')!.pattern;
    expect(list.test('居民委员会的任务：\n（一）办理公共事务；\n（二）调解民间纠纷；')).toBe(true);
    expect(list.test('一是要求高。二是标准高。')).toBe(true);
    expect(list.test('居民委员会负责管理本社区的公共财产。')).toBe(false);
  });
});

describe('examples of a named category', () => {
  it('finds the examples given before 这类/那些 (修路打井这类公益事业)', () => {
    expect([...exampleWords('村里修路打井这类公益事业的钱咋筹')]).toEqual(['修路', '打井']);
    expect(exampleWords('违反纪律的这些人能当候选人吗').size).toBe(0);
  });

  it('discounts examples the index never saw, not the ones it knows', () => {
    const q = analyzeQuestion('村里修路打井这类公益事业的钱咋筹', vocab({ 打井: 2, 公益事业: 5, 本村: 20, 筹资筹劳: 2 }));
    const w = (x: string) => q.concepts.find((c) => c.word === x)!.weight;
    expect(w('打井')).toBeCloseTo(idf(2, 100));
    expect(w('修路')).toBeLessThan(idf(0, 100) * NARRATIVE_SHARE + 1e-9);
  });
});

describe('answers on the fixture rules', () => {
  let db: Db;
  let cleanup: () => void;
  beforeEach(() => ({ db, cleanup } = freshDb()));
  afterEach(() => cleanup());

  async function ready() {
    const { svc } = makeService(db);
    await svc.ingestPaths([RULES]);
    return svc;
  }

  it('answers 谁领导谁 with the article stating the relation, not one naming both bodies', async () => {
    const svc = await ready();
    const a = await svc.ask('社区党组织和居委会到底谁领导谁');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.locator).toBe('第二条');
  });

  it('answers 负责哪些任务 with the list article, not one that only says 负责', async () => {
    const svc = await ready();
    const a = await svc.ask('社区居委会平时要负责哪些任务');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.locator).toBe('第三条');
  });

  it('answers a question giving colloquial examples of a category the library names', async () => {
    const svc = await ready();
    const a = await svc.ask('社区修路这类公益事业的费用咋办');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.locator).toBe('第六条');
  });
});
