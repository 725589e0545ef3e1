import type { AbstainDecision } from './abstain.js';
import type { ChatModelLike } from './answer-llm.js';
import { composeOfflineAnswer } from './answer-offline.js';
import { combineFollowUp, isFollowUp, type ConversationMemory, type Turn } from './conversation.js';
import { rewriteQuestion, type RewriteOutcome } from './llm-rewrite.js';
import type { Passage, Retrieval } from './retrieve.js';

/**
 * What a question is asked as, and what it is answered from, before any answer is
 * written: a follow-up (那社区呢？) becomes the previous question with the new part;
 * in LLM mode the model's search terms are searched together with the user's own
 * words, and the passages of both searches go to the answer model.
 */
export type Retrieved = Retrieval & { decision: AbstainDecision };

export interface AskContext {
  /** The question as answered: the user's text, or the follow-up made whole. */
  asked: string;
  previous?: Turn;
  /** The retrieval the offline answer and the decline decision come from. */
  base: Retrieved;
  /** Passages the model is shown: the base's quotes, then those the rewrite found. */
  modelPassages: Passage[];
  rewrite?: RewriteOutcome;
}

/** Most passages shown to the model when the rewrite found others than the question's own words. */
export const MAX_MODEL_PASSAGES = 5;

export async function prepareAsk(
  question: string,
  deps: {
    retrieve: (q: string) => Promise<Retrieved>;
    /** Whether the text has content words of its own (query analysis). */
    hasContent: (q: string) => boolean;
    memory?: ConversationMemory;
    conversation?: string;
    chat?: ChatModelLike;
    rewriteTimeoutMs?: number;
  },
): Promise<AskContext> {
  const previous = deps.conversation ? deps.memory?.previous(deps.conversation) : undefined;
  const followUp = previous !== undefined && isFollowUp(question, deps.hasContent(question));
  const asked = followUp ? combineFollowUp(previous.question, question) : question;
  const own = await deps.retrieve(asked);
  if (!deps.chat) return { asked, previous: followUp ? previous : undefined, base: own, modelPassages: composeOfflineAnswer(own).passages };
  // The model sees the raw follow-up with the previous turn and completes what it leaves out.
  const rewrite = await rewriteQuestion(deps.chat, followUp ? question : asked, { timeoutMs: deps.rewriteTimeoutMs, previous: followUp ? previous : undefined });
  let base = own;
  let other: Retrieved | undefined;
  if (rewrite.kind === 'rewritten') {
    // The user's words stay in the search: the terms are added to them, never replace them.
    const widened = await deps.retrieve(`${asked} ${rewrite.terms}`);
    if (own.decision.abstain && !widened.decision.abstain) base = widened;
    else if (!widened.decision.abstain) other = widened;
  }
  const modelPassages = composeOfflineAnswer(base).passages;
  for (const p of other ? composeOfflineAnswer(other).passages : []) {
    if (modelPassages.length >= MAX_MODEL_PASSAGES) break;
    if (!modelPassages.some((m) => m.chunk.id === p.chunk.id)) modelPassages.push(p);
  }
  return { asked, previous: followUp ? previous : undefined, base, modelPassages, rewrite };
}
