import { z } from 'zod';
import { UserError } from '../errors.js';
import { readJsonLines } from './jsonl.js';
import type { Citation } from './citation.js';

/** The question-set format of ../shared/eval/dev-questions.jsonl. */
export const evalItemSchema = z.object({
  id: z.string(),
  question: z.string(),
  doc: z.string().nullable(),
  article: z.string().nullable().optional(),
  articles: z.array(z.string()).optional(),
  must_contain: z.array(z.string()).default([]),
  kind: z.enum(['fact', 'multi', 'none']),
});
export type EvalItem = z.infer<typeof evalItemSchema>;

export interface AnswerLike {
  answer: string;
  citations: Citation[];
  abstained: boolean;
}

/** What a reader sees: the answer, then each quoted passage with its document and locator. */
export function visibleText(a: AnswerLike): string {
  return [a.answer, ...a.citations.map((c) => `《${c.title}》${c.locator}\n${c.text}`)].join('\n');
}

/** Characters of visible text within which a fact must appear to count. */
export const VISIBLE_CHARS = 1500;

export interface ItemScore {
  id: string;
  kind: EvalItem['kind'];
  fact: boolean | null;
  citation: boolean | null;
  abstention: boolean;
  missing: string[];
}

export function citationNames(c: Citation, doc: string, article: string | null | undefined): boolean {
  if (c.doc !== doc) return false;
  if (!article) return true;
  return c.locator.includes(article) || c.text.includes(article);
}

/** Scores one answer as the eval README says. */
export function scoreItem(item: EvalItem, a: AnswerLike): ItemScore {
  if (item.kind === 'none') return { id: item.id, kind: item.kind, fact: null, citation: null, abstention: a.abstained, missing: [] };
  const seen = Array.from(visibleText(a)).slice(0, VISIBLE_CHARS).join('');
  const missing = a.abstained ? item.must_contain : item.must_contain.filter((m) => !seen.includes(m));
  const citation = !a.abstained && !!item.doc && a.citations.some((c) => citationNames(c, item.doc!, item.article));
  return { id: item.id, kind: item.kind, fact: missing.length === 0, citation, abstention: !a.abstained, missing };
}

export interface EvalSummary {
  total: number;
  factAccuracy: number;
  citationAccuracy: number;
  abstentionAccuracy: number;
  answerable: number;
  unanswerable: number;
  items: ItemScore[];
}

export function summarize(items: ItemScore[]): EvalSummary {
  const ans = items.filter((i) => i.kind !== 'none');
  const ratio = (n: number, d: number) => (d === 0 ? 1 : n / d);
  return {
    total: items.length,
    factAccuracy: ratio(ans.filter((i) => i.fact).length, ans.length),
    citationAccuracy: ratio(ans.filter((i) => i.citation).length, ans.length),
    abstentionAccuracy: ratio(items.filter((i) => i.abstention).length, items.length),
    answerable: ans.length,
    unanswerable: items.length - ans.length,
    items,
  };
}

/** Reads and validates a question file; any bad line refuses the whole file with its line number. */
export function readEvalFile(path: string): EvalItem[] {
  const items = readJsonLines(path, '评测文件', evalItemSchema, (issues) => `格式不对：${issues.map((x) => `${x.path.join('.')} ${x.message}`).join('；')}`, '评测题目文件');
  if (items.length === 0) throw new UserError(`评测文件「${path}」里没有题目。`);
  return items;
}
