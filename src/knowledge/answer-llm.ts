import type { ChatOpenAI } from '@langchain/openai';
import type { Passage } from './retrieve.js';
import { citationOf, displayLocator, type Citation } from './citation.js';

/**
 * Generated answers (LLM_BASE_URL): the model sees only the retrieved passages,
 * numbered, and must cite [n] after every sentence. The answer is then checked —
 * every marker must name a passage shown, every sentence must carry one, and every
 * number it states must appear in the passages it cites — or it is discarded.
 */
export const LLM_TIMEOUT_MS = 15_000;
export const NO_ANSWER_MARK = '无法回答';

/** A prompt message in LangChain's plain tuple form: no message classes to load up front. */
export type PromptMessage = ['system' | 'human', string];

export interface ChatModelLike {
  invoke(messages: PromptMessage[], options?: { signal?: AbortSignal }): Promise<{ content: unknown }>;
}

/**
 * The OpenAI-compatible chat model, loaded on the first question: LangChain
 * costs some 50 MB of memory, which a deployment without LLM_BASE_URL (and a
 * deployment with it, until someone asks) should not pay.
 */
export function createChatModel(cfg: { baseUrl: string; apiKey?: string; model: string }): ChatModelLike {
  let model: Promise<ChatOpenAI> | undefined;
  const load = () =>
    import('@langchain/openai').then(
      ({ ChatOpenAI }) =>
        new ChatOpenAI({
          model: cfg.model,
          apiKey: cfg.apiKey ?? 'not-needed',
          configuration: { baseURL: cfg.baseUrl },
          temperature: 0,
          maxRetries: 0,
          timeout: LLM_TIMEOUT_MS,
        }),
    );
  return {
    async invoke(messages, options) {
      return (await (model ??= load())).invoke(messages, options);
    },
  };
}

const SYSTEM = `你是村（社区）"两委"换届工作的政策问答助手，回答乡镇干部的问题。
规则：
1. 只能依据下面给出的【资料】回答，不得使用资料以外的知识，不得编造条款、数字或文件名。
2. 用简体中文，一到三句话，直接回答问题。
3. 每一句话末尾都必须用 [编号] 标注依据的资料，例如 [1] 或 [1][2]。
4. 如果资料不足以回答，只输出：${NO_ANSWER_MARK}`;

export function buildPrompt(question: string, passages: Passage[]): PromptMessage[] {
  const blocks = passages
    .map((p, i) => `[${i + 1}]《${p.chunk.doc_title}》${displayLocator(p.chunk)}${p.chunk.doc_version ? `（${p.chunk.doc_version}）` : ''}\n${p.chunk.text}`)
    .join('\n\n');
  return [
    ['system', SYSTEM],
    ['human', `【资料】\n${blocks}\n\n【问题】${question}`],
  ];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((c) => (typeof c === 'string' ? c : typeof c?.text === 'string' ? c.text : '')).join('');
  return '';
}

const NUMBER_FACT = /\d+(?:\.\d+)?%?|[一二三四五六七八九十百千两]+分之[一二三四五六七八九十]+|[一二三四五六七八九十百两]+(?:日|天|年|人|名|个|户|周岁)/g;

export type CheckResult = { ok: true; cited: number[] } | { ok: false; reason: string };

/** Verifies a generated answer against the passages it was given. */
export function checkCitations(answer: string, passages: Passage[]): CheckResult {
  const sentences = answer
    .split(/(?<=[。！？；])/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/\[\d+\]/g, '').replace(/[\s\p{P}]/gu, '').length > 0);
  if (sentences.length === 0) return { ok: false, reason: 'empty' };
  const cited = new Set<number>();
  for (const s of sentences) {
    const marks = [...s.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    if (marks.length === 0) return { ok: false, reason: `uncited sentence: ${s}` };
    for (const n of marks) if (n < 1 || n > passages.length) return { ok: false, reason: `unknown citation [${n}]` };
    const sources = marks.map((n) => passages[n - 1]!.chunk.text).join('\n');
    for (const fact of s.replace(/\[\d+\]/g, '').match(NUMBER_FACT) ?? []) {
      if (!sources.includes(fact)) return { ok: false, reason: `number not in cited passage: ${fact}` };
    }
    marks.forEach((n) => cited.add(n));
  }
  return { ok: true, cited: [...cited].sort((a, b) => a - b) };
}

export type LlmOutcome =
  | { kind: 'answer'; answer: string; citations: Citation[] }
  | { kind: 'declined' }
  | { kind: 'failed'; reason: string };

export async function answerWithModel(
  model: ChatModelLike,
  question: string,
  passages: Passage[],
  timeoutMs = LLM_TIMEOUT_MS,
): Promise<LlmOutcome> {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const res = await Promise.race([
      model.invoke(buildPrompt(question, passages), { signal: ctrl.signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ctrl.abort();
          reject(new Error(`timeout after ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    const text = textOf(res.content).trim();
    if (text.includes(NO_ANSWER_MARK) && text.replace(/\[\d+\]/g, '').trim().length <= NO_ANSWER_MARK.length + 2) return { kind: 'declined' };
    const check = checkCitations(text, passages);
    if (!check.ok) return { kind: 'failed', reason: check.reason };
    return { kind: 'answer', answer: text, citations: check.cited.map((n) => citationOf(passages[n - 1]!.chunk)) };
  } catch (e) {
    return { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
