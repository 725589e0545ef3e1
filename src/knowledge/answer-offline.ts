import type { Concept } from './query.js';
import type { Passage, Retrieval } from './retrieve.js';
import { coverageOf } from './retrieve.js';
import { citationOf, displayLocator, type Citation } from './citation.js';
import { QUOTE_RELATIVE_SCORE } from './abstain.js';
import { indexTokens } from './tokenize.js';
import { completeSentences, sentencesOf } from './sentences.js';
import { askedUnit, decidingPhrase, kindFit, kindsInOrder, type QuestionKind } from './question-type.js';
import { hasRegion, regionName, type Region } from './region.js';

/** Most passages quoted under an answer. */
export const MAX_QUOTES = 3;
const MAX_ANSWER_SENTENCE = 220;
/** A second article is added when it holds at least this share of the question's weight the first lacks. */
const SECOND_ARTICLE_GAIN = 0.2;
/** …and covers at least this share of what the best passage covers. */
const SECOND_ARTICLE_COVERAGE = 0.6;

export interface DraftAnswer {
  answer: string;
  citations: Citation[];
  passages: Passage[];
}

/** The passages worth quoting: the best one and those scoring close to it, distinct chunks. */
export function selectQuotes(passages: Passage[], max = MAX_QUOTES): Passage[] {
  const top = passages[0];
  if (!top) return [];
  return passages.filter((p, i) => i === 0 || p.score >= top.score * QUOTE_RELATIVE_SCORE).slice(0, max);
}

const EMPTY = new Set<string>();

function scoreSentences(text: string, concepts: Concept[]) {
  return sentencesOf(text).map((s, i) => {
    const toks = new Set(indexTokens(s));
    return { i, s, toks, cov: coverageOf(concepts, toks, EMPTY, s) };
  });
}

/**
 * One or two whole sentences from the best passage: the sentence covering most of the
 * question, plus the one that adds most of what the first lacks (kept in document order).
 * A sentence longer than the limit keeps its clauses covering the question, whole.
 */
export function pickSentences(text: string, concepts: Concept[], kinds: QuestionKind[] = [], unit: string | null = null): string[] {
  const scored = scoreSentences(text, concepts);
  if (scored.length <= 1) return scored.map((x) => fit(x.s, concepts));
  const chosen = pickTwo(scored, concepts);
  // A kind asked (多少户, 提前几天) that no chosen sentence states: add the best sentence stating it.
  for (const k of kinds) {
    if (k === 'may' || chosen.some((x) => decidingPhrase(k, x.s, unit))) continue;
    const add = scored.filter((x) => !chosen.includes(x) && decidingPhrase(k, x.s, unit)).sort((a, b) => b.cov.coverage - a.cov.coverage || a.i - b.i)[0];
    if (add && chosen.length < 3) chosen.push(add);
  }
  return chosen.sort((a, b) => a.i - b.i).map((x) => fit(x.s, concepts));
}

type Scored = ReturnType<typeof scoreSentences>[number];

function pickTwo(scored: Scored[], concepts: Concept[]): Scored[] {
  const first = [...scored].sort((a, b) => b.cov.coverage - a.cov.coverage || a.i - b.i)[0]!;
  const missing = concepts.filter((c) => !first.cov.matched.includes(c.word));
  let second: Scored | undefined;
  if (missing.length) {
    second = scored
      .filter((x) => x.i !== first.i)
      .map((x) => ({ x, gain: coverageOf(missing, x.toks, EMPTY, x.s).coverage }))
      .filter((y) => y.gain > 0)
      .sort((a, b) => b.gain - a.gain || a.x.i - b.x.i)[0]?.x;
  }
  return [first, second].filter((x): x is NonNullable<typeof x> => !!x);
}

/** A long sentence shortened to its clauses that cover the question (never cut mid-clause). */
function fit(s: string, concepts: Concept[]): string {
  if (s.length <= MAX_ANSWER_SENTENCE) return s;
  return completeSentences(s, MAX_ANSWER_SENTENCE, (clause) => coverageOf(concepts, new Set(indexTokens(clause)), EMPTY, clause).coverage);
}

/** The deciding number/date/actor of the answer, for the kinds the question asks (not 能不能). */
export function decidingFacts(kinds: QuestionKind[], sentences: string[], unit: string | null = null): string[] {
  const out: string[] = [];
  for (const k of kinds) {
    if (k === 'may') continue;
    for (const s of sentences) {
      const f = decidingPhrase(k, s, unit);
      if (f && !out.includes(f)) {
        out.push(f);
        break;
      }
    }
  }
  return out;
}

function citeLine(p: Passage, sentences: string[]): string {
  const c = p.chunk;
  const body = sentences.join('');
  const lead = c.lead && !body.startsWith(c.lead) ? c.lead : '';
  return `依据《${c.doc_title}》${displayLocator(c)}：${lead}${body}`;
}

/**
 * A second article when the question spans two (多少人联名，多少天内投票): the quoted passage
 * of another article that holds most of the question's weight the best one lacks.
 */
function secondArticle(best: Passage, quotes: Passage[], concepts: Concept[], kinds: QuestionKind[]): Passage | undefined {
  const missing = concepts.filter((c) => !best.matched.includes(c.word));
  if (!missing.length) return undefined;
  const total = concepts.reduce((s, c) => s + c.weight, 0) || 1;
  let pick: { p: Passage; gain: number } | undefined;
  for (const p of quotes.slice(1)) {
    if (p.chunk.doc_id === best.chunk.doc_id && p.chunk.locator === best.chunk.locator) continue;
    if (p.chunk.doc_authority === 'guide' && best.chunk.doc_authority !== 'guide') continue;
    // Another rule on the question's subject: an article or item, or the same document, that
    // covers the question comparably and states a fact of the kind asked.
    if (p.chunk.doc_id !== best.chunk.doc_id && !/^第.+[条项]/.test(p.chunk.locator)) continue;
    if (p.coverage < best.coverage * SECOND_ARTICLE_COVERAGE || kindFit(kinds.filter((k) => k !== 'may'), p.chunk.text) === 0) continue;
    const gain = missing.filter((c) => p.matched.includes(c.word)).reduce((s, c) => s + c.weight, 0) / total;
    if (gain >= SECOND_ARTICLE_GAIN && (!pick || gain > pick.gain)) pick = { p, gain };
  }
  return pick?.p;
}

/** One short line on where the rule applies (region.ts): local rules may differ. */
export function regionNote(asked: Region | undefined, best: Passage, passages: Passage[]): string {
  const bestRegion = best.region;
  if (asked && hasRegion(asked) && !(bestRegion && hasRegion(bestRegion))) {
    const own = passages.some((p) => p.ownRegion);
    if (!own && asked.province) return `（资料库中没有${regionName(asked)}的地方规定，以上是全国性规定；${regionName(asked)}的具体做法以当地规定为准。）`;
    return '';
  }
  if (asked && hasRegion(asked)) return '';
  if (bestRegion?.province) return `（以上是${bestRegion.province}的地方规定，其他地方以当地规定为准。）`;
  const local = passages.slice(0, 6).find((p) => p.region?.province && p.coverage >= best.coverage * 0.8);
  return local ? `（各地另有具体规定，如《${local.chunk.doc_title}》，以当地规定为准。）` : '';
}

export function composeOfflineAnswer(r: Retrieval): DraftAnswer {
  const quotes = selectQuotes(r.passages);
  const best = quotes[0];
  if (!best) return { answer: '', citations: [], passages: [] };
  const concepts = r.query.concepts;
  const unit = askedUnit(r.query.text);
  const sentences = pickSentences(best.chunk.text, concepts, kindsInOrder(r.query.text), unit);
  const parts = [citeLine(best, sentences)];
  const used = [best];
  const kinds = kindsInOrder(r.query.text);
  const other = r.second?.passage ?? secondArticle(best, quotes, concepts, kinds);
  if (other) {
    const missing = concepts.filter((c) => !best.matched.includes(c.word));
    const ask = r.second?.query.concepts ?? (missing.length ? missing : concepts);
    const more = pickSentences(other.chunk.text, ask, kindsInOrder(r.second?.query.text ?? r.query.text), unit).slice(0, 2);
    parts.push('另' + citeLine(other, more));
    used.push(other);
    sentences.push(...more);
  }
  const facts = decidingFacts(kinds, sentences, unit);
  const head = facts.length ? `${facts.join('；')}。` : '';
  const note = regionNote(r.region, best, r.passages);
  const answer = head + parts.join('\n') + (note ? `\n${note}` : '');
  // The article answered from is cited first; the second article next.
  const ordered = [...used, ...quotes.filter((q) => !used.includes(q))].slice(0, MAX_QUOTES);
  return { answer, citations: ordered.map((p) => citationOf(p.chunk)), passages: ordered };
}

export const ABSTAIN_ANSWER =
  '已收录的政策文件中没有找到能回答这个问题的依据，为避免误导，这里不作回答。建议换个说法再问（例如写明是村委会选举还是党组织换届、具体哪个环节），或咨询乡镇（街道）换届办。这个问题已记录，管理员会据此补充资料。';
