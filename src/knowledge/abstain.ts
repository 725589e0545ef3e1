import type { Concept } from './query.js';
import type { Passage } from './retrieve.js';
import { kindFit, questionKinds, type QuestionKind } from './question-type.js';

/**
 * When to say "the library does not cover this". One small rule list over four signals
 * of the best passages (docs/knowledge.md, "Declining"):
 *
 * - coverage: the IDF-weighted share of the question's concepts a passage holds (best of top 3);
 * - sentence: the same share held by the best passage's best single sentence;
 * - margin: rank 1's score over the best passage of another article;
 * - kind: whether the top passages state the kind of fact asked (a number of people for
 *   几个人, a duration or date for 几天/什么时候, an actor for 由谁, a rule for 能不能).
 *
 * 1. coverage ≥ ABSTAIN_COVERAGE answers — unless the question asks kinds of fact none of
 *    the top passages states, or only one of ≥ 3 content words matched (one shared keyword);
 * 2. below it, down to RESCUE_COVERAGE, a clear winner still answers: rank 1 stands out
 *    (margin ≥ RESCUE_MARGIN), its matched words sit in one sentence (sentence ≥
 *    RESCUE_SENTENCE × coverage), it states the kind asked, and it matched ≥ 2 content words;
 * 3. anything else declines.
 *
 * Calibrated on ../shared/eval/dev-questions.jsonl (and the unseen DEV split, see
 * docs/knowledge.md); checked on the held-out sets.
 */
export const ABSTAIN_COVERAGE = 0.44;
/** Lowest coverage at which a clear winner (rule 2) is still answered. */
export const RESCUE_COVERAGE = 0.3;
export const RESCUE_MARGIN = 0.08;
export const RESCUE_SENTENCE = 0.9;
/**
 * A question naming a region whose own document ranks first needs less coverage: the
 * region already narrowed the library to one rule (浙江的村，正式候选人退出了咋补 → 浙江's
 * article on 补足, phrased in words the rule does not use).
 */
export const REGION_COVERAGE = 0.33;

/** Passages quoted besides the best one must reach this share of its score. */
export const QUOTE_RELATIVE_SCORE = 0.6;

export interface AbstainSignals {
  coverage: number;
  sentence: number;
  margin: number;
  /** Share of the asked kinds the best-fitting top passage states (1 when none asked). */
  kindFit: number;
  kinds: QuestionKind[];
  /** The kinds a passage must state (count, time, who) and the best top-3 share of them. */
  gated: QuestionKind[];
  gatedFit: number;
  /** Content concepts of the question, and how many the best passage matched. */
  content: number;
  matched: number;
}

export interface AbstainDecision {
  abstain: boolean;
  reason: 'no_question' | 'no_match' | 'weak_evidence' | 'no_such_fact' | 'wrong_kind' | 'one_keyword' | null;
  topCoverage: number;
  signals?: AbstainSignals;
}

/**
 * Answer types specific enough that a passage answering them must state one: an amount of
 * money (多少钱), a calendar date (几月几号). When no passage quoted states one, the library
 * talks about the topic (补贴, 选举日) without the fact asked for, and the bot declines.
 */
export const STRICT_ANSWER_TYPES = new Set(['金额', '日期']);

/** Kinds whose answer a passage must state in so many words (a number, a duration, an actor, a sum). */
const GATED_KINDS = new Set<QuestionKind>(['count', 'time', 'who', 'money']);

function sameArticle(a: Passage, b: Passage): boolean {
  return a.chunk?.doc_id === b.chunk?.doc_id && a.chunk?.locator === b.chunk?.locator;
}

export function abstainSignals(passages: Passage[], concepts: Concept[], text: string): AbstainSignals {
  const top3 = passages.slice(0, 3);
  const coverage = Math.max(0, ...top3.map((p) => p.coverage));
  const best = top3.find((p) => p.coverage === coverage) ?? passages[0];
  const first = passages[0];
  const rival = first ? passages.slice(1).find((p) => !sameArticle(p, first)) : undefined;
  const margin = first ? first.score - (rival?.score ?? 0) : 0;
  const kinds = questionKinds(text);
  const fit = top3.length ? Math.max(...top3.map((p) => kindFit(kinds, p.chunk?.text ?? ''))) : 0;
  const gated = kinds.filter((k) => GATED_KINDS.has(k));
  const gatedFit = top3.length ? Math.max(...top3.map((p) => kindFit(gated, p.chunk?.text ?? ''))) : 0;
  const content = concepts.filter((c) => !c.answerType);
  const matched = best ? content.filter((c) => best.matched.includes(c.word)).length : 0;
  return { coverage, sentence: best?.sentence ?? coverage, margin, kindFit: fit, kinds, gated, gatedFit, content: content.length, matched };
}

/** 日期 asked as 哪天/最晚哪天 is answered by a day relative to another (选举日的三日前, 当日或者次日). */
const RELATIVE_DAY = /选举日|之日|当日|次日|日内|日前|日后|[一二三四五六七八九十\d]+日[前后内]/;

export function decideAbstention(
  conceptCount: number,
  passages: Passage[],
  threshold = ABSTAIN_COVERAGE,
  concepts: Concept[] = [],
  text = '',
): AbstainDecision {
  if (conceptCount === 0) return { abstain: true, reason: 'no_question', topCoverage: 0 };
  if (!passages[0]) return { abstain: true, reason: 'no_match', topCoverage: 0 };
  const s = abstainSignals(passages, concepts, text);
  const out = (reason: AbstainDecision['reason']): AbstainDecision => ({ abstain: reason !== null, reason, topCoverage: s.coverage, signals: s });
  const strict = concepts.find((c) => c.answerType && STRICT_ANSWER_TYPES.has(c.answerType.name));
  const relative = strict?.answerType?.name === '日期' && !/几月|几号|几日/.test(text);
  const stated = (p: Passage) => p.matched.includes(strict!.word) || (relative && RELATIVE_DAY.test(p.chunk?.text ?? ''));
  if (strict && !passages.slice(0, 3).some(stated)) return out(s.coverage < threshold ? 'weak_evidence' : 'no_such_fact');
  // A passage stating none of the kinds asked (几天 and no duration) does not answer. 能不能
  // is left out: a list of disqualifying cases answers it without 可以/不得.
  if (s.gated.length && s.gatedFit === 0) return out('wrong_kind');
  const bar = passages[0].ownRegion ? Math.min(threshold, REGION_COVERAGE) : threshold;
  if (s.coverage >= bar) return out(s.content >= 3 && s.matched <= 1 ? 'one_keyword' : null);
  const clearWinner = s.coverage >= RESCUE_COVERAGE && s.margin >= RESCUE_MARGIN && s.sentence >= RESCUE_SENTENCE * s.coverage && s.matched >= 2;
  return out(clearWinner ? null : 'weak_evidence');
}
