import type { IndexRepo } from './index-repo.js';
import type { VocabularyView } from './query.js';

/**
 * The index's vocabulary held in memory (document frequencies from fts5vocab), with a
 * wildcard map for one-character-away lookups. Rebuilt after every change to the index.
 */
export class Vocabulary implements VocabularyView {
  private readonly dfs: Map<string, number>;
  private readonly wild = new Map<string, string[]>();
  readonly size: number;

  constructor(private readonly repo: IndexRepo) {
    this.dfs = repo.vocabulary();
    this.size = repo.chunkCount();
    for (const term of this.dfs.keys()) {
      const chars = Array.from(term);
      if (chars.length < 2 || chars.length > 4 || !/^\p{Script=Han}+$/u.test(term)) continue;
      for (let i = 0; i < chars.length; i++) {
        const key = chars.map((c, j) => (j === i ? '?' : c)).join('');
        const list = this.wild.get(key);
        if (list) list.push(term);
        else this.wild.set(key, [term]);
      }
    }
  }

  df(term: string): number {
    return this.dfs.get(term) ?? 0;
  }

  oneCharAway(word: string): string[] {
    const chars = Array.from(word);
    const out = new Set<string>();
    for (let i = 0; i < chars.length; i++) {
      const key = chars.map((c, j) => (j === i ? '?' : c)).join('');
      for (const t of this.wild.get(key) ?? []) if (t !== word) out.add(t);
    }
    return [...out].sort((a, b) => this.df(b) - this.df(a)).slice(0, 12);
  }

  private chars: Map<string, number> | null = null;

  /** Passages holding a character; counted once over all passage texts on first use. */
  charDf(ch: string): number {
    if (!this.chars) {
      const m = new Map<string, number>();
      for (const text of this.repo.chunkTexts()) for (const c of new Set(text)) m.set(c, (m.get(c) ?? 0) + 1);
      this.chars = m;
    }
    return this.chars.get(ch) ?? 0;
  }

  cooccurrence(term: string, others: string[]): number {
    return this.repo.cooccurrence(term, others.slice(0, 30));
  }
}
