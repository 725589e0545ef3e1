import { buildAnswerCard } from '../knowledge/answer-card.js';
import type { KnowledgeService } from '../knowledge/service.js';
import type { CardActionHandler } from './card-action.js';
import type { QaEntry } from './qa-entry.js';

/** Questions typed in chat go to the policy library; the answer comes back as a card with its 依据. */
export function createQaEntry(kb: KnowledgeService, channel: 'chat' | 'console' = 'chat'): QaEntry {
  return async (question, actor, reply) => {
    const result = await kb.ask(question, { askerOpenId: actor.openId, channel });
    reply.card(buildAnswerCard(result) as Parameters<typeof reply.card>[0]);
  };
}

/** 👍/👎 on an answer card: stored once per person and question. */
export function createFeedbackAction(kb: KnowledgeService): CardActionHandler {
  return ({ value, actor }) => {
    const id = Number(value.question_id);
    const vote = value.vote;
    if (!Number.isSafeInteger(id) || id <= 0 || (vote !== 'up' && vote !== 'down')) {
      return { toast: { type: 'error', content: '无法识别的反馈。' } };
    }
    kb.recordFeedback(id, actor.openId, vote);
    return { toast: { type: 'success', content: vote === 'up' ? '谢谢，已记录为有用。' : '谢谢反馈，我们会改进政策库。' } };
  };
}
