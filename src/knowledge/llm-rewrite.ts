import type { ChatModelLike, PromptMessage } from './answer-llm.js';
import { textOf } from './answer-llm.js';
import { normalizeNumbers } from './numerals.js';

/**
 * LLM mode, before retrieval: the model turns a colloquial question (俺们村的章子去哪刻)
 * into the terms the documents use (村民委员会 印章 刻制), within a short time; on any
 * failure or timeout the question is searched as the user wrote it. The terms only
 * feed the search — they are never shown, never logged as the question, never an
 * answer — so numbers are dropped from them (a guessed 三十日 must not steer retrieval
 * towards a passage that happens to state it).
 */
export const REWRITE_TIMEOUT_MS = 3_000;
/** Longest rewrite kept: search terms, not prose. */
export const MAX_REWRITE_CHARS = 40;

const SYSTEM = `你把村（社区）"两委"换届工作中的口语化问题改写成政策文件里的检索词。
规则：
1. 只输出检索词，用空格分隔，不超过8个词，不要回答问题，不要解释，不要写数字、日期或条款号。
2. 把口语、方言、俗称换成法规和文件中的正式说法（例如 村委会→村民委员会，章子→印章，不干了→辞职）。
3. 保留问题问的是什么（几天、谁、能不能、怎么办等），写成对应的词（期限、主体、是否可以、程序）。`;

export interface PreviousTurn {
  question: string;
  /** 《title》locator of the passages the previous answer cited. */
  cited: string[];
}

export function buildRewritePrompt(question: string, previous?: PreviousTurn): PromptMessage[] {
  const context = previous
    ? `【上一个问题】${previous.question}${previous.cited.length ? `\n【上一个回答依据】${previous.cited.join('；')}` : ''}\n（当前问题可能是接着上一个问题问的，改写时补全省略的部分。）\n`
    : '';
  return [
    ['system', SYSTEM],
    ['human', `${context}【问题】${question}`],
  ];
}

/** The model's reply as search terms: one line, no numbers, no markup, capped. Empty when unusable. */
export function cleanRewrite(reply: string): string {
  const line = reply
    .replace(/^[\s\S]*?(?:检索词|关键词)[:：]/, '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? '';
  const terms = normalizeNumbers(line)
    .replace(/第\d+条/g, ' ')
    .replace(/[\d%/.]+/g, ' ')
    .replace(/[《》“”"'`*#[\]()（）<>{}]/g, ' ')
    .replace(/[，,、;；。！？!?:：|]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return Array.from(terms).slice(0, MAX_REWRITE_CHARS).join('').trim();
}

export type RewriteOutcome = { kind: 'rewritten'; terms: string } | { kind: 'skipped'; reason: 'timeout' | 'error' | 'empty' };

export async function rewriteQuestion(
  model: ChatModelLike,
  question: string,
  opts: { timeoutMs?: number; previous?: PreviousTurn } = {},
): Promise<RewriteOutcome> {
  const timeoutMs = opts.timeoutMs ?? REWRITE_TIMEOUT_MS;
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const res = await Promise.race([
      model.invoke(buildRewritePrompt(question, opts.previous), { signal: ctrl.signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          ctrl.abort();
          reject(new Error(`rewrite timeout after ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    const terms = cleanRewrite(textOf(res.content));
    return terms ? { kind: 'rewritten', terms } : { kind: 'skipped', reason: 'empty' };
  } catch {
    return { kind: 'skipped', reason: timedOut ? 'timeout' : 'error' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
