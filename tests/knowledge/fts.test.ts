import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { IndexRepo } from '../../src/knowledge/index-repo.js';
import { charBigrams } from '../../src/knowledge/tokenize.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';

/**
 * Both stores rank the full-text channels with FTS5's bm25() (k1 1.2, b 0.75, columns title,
 * locator, body weighted 2, 3, 1): checked against the formula computed here from the very
 * tokens stored with each chunk, on whichever store the suite runs (HJ_TEST_STORE).
 */
interface Doc {
  id: number;
  cols: string[][];
}

function bm25(docs: Doc[], weights: number[], terms: string[], match: (d: Doc) => boolean): Map<number, number> {
  const n = docs.length;
  const avgdl = docs.reduce((s, d) => s + d.cols.flat().length, 0) / n;
  const out = new Map<number, number>();
  for (const d of docs.filter(match)) {
    const dl = d.cols.flat().length;
    let score = 0;
    for (const t of terms) {
      const hits = docs.filter((x) => x.cols.some((c) => c.includes(t))).length;
      const idf = Math.max(Math.log((n - hits + 0.5) / (hits + 0.5)), 1e-6);
      const tf = d.cols.reduce((s, c, i) => s + weights[i]! * c.filter((x) => x === t).length, 0);
      if (tf > 0) score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * dl) / avgdl));
    }
    out.set(d.id, score);
  }
  return out;
}

const split = (s: string) => (s ? s.split(' ') : []);

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

describe('full-text channels (either store)', () => {
  it('score every passage with BM25 over the stored tokens, repeated terms counting twice', async () => {
    const { svc } = makeService(db);
    await svc.ingestPaths([FIXTURES]);
    const rows = db
      .prepare('SELECT c.id, d.title_tokens, c.head_tokens, c.tokens, c.text FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id')
      .all() as { id: number; title_tokens: string; head_tokens: string; tokens: string; text: string }[];
    const words: Doc[] = rows.map((r) => ({ id: r.id, cols: [split(r.title_tokens), split(r.head_tokens), split(r.tokens)] }));
    const grams: Doc[] = rows.map((r) => ({ id: r.id, cols: [charBigrams(r.text)] }));
    const repo = new IndexRepo(db);
    const has = (d: Doc, t: string) => d.cols.some((c) => c.includes(t));

    const check = (got: { id: number; score: number }[], want: Map<number, number>) => {
      expect(want.size).toBeGreaterThan(1);
      expect(got.length).toBe(Math.min(10, want.size));
      for (const h of got) expect(h.score).toBeCloseTo(want.get(h.id)!, 9);
      const best = [...want.values()].sort((a, b) => b - a);
      expect(got[0]!.score).toBeCloseTo(best[0]!, 9);
    };

    const terms = ['候选人', '选民', '任期', '选民'];
    check(repo.searchWords(terms, 10), bm25(words, [2, 3, 1], terms, (d) => terms.some((t) => has(d, t))));
    const groups = [['候选人', '提名'], ['选举', '村民']];
    const all = groups.flat();
    check(repo.searchAll(groups, 10), bm25(words, [2, 3, 1], all, (d) => groups.every((g) => g.some((t) => has(d, t)))));
    const gs = ['选民', '名单', '公布'];
    check(repo.searchGrams(gs, 10), bm25(grams, [1], gs, (d) => gs.some((t) => has(d, t))));
    // Query syntax in a token is data on both stores.
    expect(repo.searchWords([`"候选人" OR x`, "a' | b", 'NEAR(a b)'], 10)).toEqual([]);
    expect(repo.cooccurrence('选民', ['名单'])).toBe(words.filter((d) => has(d, '选民') && has(d, '名单')).length);
  });
});
