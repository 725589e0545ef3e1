import type { ChunkRow, IndexRepo } from './index-repo.js';
import { ChunkCache } from './chunk-cache.js';
import { reciprocalRankFusion } from './fuse.js';
import { altDf, analyzeQuestion, type AnalyzedQuery, type Concept } from './query.js';
import { Vocabulary } from './vocabulary.js';
import { charBigrams } from './tokenize.js';
import { DOMAIN_TERMS, SYNONYM_GROUPS } from './synonyms.js';
import { kindFit, questionKinds } from './question-type.js';
import { NO_REGION, hasRegion, placeStem, regionName, regionFactor, regionOfDocument, regionOfQuestion, sameRegion, type Region } from './region.js';

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
  /** Coverage by the passage's best single sentence (0 when not measured: far below the best). */
  sentence?: number;
  /** Where its document applies (no province/place: national or general). */
  region?: Region;
  /** Its document is of the region the question names. */
  ownRegion?: boolean;
}

export interface Retrieval {
  query: AnalyzedQuery;
  passages: Passage[];
  /** The region the question names (none: national law preferred). */
  region?: Region;
  /** A question asking two things: the best article for its last asking clause, when another one. */
  second?: { passage: Passage; query: AnalyzedQuery };
}

/** A second asking clause is answered from its own best article when it covers at least this much. */
const SECOND_CLAUSE_COVERAGE = 0.5;

const ASKS = /[谁啥咋怎哪几]|什么|多少|多久|多长|吗|么|能不能|可不可以|是否|要不要|算不算/;

/** The clauses of a question that ask something (split at ？/。/！/，/space and 要是/如果/另外/还有/那么). */
export function askingClauses(text: string): string[] {
  return text
    .split(/[？?。！!；;，,\s]|(?=要是|如果|另外|还有|那么)/)
    .map((c) => c.trim())
    .filter((c) => c.replace(/[\p{P}\s]/gu, '').length >= 4 && ASKS.test(c));
}

/**
 * A question naming a region never quotes another province's rule when a passage of the
 * named region covers at least this share of the best coverage.
 */
const OWN_REGION_ENOUGH = 0.5;

const WORD_LIMIT = 40;
const CONJUNCTIVE_LIMIT = 30;
const GRAM_LIMIT = 30;
const VECTOR_LIMIT = 30;
/** Most bigrams searched in the bigram channel. */
const MAX_GRAMS = 16;
/** Conjunctive hits from which the word channel counts as confident (no bigram search). */
const CONFIDENT_HITS = 5;
/** Weights in the final score: coverage, best-sentence coverage; the rest is the fused rank. */
const COVERAGE_WEIGHT = 0.6;
const SENTENCE_WEIGHT = 0.15;
const GUIDE_FACTOR = 0.85;
/** Passages within this share of the best coverage get the sentence measure. */
const SENTENCE_FROM = 0.6;
/** Guide passages this high in the ranking bring up the articles they cite. */
const PROMOTE_FROM_TOP = 5;
/** A cited article is promoted only when it covers at least this share of what the guide passage covers. */
const CITED_MIN_COVERAGE = 0.5;

/** Words stating a relation between bodies, searched with the bodies when a relation is asked for. */
const RELATION_TERMS = ['领导', '指导', '监督', '负责', '隶属', '协助', '派出机关'];

/** 《村民委员会组织法》第十一条、第十二条 → one reference per article. */
export function citedArticles(text: string): { law: string; article: string }[] {
  const out: { law: string; article: string }[] = [];
  for (const m of text.matchAll(/《([^》]{2,40})》((?:第[一二三四五六七八九十百零]+条[、和及与，,]?)+)/g)) {
    const law = m[1]!.replace(/^中华人民共和国/, '');
    for (const a of m[2]!.match(/第[一二三四五六七八九十百零]+条/g) ?? []) out.push({ law, article: a });
  }
  return out;
}

/**
 * The best single sentence's coverage: how much of the question one sentence of the
 * passage holds (a proximity measure). Tokens count for a sentence when its text holds them.
 */
export function sentenceCoverage(concepts: Concept[], text: string, body: Set<string>): number {
  const sentences = text.split(/(?<=[。；！？\n])/);
  if (sentences.length <= 1) return coverageOf(concepts, body, EMPTY, text).coverage;
  // Only the question's own spellings (and their parts) can count: test those, not every token.
  const toks = [...new Set(concepts.flatMap((c) => c.alts.flatMap((a) => [a.token, ...a.parts])))].filter((t) => body.has(t));
  let best = 0;
  for (const s of sentences) {
    if (s.length < 4) continue;
    const present = new Set(toks.filter((t) => t && s.includes(t)));
    const c = coverageOf(concepts, present, EMPTY, s).coverage;
    if (c > best) best = c;
  }
  return best;
}

const EMPTY = new Set<string>();

const tokenCache = new WeakMap<AnalyzedQuery, string[]>();

/** Every spelling of the question's concepts and their parts (what coverage can match). */
function queryTokens(q: AnalyzedQuery): string[] {
  let t = tokenCache.get(q);
  if (!t) {
    t = [...new Set(q.concepts.flatMap((c) => c.alts.flatMap((a) => [a.token, ...a.parts])))].filter(Boolean);
    tokenCache.set(q, t);
  }
  return t;
}

/** Passages with the same text (a document loaded twice under two names, copies) keep their best. */
export function dedupe(passages: Passage[]): Passage[] {
  const seen = new Set<string>();
  return passages.filter((p) => {
    const key = p.chunk.text.replace(/[\s\p{P}]/gu, '');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

let extensions: Map<string, string[]> | null = null;

/**
 * True when every occurrence of `token` in `text` begins a longer domain term (村民代表 in
 * 村民代表会议, 村委会 in 村委会主任). Chinese compounds put the head last, so a longer
 * term starting with the word names something else; a term ending with it (选举委员会 in
 * 村民选举委员会) is the same thing made specific and is not affected.
 */
export function onlyAsLongerHead(token: string, text: string): boolean {
  if (!extensions) {
    const terms = [...new Set([...DOMAIN_TERMS, ...SYNONYM_GROUPS.flat()])];
    extensions = new Map();
    for (const t of terms)
      for (const longer of terms) if (longer.length > t.length && longer.startsWith(t)) extensions.set(t, [...(extensions.get(t) ?? []), longer]);
  }
  const longer = extensions.get(token);
  if (!longer || !text.includes(token)) return false;
  let rest = text;
  for (const l of longer.sort((x, y) => y.length - x.length)) rest = rest.split(l).join('|');
  return !rest.includes(token);
}

const FUNCTION_EDGE = /^[不没未非无可应须必将已再也都还就]$/;

/** How well a passage's tokens cover one concept: 1 for its own word, less for synonyms, parts, or the title only. */
export function conceptMatch(c: Concept, body: Set<string>, title: Set<string>, text = ''): number {
  if (c.answerType) return c.answerType.pattern.test(text) ? 1 : 0;
  if (c.char) return text.includes(c.char) ? 1 : 0;
  let best = 0;
  for (const a of c.alts) {
    let m = 0;
    if (body.has(a.token)) m = text && onlyAsLongerHead(a.token, text) ? 0.5 * a.credit : a.credit;
    else if (a.parts.length >= 2 && a.parts.every((p) => body.has(p))) m = 0.7 * a.credit;
    // A phrase the index splits (不超过 → 超过): its one long part stands for it when what
    // is left is a function character (投票站 is not 投票).
    else if (a.parts.length === 1 && a.parts[0]!.length === a.token.length - 1 && FUNCTION_EDGE.test(a.token.replace(a.parts[0]!, '')) && body.has(a.parts[0]!)) m = 0.7 * a.credit;
    else if (title.has(a.token)) m = 0.6 * a.credit;
    if (m > best) best = m;
  }
  return best;
}

export function coverageOf(concepts: Concept[], body: Set<string>, title: Set<string>, text = ''): { coverage: number; matched: string[] } {
  let total = 0;
  let got = 0;
  const matched: string[] = [];
  for (const c of concepts) {
    total += c.weight;
    const m = conceptMatch(c, body, title, text);
    if (m > 0) matched.push(c.word);
    got += c.weight * m;
  }
  return { coverage: total > 0 ? got / total : 0, matched };
}

/** A local rule is ranked down for a question naming no region unless it covers this much more than national law. */
const LOCAL_BETTER_BY = 0.05;
/** National law covering a question this well answers it (the decline threshold). */
const NATIONAL_ANSWERS = 0.44;

/**
 * Region preference (region.ts): the named region first, other provinces far down; with no
 * region named, national law first — unless the local rule clearly covers the question
 * better than any national passage (the law is silent where a province's rule is specific).
 */
export function applyRegion(asked: Region, passages: Passage[]): void {
  const nationals = passages.filter((p) => !p.region?.province);
  const national = Math.max(0, ...nationals.map((p) => p.coverage));
  // National law answers (covers as much as an answer needs): it is quoted first, the local
  // rule after it (and named in a note); only where national law is silent may a local rule lead.
  const nationalAnswers = national >= NATIONAL_ANSWERS;
  const nationalTop = Math.max(0, ...nationals.filter((p) => p.coverage >= NATIONAL_ANSWERS).map((p) => p.score));
  for (const p of passages) {
    if (!p.region || !hasRegion(p.region)) continue;
    p.ownRegion = sameRegion(asked, p.region);
    if (!hasRegion(asked) && p.region.province) {
      if (!nationalAnswers && p.coverage > national + LOCAL_BETTER_BY) continue;
      p.score *= regionFactor(asked, p.region);
      if (nationalAnswers && p.score >= nationalTop) p.score = nationalTop - 1e-3 * (1 - p.coverage);
      continue;
    }
    p.score *= regionFactor(asked, p.region);
  }
}

/**
 * The region a question names is handled by the region preference, not as a word to
 * cover: 浙江 in 浙江的选委会得几个人 is in no article's text (only in the title).
 */
export function withoutRegionWords(q: AnalyzedQuery, asked: Region): AnalyzedQuery {
  if (!hasRegion(asked)) return q;
  const names = asked.province ? [asked.province] : [asked.place!, placeStem(asked.place!)];
  const isRegion = (w: string) => names.some((n) => w === n || (w.startsWith(n) && /^(省|市|县|这边|那边|这里|的)$/.test(w.slice(n.length))));
  const concepts = q.concepts.filter((c) => c.answerType || !isRegion(c.word));
  if (concepts.length === q.concepts.length || concepts.every((c) => c.answerType)) return q;
  return { ...q, concepts };
}

export class Retriever {
  private vocab: Vocabulary | null = null;
  private readonly titleCache = new Map<string, Set<string>>();
  private docRegions: Map<number, Region> | null = null;
  private readonly chunkCache = new ChunkCache();

  constructor(
    private readonly repo: IndexRepo,
    private readonly vectors?: VectorSearch,
  ) {}

  /** Call after the index changed. */
  invalidate(): void {
    this.vocab = null;
    this.titleCache.clear();
    this.articleIds.clear();
    this.docRegions = null;
    this.chunkCache.clear();
    // Whatever state the library is in now is the one the caches will be filled from.
    this.seenState = null;
  }

  private seenState: string | null = null;

  /** Another process may have changed the library since the caches were filled: they are dropped then. */
  private checkLibrary(): void {
    const state = this.repo.libraryState();
    if (this.seenState !== null && state !== this.seenState) this.invalidate();
    this.seenState = state;
  }

  /** Each document's region, from the title and issuer stored (read once per index state). */
  private regions(): Map<number, Region> {
    this.docRegions ??= new Map(this.repo.listDocs().map((d) => [d.id, regionOfDocument(d.title, d.issuer)]));
    return this.docRegions;
  }

  private regionOf(docId: number): Region {
    return this.regions().get(docId) ?? NO_REGION;
  }

  vocabulary(): Vocabulary {
    this.vocab ??= new Vocabulary(this.repo);
    return this.vocab;
  }

  async retrieve(question: string, opts: { limit?: number; includeSuperseded?: boolean; whole?: boolean } = {}): Promise<Retrieval> {
    this.checkLibrary();
    const r = await this.retrieveOne(question, opts);
    if (opts.whole || !r.passages[0]) return r;
    // A question asking two things (多少人联名，多少天内投票): the last asking clause is
    // searched on its own; its best article answers it when the first does not.
    const clauses = askingClauses(r.query.text);
    if (clauses.length < 2) return r;
    const withRegion = (c: string) => (r.region && hasRegion(r.region) && !c.includes(regionName(r.region)) ? `${regionName(r.region)}${c}` : c);
    const sub = await this.retrieveOne(withRegion(clauses[clauses.length - 1]!), { ...opts, limit: 3 });
    const top = r.passages[0];
    const p = sub.passages[0];
    const same = (a: Passage, b: Passage) => a.chunk.doc_id === b.chunk.doc_id && a.chunk.locator === b.chunk.locator;
    if (!p || p.coverage < SECOND_CLAUSE_COVERAGE) return r;
    if (!same(p, top)) {
      // The sub-answer's article must state what the clause asks better than the first does.
      const own = sub.passages.find((x) => x.chunk.id === top.chunk.id);
      if (!own || own.coverage < p.coverage) return { ...r, second: { passage: p, query: sub.query } };
      return r;
    }
    // The whole question's best article is the last clause's: the first clause may have its own.
    const head = await this.retrieveOne(withRegion(clauses[0]!), { ...opts, limit: 3 });
    const h = head.passages[0];
    if (!h || h.coverage < SECOND_CLAUSE_COVERAGE || same(h, top)) return r;
    // Scored against the whole question, so the decline decision reads one scale.
    const whole = r.passages.find((x) => x.chunk.id === h.chunk.id) ?? this.score(r.query, h.chunk, 0, { ranks: {}, channelScores: {}, superseded: h.superseded }, 0);
    const rest = r.passages.filter((x) => !same(x, h));
    return { ...r, passages: [{ ...whole, score: Math.max(whole.score, top.score) }, ...rest], second: { passage: top, query: sub.query } };
  }

  private async retrieveOne(question: string, opts: { limit?: number; includeSuperseded?: boolean } = {}): Promise<Retrieval> {
    const limit = opts.limit ?? 8;
    const analyzed = analyzeQuestion(question, this.vocabulary());
    const known = [...this.regions().values()];
    const names = (f: (r: Region) => string | null) => [...new Set(known.map(f).filter((x): x is string => !!x))];
    const asked = regionOfQuestion(analyzed.text, names((r) => r.place), names((r) => r.province));
    const query = withoutRegionWords(analyzed, asked);
    if (query.concepts.length === 0 && query.grams.length === 0) return { query, passages: [], region: asked };

    // Disjunctive BM25 finds passages strong on any word; the conjunctive query makes sure
    // passages holding all (or all but the least informative) concepts are candidates too.
    // Passages holding every concept come first (coordination level), then the rest by BM25.
    const disjunctive = this.repo.searchWords(query.wordTokens, WORD_LIMIT);
    // The four most informative concepts bound the conjunctive query's cost.
    const vocab = this.vocabulary();
    const byWeight = query.concepts.filter((c) => !c.answerType && !c.char).sort((a, b) => b.weight - a.weight).slice(0, 4);
    let conjunctive: { id: number; score: number }[] = [];
    for (let keep = byWeight.length; keep >= Math.max(2, byWeight.length - 1) && conjunctive.length === 0; keep--) {
      const groups = byWeight
        .slice(0, keep)
        .map((c) => [...new Set(c.alts.flatMap((a) => (vocab.df(a.token) > 0 ? [a.token] : a.parts)))].filter((t) => vocab.df(t) > 0));
      if (groups.some((g) => g.length === 0)) break;
      conjunctive = this.repo.searchAll(groups, CONJUNCTIVE_LIMIT);
    }
    // A relation asked for (谁领导谁): passages holding a heavy concept together with a
    // relation verb are candidates even when the body is named only in its most common
    // spelling (村民委员会 in every article, left out of the OR query).
    if (query.answerType === '关系') {
      const verbs = RELATION_TERMS.filter((t) => vocab.df(t) > 0);
      for (const c of byWeight.slice(0, 2)) {
        const g = [...new Set(c.alts.flatMap((a) => (vocab.df(a.token) > 0 ? [a.token] : a.parts)))].filter((t) => vocab.df(t) > 0);
        if (g.length && verbs.length) conjunctive.push(...this.repo.searchAll([g, verbs], CONJUNCTIVE_LIMIT / 2).filter((h) => !conjunctive.some((x) => x.id === h.id)));
      }
    }
    const first = new Set(conjunctive.map((h) => h.id));
    const word = [...conjunctive, ...disjunctive.filter((h) => !first.has(h.id))];
    // The bigram channel is the fallback for what words miss (typos, odd segmentation):
    // it runs when a concept has no spelling the index knows, or words found little.
    const unknownWords = query.concepts.filter((c) => !c.answerType && !c.char && c.alts.every((a) => altDf(a, vocab) === 0)).map((c) => c.word);
    // When the conjunctive query already found passages holding the known concepts, the
    // word channel is confident and the bigram channel is skipped. When it runs for words
    // the index does not know, it searches their bigrams only (the gap words left), which
    // also keeps its cost down; when words found little, the question's first bigrams.
    let gram: { id: number; score: number }[] = [];
    if (word.length < 10) gram = this.repo.searchGrams(query.grams.slice(0, MAX_GRAMS), GRAM_LIMIT);
    else if (unknownWords.length && conjunctive.length < CONFIDENT_HITS) gram = this.repo.searchGrams(charBigrams(unknownWords.join(' ')).slice(0, MAX_GRAMS), GRAM_LIMIT);
    let vector: { id: number; score: number }[] = [];
    if (this.vectors && query.text) vector = await this.vectors.search(query.text, VECTOR_LIMIT).catch(() => []);

    const channels: Record<Channel, { id: number; score: number }[]> = { word, gram, vector };
    const fused = reciprocalRankFusion({ word: word.map((h) => h.id), gram: gram.map((h) => h.id), vector: vector.map((h) => h.id) });
    const chunks = this.chunkCache.get(this.repo, [...fused.keys()]);
    const maxFused = Math.max(...fused.values(), 1e-9);
    const fusedOf = (p: Passage) => (fused.get(p.chunk.id) ?? 0) / maxFused;
    const rankIn = new Map<Channel, Map<number, number>>();
    for (const ch of ['word', 'gram', 'vector'] as Channel[]) rankIn.set(ch, new Map(channels[ch].map((h, i) => [h.id, i])));

    const scored: Passage[] = [];
    for (const [id, f] of fused) {
      const chunk = chunks.get(id);
      if (!chunk) continue;
      const superseded = chunk.doc_superseded === 1;
      if (superseded && !opts.includeSuperseded) continue;
      const ranks: Passage['ranks'] = {};
      const channelScores: Passage['channelScores'] = {};
      for (const ch of ['word', 'gram', 'vector'] as Channel[]) {
        const i = rankIn.get(ch)!.get(id);
        if (i !== undefined) {
          ranks[ch] = i + 1;
          channelScores[ch] = channels[ch][i]!.score;
        }
      }
      scored.push(this.score(query, chunk, f / maxFused, { ranks, channelScores, superseded }, Infinity));
    }
    // The sentence measure only reorders passages close to the best coverage: computed for those.
    const bestCoverage = Math.max(0, ...scored.map((p) => p.coverage));
    for (let i = 0; i < scored.length; i++) {
      const p = scored[i]!;
      if (p.coverage > 0 && p.coverage >= bestCoverage * SENTENCE_FROM) scored[i] = this.score(query, p.chunk, fusedOf(p), p, 0);
    }
    applyRegion(asked, scored);
    scored.sort((a, b) => b.score - a.score || a.chunk.id - b.chunk.id);
    const passages = this.keepOwnRegion(asked, this.promoteCitedArticles(query, dedupe(scored.slice(0, Math.max(limit * 3, 24)))));
    return { query, passages: passages.slice(0, limit), region: asked };
  }

  /** A question naming a region that has a matching passage drops other provinces' rules. */
  private keepOwnRegion(asked: Region, passages: Passage[]): Passage[] {
    if (!asked.province) return passages;
    const best = Math.max(0, ...passages.map((p) => p.coverage));
    const own = passages.some((p) => p.region && sameRegion(asked, p.region) && p.coverage >= best * OWN_REGION_ENOUGH);
    if (!own) return passages;
    return passages.filter((p) => !p.region?.province || p.region.province === asked.province);
  }

  /**
   * Final score of one passage: coverage of the question, coverage by its best single
   * sentence (the question's words close together: 村民代表的任期 beats 村民代表会议 … 任期),
   * fused channel rank. Guides are scaled down so the primary text they restate comes first.
   */
  private score(query: AnalyzedQuery, chunk: ChunkRow, fusedShare: number, extra: Pick<Passage, 'ranks' | 'channelScores' | 'superseded'>, minCoverage = 0): Passage {
    // Only the question's spellings can match: test those against the passage's tokens.
    const tokens = this.chunkCache.tokens(chunk);
    const body = new Set(queryTokens(query).filter((t) => tokens.has(t)));
    const { coverage, matched } = coverageOf(query.concepts, body, this.titleTokens(chunk.doc_title_tokens), chunk.text);
    const sentence = coverage >= minCoverage ? sentenceCoverage(query.concepts, chunk.text, body) : 0;
    const base = COVERAGE_WEIGHT * coverage + SENTENCE_WEIGHT * sentence + (1 - COVERAGE_WEIGHT - SENTENCE_WEIGHT) * fusedShare;
    const score = chunk.doc_authority === 'guide' ? base * GUIDE_FACTOR : base;
    return { chunk, score, coverage, matched, ...extra, sentence, region: this.regionOf(chunk.doc_id) };
  }

  /**
   * A guide restates articles and names them (依据：《村民委员会组织法》第十五条). When a guide
   * passage ranks, the articles it cites are placed right above it (fetched if retrieval
   * missed them): the law is what an answer quotes; the guide may be quoted after it.
   */
  private promoteCitedArticles(query: AnalyzedQuery, passages: Passage[]): Passage[] {
    const out = [...passages];
    for (const g of passages.slice(0, PROMOTE_FROM_TOP)) {
      if (g.chunk.doc_authority !== 'guide') continue;
      const cited: Passage[] = [];
      for (const ref of citedArticles(g.chunk.text)) {
        const id = this.articleId(ref.law, ref.article);
        if (id === null || id === g.chunk.id) continue;
        let p = out.find((x) => x.chunk.id === id);
        if (!p) {
          const chunk = this.chunkCache.get(this.repo, [id]).get(id);
          if (!chunk) continue;
          p = this.score(query, chunk, 0, { ranks: {}, channelScores: {}, superseded: false });
          out.push(p);
        }
        cited.push(p);
      }
      // Among several cited articles, the one covering the question better goes first.
      const guideBase = g.score / GUIDE_FACTOR;
      // An article that does not state the kind of fact asked (多少天 → a number of days) is
      // not what the guide's answer rests on for this question: left where it ranks.
      const gated = questionKinds(query.text).filter((k) => k !== 'may');
      for (const p of cited)
        if (p.score < guideBase && p.coverage >= g.coverage * CITED_MIN_COVERAGE && kindFit(gated, p.chunk.text) === 1) p.score = guideBase + 1e-3 * p.coverage;
    }
    out.sort((a, b) => b.score - a.score || a.chunk.id - b.chunk.id);
    return out;
  }

  private readonly articleIds = new Map<string, number | null>();

  private articleId(law: string, article: string): number | null {
    const key = `${law}\u0000${article}`;
    if (!this.articleIds.has(key)) this.articleIds.set(key, this.repo.articleId(law, article));
    return this.articleIds.get(key)!;
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
