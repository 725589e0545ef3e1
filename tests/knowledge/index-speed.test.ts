import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { IndexRepo } from '../../src/knowledge/index-repo.js';
import { prepareDocument } from '../../src/knowledge/document.js';
import { generalIdf, indexTokens } from '../../src/knowledge/tokenize.js';
import { FIXTURES, freshDb } from './helpers.js';

/**
 * What the speed work (issue 15, `npm run bench -- knowledge`) changed must not change answers:
 * the article a guide cites is the law's own, the general IDF table reads as idf.txt does, and
 * segments keep their index forms, re-segmenting leaves bm25 as it was. Timings live in the bench,
 * never here.
 */
let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

function law(title: string, version: string, articles: string[]): Buffer {
  return Buffer.from([`标题：${title}`, `版本：${version}`, '', ...articles.map((a, i) => `第${'一二三四五'[i]}条 ${a}`)].join('\n\n'), 'utf8');
}

describe('article a citation names', () => {
  it('is the law itself, not a newer provincial 实施办法 whose title holds the law’s name', async () => {
    const repo = new IndexRepo(db);
    const national = await prepareDocument(
      '/lib/national.txt',
      law('中华人民共和国村民委员会组织法（2018年修正）', '2018-12-29', ['村民委员会由主任、副主任和委员共三至七人组成。', '村民委员会每届任期五年。', '选举由村民选举委员会主持。']),
    );
    const provincial = await prepareDocument(
      '/lib/provincial.txt',
      law('某省实施《中华人民共和国村民委员会组织法》办法（2024年修订）', '2024-05-01', ['本办法适用于本省行政区域。', '村民委员会成员可以连选连任。', '本办法自公布之日起施行。']),
    );
    repo.replaceDocument(provincial, 1);
    repo.replaceDocument(national, 2);
    const id = repo.articleId('村民委员会组织法', '第二条');
    expect(id).not.toBeNull();
    expect(repo.chunks([id!]).get(id!)?.doc_title).toBe('中华人民共和国村民委员会组织法（2018年修正）');
    // A title only the provincial rules hold still resolves to them; an article nobody has does not.
    expect(repo.chunks([repo.articleId('实施《中华人民共和国村民委员会组织法》办法', '第二条')!]).size).toBe(1);
    expect(repo.articleId('村民委员会组织法', '第九条')).toBeNull();
  });
});

describe('general IDF table', () => {
  it('gives idf.txt’s value for listed words and nothing for the rest', () => {
    expect(generalIdf('宽带')).toBeGreaterThan(9);
    expect(generalIdf('大家')).toBeLessThan(5.5);
    expect(generalIdf('劳动防护')).toBeCloseTo(13.900677652, 9);
    for (const w of ['', '村民委员会组织法第三十五条', '劳动防护 ', '\uD800', 'zz_not_a_word']) expect(generalIdf(w)).toBeUndefined();
  });
});

describe('index tokens', () => {
  it('keeps plain words, numeral twins, FTS-safe forms and drops single characters', () => {
    expect(indexTokens('村民委员会每届任期五年')).toEqual(expect.arrayContaining(['村民', '委员', '委员会', '村民委员会', '每届', '任期', '五年', '5年']));
    expect(indexTokens('村民委员会每届任期五年')).not.toContain('年');
    expect(indexTokens('超过50%的村民')).toContain('50pct');
  });
});

describe('re-segmentation when the dictionary changed', () => {
  it('leaves every bm25 score as a fresh index has it', async () => {
    const repo = new IndexRepo(db);
    for (const [i, f] of ['model-election-rules-2018.txt', 'township-speech.txt'].entries())
      repo.replaceDocument(await prepareDocument(join(FIXTURES, f), readFileSync(join(FIXTURES, f))), i);
    const scores = () => [repo.searchWords(['村民', '选举', '委员会', '罢免'], 20), repo.searchGrams(['村民', '选举', '罢免'], 20)];
    const fresh = scores();
    expect(fresh[0]!.length).toBeGreaterThan(0);
    for (let k = 0; k < 2; k++) {
      db.prepare("UPDATE kb_meta SET value = 'stale' WHERE key = 'tokenizer'").run();
      expect(repo.ensureTokenizer()).toBeGreaterThan(0);
      expect(scores()).toEqual(fresh);
    }
  });
});
