/**
 * Sentences of a passage for an answer. A sentence ends at 。！？ or a line break — not
 * at ；, which joins the clauses of one rule (“…应当退出；…不得…”): quoting one clause
 * alone would cut the rule mid-sentence.
 */
const ARTICLE_HEAD = /^第[一二三四五六七八九十百零〇两\d]+条\s*/;

export function sentencesOf(text: string): string[] {
  return text
    .replace(ARTICLE_HEAD, '')
    .split(/(?<=[。！？!?\n])/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/[\p{P}\s]/gu, '').length >= 4);
}

/**
 * A sentence longer than `max` shortened to whole clauses (split at ； then ，): the clause
 * scoring highest by `score` and its neighbours while they fit, in document order, with
 * “……” where clauses were left out. A clause is never cut.
 */
export function completeSentences(sentence: string, max: number, score: (clause: string) => number): string {
  if (sentence.length <= max) return sentence;
  let clauses = sentence.split(/(?<=[；;])/);
  if (clauses.length === 1) clauses = sentence.split(/(?<=[，,：:])/);
  if (clauses.length === 1) return sentence;
  const scores = clauses.map(score);
  let best = 0;
  for (let i = 1; i < clauses.length; i++) if (scores[i]! > scores[best]!) best = i;
  const keep = new Set([best]);
  let len = clauses[best]!.length;
  // Grow around the best clause, the better-scoring neighbour first, while it fits.
  for (let lo = best - 1, hi = best + 1; lo >= 0 || hi < clauses.length; ) {
    const takeLo = lo >= 0 && (hi >= clauses.length || scores[lo]! >= scores[hi]!);
    const i = takeLo ? lo : hi;
    if (len + clauses[i]!.length > max) break;
    keep.add(i);
    len += clauses[i]!.length;
    if (takeLo) lo--;
    else hi++;
  }
  const idx = [...keep].sort((a, b) => a - b);
  let out = idx.map((i) => clauses[i]!).join('');
  if (idx[0]! > 0) out = '……' + out;
  if (idx[idx.length - 1]! < clauses.length - 1) out = out.replace(/[；;，,：:]$/, '') + '……';
  return out;
}
