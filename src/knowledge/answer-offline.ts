import type { Concept } from './query.js';
import type { Passage, Retrieval } from './retrieve.js';
import { coverageOf } from './retrieve.js';
import { citationOf, displayLocator, type Citation } from './citation.js';
import { QUOTE_RELATIVE_SCORE } from './abstain.js';
import { indexTokens } from './tokenize.js';

/** Most passages quoted under an answer. */
export const MAX_QUOTES = 3;
const MAX_ANSWER_SENTENCE = 220;

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

function sentencesOf(text: string): string[] {
  return text
    .replace(/^第[一二三四五六七八九十百零〇两\d]+条\s*/, '')
    .split(/(?<=[。；！？\n])/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/[\p{P}\s]/gu, '').length >= 4);
}

/**
 * One or two sentences from the best passage: the sentence covering most of the
 * question, plus the one that adds most of what the first lacks (kept in document order).
 */
export function pickSentences(text: string, concepts: Concept[]): string[] {
  const sentences = sentencesOf(text);
  if (sentences.length <= 1) return sentences.map(clip);
  const empty = new Set<string>();
  const scored = sentences.map((s, i) => {
    const toks = new Set(indexTokens(s));
    return { i, s, toks, cov: coverageOf(concepts, toks, empty, s) };
  });
  const first = [...scored].sort((a, b) => b.cov.coverage - a.cov.coverage || a.i - b.i)[0]!;
  const missing = concepts.filter((c) => !first.cov.matched.includes(c.word));
  let second: (typeof scored)[number] | undefined;
  if (missing.length) {
    second = scored
      .filter((x) => x.i !== first.i)
      .map((x) => ({ x, gain: coverageOf(missing, x.toks, empty, x.s).coverage }))
      .filter((y) => y.gain > 0)
      .sort((a, b) => b.gain - a.gain || a.x.i - b.x.i)[0]?.x;
  }
  return [first, second]
    .filter((x): x is NonNullable<typeof x> => !!x)
    .sort((a, b) => a.i - b.i)
    .map((x) => clip(x.s));
}

function clip(s: string): string {
  return s.length > MAX_ANSWER_SENTENCE ? s.slice(0, MAX_ANSWER_SENTENCE - 1) + '…' : s;
}

export function composeOfflineAnswer(r: Retrieval): DraftAnswer {
  const quotes = selectQuotes(r.passages);
  const best = quotes[0];
  if (!best) return { answer: '', citations: [], passages: [] };
  const c = best.chunk;
  const sentences = pickSentences(c.text, r.query.concepts);
  const body = sentences.join('');
  const lead = c.lead && !body.startsWith(c.lead) ? c.lead : '';
  const answer = `依据《${c.doc_title}》${displayLocator(c)}：${lead}${body}`;
  return { answer, citations: quotes.map((p) => citationOf(p.chunk)), passages: quotes };
}

export const ABSTAIN_ANSWER =
  '已收录的政策文件中没有找到能回答这个问题的依据，为避免误导，这里不作回答。建议换个说法再问（例如写明是村委会选举还是党组织换届、具体哪个环节），或咨询乡镇（街道）换届办。这个问题已记录，管理员会据此补充资料。';
