import type { Passage } from './retrieve.js';

/**
 * When to say "the library does not cover this". The signal is the coverage of the
 * best passage: the IDF-weighted share of the question's content words (or their
 * synonyms) that the passage contains. A question about something the library never
 * mentions (工资, 选票颜色, 宽带) leaves its rarest words uncovered and falls below.
 *
 * Calibrated on ../shared/eval/dev-questions.jsonl (see docs/knowledge.md): the
 * threshold sits in the gap between the lowest-covered answerable question and the
 * highest-covered unanswerable one, nearer the answerable side.
 */
export const ABSTAIN_COVERAGE = 0.45;

/** Passages quoted besides the best one must reach this share of its score. */
export const QUOTE_RELATIVE_SCORE = 0.6;

export interface AbstainDecision {
  abstain: boolean;
  reason: 'no_question' | 'no_match' | 'weak_evidence' | null;
  topCoverage: number;
}

export function decideAbstention(conceptCount: number, passages: Passage[], threshold = ABSTAIN_COVERAGE): AbstainDecision {
  if (conceptCount === 0) return { abstain: true, reason: 'no_question', topCoverage: 0 };
  const top = passages[0];
  if (!top) return { abstain: true, reason: 'no_match', topCoverage: 0 };
  const best = Math.max(...passages.slice(0, 3).map((p) => p.coverage));
  if (best < threshold) return { abstain: true, reason: 'weak_evidence', topCoverage: best };
  return { abstain: false, reason: null, topCoverage: best };
}
