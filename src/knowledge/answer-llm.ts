import type { ChatOpenAI } from '@langchain/openai';
import type { Passage } from './retrieve.js';
import { citationOf, displayLocator, type Citation } from './citation.js';
import { answerSentences, checkGrounding, type GroundingReason, type GroundingSource } from './grounding.js';

/**
 * Generated answers (LLM_BASE_URL): the model sees only the retrieved passages,
 * numbered, and must cite [n] after every sentence. The answer is then checked
 * (grounding.ts: markers, article numbers, law titles, quantities in any numerals,
 * modality) — or it is discarded. Streamed answers are shown sentence by sentence,
 * each only once it has passed the same check.
 */
export const LLM_TIMEOUT_MS = 15_000;
export const NO_ANSWER_MARK = '无法回答';

/** A prompt message in LangChain's plain tuple form: no message classes to load up front. */
export type PromptMessage = ['system' | 'human', string];

export interface ChatModelLike {
  invoke(messages: PromptMessage[], options?: { signal?: AbortSignal }): Promise<{ content: unknown }>;
  /** Token by token (optional: without it answers are not streamed). */
  stream?(messages: PromptMessage[], options?: { signal?: AbortSignal }): Promise<AsyncIterable<{ content: unknown }>>;
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
    async stream(messages, options) {
      return (await (model ??= load())).stream(messages, options);
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

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((c) => (typeof c === 'string' ? c : typeof c?.text === 'string' ? c.text : '')).join('');
  return '';
}

/** What the prompt showed for each passage: the claims of an answer are checked against exactly this. */
export function sourcesOf(passages: Passage[]): GroundingSource[] {
  return passages.map((p) => ({ text: p.chunk.text, title: p.chunk.doc_title, locator: p.chunk.locator, version: p.chunk.doc_version }));
}

export type CheckResult = { ok: true; cited: number[] } | { ok: false; reason: string; code: GroundingReason };

/** Verifies a generated answer against the passages it was given. */
export function checkCitations(answer: string, passages: Passage[]): CheckResult {
  const r = checkGrounding(answer, sourcesOf(passages));
  return r.ok ? r : { ok: false, code: r.reason, reason: `${r.reason}: ${r.detail}` };
}

/** Why a model answer was not used: a failed check, or the call itself. */
export type RejectReason = GroundingReason | 'timeout' | 'error';

export type LlmOutcome =
  | { kind: 'answer'; answer: string; citations: Citation[] }
  | { kind: 'declined' }
  | { kind: 'failed'; reason: string; code: RejectReason };

function isDecline(text: string): boolean {
  return text.includes(NO_ANSWER_MARK) && text.replace(/\[\d+\]/g, '').trim().length <= NO_ANSWER_MARK.length + 2;
}

class Timeout extends Error {}

/**
 * Reads the model's answer, streaming when `onDraft` is given and the model can:
 * each completed sentence is checked as it arrives and the checked prefix is passed
 * to onDraft; the first sentence failing the check ends the stream (the answer is lost).
 */
async function generate(
  model: ChatModelLike,
  messages: PromptMessage[],
  signal: AbortSignal,
  sources: GroundingSource[],
  onDraft?: (text: string) => void,
): Promise<string> {
  if (!onDraft || !model.stream) return textOf((await model.invoke(messages, { signal })).content).trim();
  let text = '';
  let shown = 0;
  const publish = (complete: string[]) => {
    if (complete.length <= shown || text.includes(NO_ANSWER_MARK)) return true;
    for (const s of complete.slice(shown)) if (!checkGrounding(s, sources).ok) return false;
    shown = complete.length;
    onDraft(complete.join(''));
    return true;
  };
  for await (const chunk of await model.stream(messages, { signal })) {
    text += textOf(chunk.content);
    // The last sentence may still grow (or get its [n]); only the ones before it are complete.
    if (!publish(answerSentences(text).slice(0, -1))) return text;
  }
  return text.trim();
}

export async function answerWithModel(
  model: ChatModelLike,
  question: string,
  passages: Passage[],
  timeoutMs = LLM_TIMEOUT_MS,
  opts: { onDraft?: (text: string) => void } = {},
): Promise<LlmOutcome> {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const sources = sourcesOf(passages);
  try {
    const text = await Promise.race([
      generate(model, buildPrompt(question, passages), ctrl.signal, sources, opts.onDraft),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ctrl.abort();
          reject(new Timeout(`timeout after ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    if (isDecline(text)) return { kind: 'declined' };
    const check = checkCitations(text, passages);
    if (!check.ok) return { kind: 'failed', reason: check.reason, code: check.code };
    return { kind: 'answer', answer: text, citations: check.cited.map((n) => citationOf(passages[n - 1]!.chunk)) };
  } catch (e) {
    return { kind: 'failed', reason: e instanceof Error ? e.message : String(e), code: e instanceof Timeout ? 'timeout' : 'error' };
  } finally {
    if (timer) clearTimeout(timer);
    // A stream cut short by a failed check is not read to its end.
    ctrl.abort();
  }
}
