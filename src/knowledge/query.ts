import { normalizeQuestion } from './normalize.js';
import { PHRASE_REWRITES, QUESTION_STOPWORDS, synonymsOf } from './synonyms.js';
import { charBigrams, cutWords, dictionaryPieces, isDictionaryWord, searchParts, tokenForms } from './tokenize.js';

/** Longest question text analysed; longer input is cut (a chat message is not a document). */
export const MAX_QUERY_CHARS = 200;

/** One alternative spelling of a concept and how much a match on it counts. */
export interface Alt {
  token: string;
  /** Search-mode parts of the token, for partial matches (村委会 → 村委, 委会). */
  parts: string[];
  credit: number;
  via: 'word' | 'synonym' | 'typo';
}

/** A content word of the question with its alternatives and weight (IDF). */
export interface Concept {
  word: string;
  alts: Alt[];
  weight: number;
}

export interface AnalyzedQuery {
  /** The question as searched: normalised and capped. */
  text: string;
  concepts: Concept[];
  /** Every token the word channel searches for. */
  wordTokens: string[];
  grams: string[];
}

/** What query analysis needs from the index: document frequencies and a co-occurrence count. */
export interface VocabularyView {
  size: number;
  df(term: string): number;
  /** Indexed words of the same length as `word` that differ from it in exactly one character. */
  oneCharAway(word: string): string[];
  cooccurrence(term: string, others: string[]): number;
}

export function idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

function altOf(token: string, credit: number, via: Alt['via']): Alt[] {
  return tokenForms(token).map((t) => ({ token: t, parts: searchParts(token).filter((p) => p !== t), credit, via }));
}

/** Numeral + classifier (四种, 五类, 几个) and bare question words: scaffolding, not content. */
const SCAFFOLD = /^(?:[一二三四五六七八九十几两多]+(?:种|类|个|项|条|方面|件|点)|几\p{Script=Han}?|多少\p{Script=Han}?|哪\p{Script=Han}{0,2})$/u;

/** A word holding one of these is more likely a fusion of function words (能先, 人能) than a typo. */
const FUNCTION_CHARS = /[能会要先就都还也又在了的把被给让对从到向才再吗呢吧啊不没人我你他她这那哪几多啥么咋是有]/;

const NUMBER_WORD = /^([一二三四五六七八九十百千两\d]+)(年|日|天|人|名|个|户|岁|周岁|次|月|届)?$/;

/** Document frequency of an alternative: the word itself, or, when the index splits it, its rarest part. */
export function altDf(a: Alt, vocab: VocabularyView): number {
  const d = vocab.df(a.token);
  if (d > 0 || a.parts.length === 0) return d;
  const parts = a.parts.map((p) => vocab.df(p));
  return parts.every((x) => x > 0) ? Math.min(...parts) : 0;
}

/** A same-length indexed word one character away from `word` that co-occurs with the question's other words. */
function typoCorrection(word: string, concepts: Concept[], rest: string[], vocab: VocabularyView): string | undefined {
  const ctx = [...concepts.flatMap((c) => c.alts.map((a) => a.token)), ...rest].filter((t) => vocab.df(t) > 0);
  const best = vocab
    .oneCharAway(word)
    .map((t) => ({ t, co: vocab.cooccurrence(t, ctx), df: vocab.df(t) }))
    .filter((x) => x.co > 0)
    // Share of the candidate's passages that share the question's context: a common word
    // (明确) co-occurs often but in a small share; the intended one (名单) mostly in context.
    .sort((a, b) => b.co / b.df - a.co / a.df || b.co - a.co)[0];
  return best?.t;
}

export function analyzeQuestion(raw: string, vocab: VocabularyView): AnalyzedQuery {
  const text = normalizeQuestion(raw, MAX_QUERY_CHARS);
  let rewritten = text;
  for (const [re, rep] of PHRASE_REWRITES) rewritten = rewritten.replace(re, rep);

  const seen = new Set<string>();
  const concepts: Concept[] = [];
  const n = Math.max(vocab.size, 1);
  const maxIdf = idf(0, n);
  const queue = cutWords(rewritten).map((w) => ({ word: w.toLowerCase(), split: false }));
  while (queue.length) {
    const { word, split } = queue.shift()!;
    if (seen.has(word) || QUESTION_STOPWORDS.has(word) || SCAFFOLD.test(word)) continue;
    if (!/[\p{L}\p{N}]/u.test(word)) continue;
    seen.add(word);
    const syns = synonymsOf(word);
    const single = /^\p{Script=Han}$/u.test(word);
    // A single character is not indexed; it only counts through a synonym (住 → 居住).
    if (single && syns.length === 0) continue;
    const alts: Alt[] = single ? [] : altOf(word, 1, 'word');
    for (const s of syns) if (!/^\p{Script=Han}$/u.test(s)) alts.push(...altOf(s, 0.8, 'synonym'));
    if (alts.length === 0) continue;
    const han = /^\p{Script=Han}{2,6}$/u.test(word);
    if (han && syns.length === 0 && vocab.df(word) === 0 && !isDictionaryWord(word)) {
      // A word the segmenter's HMM invented and the index never saw: a typo (明单, 罢勉)
      // or a fusion of function words (人能). Try a one-character correction first.
      const fix = !split && !FUNCTION_CHARS.test(word) ? typoCorrection(word, concepts, queue.map((q) => q.word), vocab) : undefined;
      if (fix) {
        alts.push(...altOf(fix, 0.8, 'typo'));
      } else if (!split) {
        const pieces = dictionaryPieces(word);
        if (pieces.length > 1) {
          seen.delete(word);
          queue.unshift(...pieces.map((p) => ({ word: p.toLowerCase(), split: true })));
          continue;
        }
      }
    }
    concepts.push({ word, alts, weight: 0 });
  }

  // Weights: the IDF of the user's own word, or of the spelling the index knows; a
  // word the index has never seen counts as rare (it may be what the library lacks).
  for (const c of concepts) {
    const dfs = c.alts.map((a) => altDf(a, vocab)).filter((d) => d > 0);
    const directDf = c.alts[0] ? altDf(c.alts[0], vocab) : 0;
    const df = directDf > 0 ? directDf : dfs.length ? Math.max(...dfs) : 0;
    c.weight = df > 0 ? idf(df, n) : maxIdf;
    // A quantity the user states (住了两年) is their situation, not a term the library must contain.
    if (df === 0 && NUMBER_WORD.test(c.word)) c.weight *= 0.3;
  }

  // Search tokens: each spelling the index knows (or, when it splits a phrase, its parts).
  // Words in a fifth or more of all passages are left to the re-ranking: in an OR query
  // they only make the engine score most of the index.
  const wordTokens = new Set<string>();
  const common = Math.max(50, n * 0.2);
  for (const c of concepts)
    for (const a of c.alts) {
      const toks = vocab.df(a.token) > 0 ? [a.token] : a.parts;
      for (const t of toks) if (vocab.df(t) > 0 && vocab.df(t) <= common) wordTokens.add(t);
    }
  return { text, concepts, wordTokens: [...wordTokens].slice(0, 120), grams: [...new Set(charBigrams(text))].slice(0, 40) };
}
