import type { Db } from '../store/db.js';

export interface ChannelHit {
  id: number;
  /** Larger is better (BM25: FTS5's bm25() negated, or the same formula on PostgreSQL). */
  score: number;
}

/**
 * The two full-text channels of the index (words: title, locator, body columns weighted
 * 2 : 3 : 1; character bigrams), one implementation per store. Both rank with FTS5's
 * BM25 (k1 = 1.2, b = 0.75) over the same jieba tokens, so a question ranks the same
 * passages on either store. Query tokens are data, never query syntax.
 */
export interface FullText {
  /** Indexes one chunk (its rows are removed with deleteDoc/clear). */
  insert(chunkId: number, title: string, locator: string, body: string, grams: string): void;
  /**
   * The word channel alone, for re-segmentation when the dictionary changed: bigrams come from the
   * text only and stay. clearWords empties the word channel; insertWords fills one chunk's row.
   */
  clearWords(): void;
  insertWords(chunkId: number, title: string, locator: string, body: string): void;
  /** Removes the rows of every chunk of a document (before the chunks themselves go). */
  deleteDoc(docId: number): void;
  clear(): void;
  /** Passages holding any of the tokens. */
  searchWords(tokens: string[], limit: number): ChannelHit[];
  /** Passages holding at least one token of every group (AND of ORs); fewer than two groups: none. */
  searchAll(groups: string[][], limit: number): ChannelHit[];
  searchGrams(grams: string[], limit: number): ChannelHit[];
  /** Number of passages holding `a` and any of `others`. */
  cooccurrence(a: string, others: string[]): number;
  /** Number of passages holding each indexed word. */
  vocabulary(): Map<string, number>;
}

/** Prepares each SQL text once: the query path runs the same few statements on every question. */
export class StatementCache {
  private readonly statements = new Map<string, ReturnType<Db['prepare']>>();
  constructor(private readonly db: Db) {}

  get(sql: string): ReturnType<Db['prepare']> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}
