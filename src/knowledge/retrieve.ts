import type { ChunkRow, IndexRepo } from './index-repo.js';
import { reciprocalRankFusion } from './fuse.js';
import { altDf, analyzeQuestion, type AnalyzedQuery, type Concept } from './query.js';
import { Vocabulary } from './vocabulary.js';

/** A dense retriever (embeddings); optional. */
export interface VectorSearch {
  search(question: string, limit: number): Promise<{ id: number; score: number }[]>;
}

export type Channel = 'word' | 'gram' | 'vector';

export interface Passage {
  chunk: ChunkRow;
  /** Final ranking score in [0, 1]. */
  score: number;
  /** IDF-weighted share of the question's concepts the passage contains, in [0, 1]. */
  coverage: number;
  /** Rank (1-based) in each channel that found it. */
  ranks: Partial<Record<Channel, number>>;
  channelScores: Partial<Record<Channel, number>>;
  matched: string[];
  superseded: boolean;
}

export interface Retrieval {
  query: AnalyzedQuery;
  passages: Passage[];
}

const WORD_LIMIT = 50;
const CONJUNCTIVE_LIMIT = 30;
const GRAM_LIMIT = 30;
const VECTOR_LIMIT = 30;
/** Weight of coverage against fused rank in the final score. */
const COVERAGE_WEIGHT = 0.7;
const GUIDE_FACTOR = 0.85;

/** How well a passage's tokens cover one concept: 1 for its own word, less for synonyms, parts, or the title only. */
export function conceptMatch(c: Concept, body: Set<string>, title: Set<string>): number {
  let best = 0;
  for (const a of c.alts) {
    let m = 0;
    if (body.has(a.token)) m = a.credit;
    else if (a.parts.length >= 2 && a.parts.every((p) => body.has(p))) m = 0.7 * a.credit;
    // A phrase the index splits (不超过 → 超过): its one long part stands for it.
    else if (a.parts.length === 1 && a.parts[0]!.length >= a.token.length - 1 && body.has(a.parts[0]!)) m = 0.7 * a.credit;
    else if (title.has(a.token)) m = 0.6 * a.credit;
    if (m > best) best = m;
  }
  return best;
}

export function coverageOf(concepts: Concept[], body: Set<string>, title: Set<string>): { coverage: number; matched: string[] } {
  let total = 0;
  let got = 0;
  const matched: string[] = [];
  for (const c of concepts) {
    total += c.weight;
    const m = conceptMatch(c, body, title);
    if (m > 0) matched.push(c.word);
    got += c.weight * m;
  }
  return { coverage: total > 0 ? got / total : 0, matched };
}

export class Retriever {
  private vocab: Vocabulary | null = null;
  private readonly titleCache = new Map<string, Set<string>>();

  constructor(
    private readonly repo: IndexRepo,
    private readonly vectors?: VectorSearch,
  ) {}

  /** Call after the index changed. */
  invalidate(): void {
    this.vocab = null;
    this.titleCache.clear();
  }

  vocabulary(): Vocabulary {
    this.vocab ??= new Vocabulary(this.repo);
    return this.vocab;
  }

  async retrieve(question: string, opts: { limit?: number; includeSuperseded?: boolean } = {}): Promise<Retrieval> {
    const limit = opts.limit ?? 8;
    const query = analyzeQuestion(question, this.vocabulary());
    if (query.concepts.length === 0 && query.grams.length === 0) return { query, passages: [] };

    // Disjunctive BM25 finds passages strong on any word; the conjunctive query makes sure
    // passages holding all (or all but the least informative) concepts are candidates too.
    // Passages holding every concept come first (coordination level), then the rest by BM25.
    const disjunctive = this.repo.searchWords(query.wordTokens, WORD_LIMIT);
    // The four most informative concepts bound the conjunctive query's cost.
    const vocab = this.vocabulary();
    const byWeight = [...query.concepts].sort((a, b) => b.weight - a.weight).slice(0, 4);
    let conjunctive: { id: number; score: number }[] = [];
    for (let keep = byWeight.length; keep >= Math.max(2, byWeight.length - 1) && conjunctive.length === 0; keep--) {
      const groups = byWeight
        .slice(0, keep)
        .map((c) => [...new Set(c.alts.flatMap((a) => (vocab.df(a.token) > 0 ? [a.token] : a.parts)))].filter((t) => vocab.df(t) > 0));
      if (groups.some((g) => g.length === 0)) break;
      conjunctive = this.repo.searchAll(groups, CONJUNCTIVE_LIMIT);
    }
    const first = new Set(conjunctive.map((h) => h.id));
    const word = [...conjunctive, ...disjunctive.filter((h) => !first.has(h.id))];
    // The bigram channel is the fallback for what words miss (typos, odd segmentation):
    // it runs when a concept has no spelling the index knows, or words found little.
    const unknown = query.concepts.some((c) => c.alts.every((a) => altDf(a, vocab) === 0));
    const gram = unknown || word.length < 10 ? this.repo.searchGrams(query.grams, GRAM_LIMIT) : [];
    let vector: { id: number; score: number }[] = [];
    if (this.vectors && query.text) vector = await this.vectors.search(query.text, VECTOR_LIMIT).catch(() => []);

    const channels: Record<Channel, { id: number; score: number }[]> = { word, gram, vector };
    const fused = reciprocalRankFusion({ word: word.map((h) => h.id), gram: gram.map((h) => h.id), vector: vector.map((h) => h.id) });
    const chunks = this.repo.chunks([...fused.keys()]);
    const maxFused = Math.max(...fused.values(), 1e-9);

    const passages: Passage[] = [];
    for (const [id, f] of fused) {
      const chunk = chunks.get(id);
      if (!chunk) continue;
      const superseded = chunk.doc_superseded === 1;
      if (superseded && !opts.includeSuperseded) continue;
      const body = new Set(`${chunk.tokens} ${chunk.head_tokens}`.split(' '));
      const { coverage, matched } = coverageOf(query.concepts, body, this.titleTokens(chunk.doc_title_tokens));
      const ranks: Passage['ranks'] = {};
      const channelScores: Passage['channelScores'] = {};
      for (const ch of ['word', 'gram', 'vector'] as Channel[]) {
        const i = channels[ch].findIndex((h) => h.id === id);
        if (i >= 0) {
          ranks[ch] = i + 1;
          channelScores[ch] = channels[ch][i]!.score;
        }
      }
      const base = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * (f / maxFused);
      // Primary texts outrank a guide that restates them; the guide still answers when nothing else does.
      const score = chunk.doc_authority === 'guide' ? base * GUIDE_FACTOR : base;
      passages.push({ chunk, score, coverage, ranks, channelScores, matched, superseded });
    }
    passages.sort((a, b) => b.score - a.score || a.chunk.id - b.chunk.id);
    return { query, passages: passages.slice(0, limit) };
  }

  private titleTokens(s: string): Set<string> {
    let t = this.titleCache.get(s);
    if (!t) {
      t = new Set(s.split(' '));
      this.titleCache.set(s, t);
    }
    return t;
  }
}
