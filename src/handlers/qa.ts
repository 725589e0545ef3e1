import { CardKitAvailability, StreamingCard, type CardKit } from '../bot/cardkit.js';
import { isLocalReceiver, messageUuid } from '../bot/outbox.js';
import { asAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { buildAnswerCard, buildErrorCard, buildStreamingAnswerCard, STREAM_ELEMENT_ID, streamingAnswerText } from '../knowledge/answer-card.js';
import type { KnowledgeService } from '../knowledge/service.js';
import type { CardActionHandler } from './card-action.js';
import type { QaEntry } from './qa-entry.js';
import type { Reply } from './reply.js';

export interface QaStreaming {
  cardkit: CardKit;
  logger?: Logger;
  /** streamed | replaced (the check failed after streaming: offline answer put in) | fallback (a normal card was sent). */
  count?: (outcome: 'streamed' | 'replaced' | 'fallback') => void;
  intervalMs?: number;
}

/**
 * Questions typed in chat go to the policy library; the answer comes back as a card with its 依据.
 * With CardKit (LLM mode, online) the answer is streamed into the card as its sentences pass the
 * grounding check, and the card is then replaced by the final one — the checked answer, or the
 * offline answer when the check failed at the end. Without CardKit, or when it fails, one
 * normal card is sent when the answer is ready, as in offline mode.
 */
export function createQaEntry(kb: KnowledgeService, channel: 'chat' | 'console' = 'chat', streaming?: QaStreaming): QaEntry {
  const availability = new CardKitAvailability();
  return async (question, actor, reply) => {
    const thread = reply.thread;
    // Follow-ups are read in the conversation of one person in one chat.
    const conversation = `${thread?.chatId ?? channel}:${actor.openId}`;
    let stream: StreamingCard | undefined;
    const canStream = streaming && thread && !isLocalReceiver(thread.chatId) && availability.available();
    const onDraft = canStream
      ? (text: string) => {
          stream ??= openStream(streaming, thread, question);
          stream.push(streamingAnswerText(text));
        }
      : undefined;
    let result: Awaited<ReturnType<KnowledgeService['ask']>>;
    try {
      result = await kb.ask(question, { askerOpenId: actor.openId, channel, conversation, onDraft });
    } catch (e) {
      // A card already streaming must not stay half-written: it says what went wrong instead.
      if (stream && (await stream.finish(buildErrorCard(asAppError(e).userMessage)))) {
        streaming?.logger?.error({ err: e instanceof Error ? e.message : String(e) }, 'qa: answering failed after streaming began');
        return;
      }
      throw e;
    }
    const card = buildAnswerCard(result);
    if (stream && streaming) {
      if (await stream.finish(card)) {
        streaming.count?.(result.mode === 'llm' ? 'streamed' : 'replaced');
        return;
      }
      // Not created, not sent, or not finished: CardKit is left alone for a while.
      availability.failed();
      streaming.count?.('fallback');
      streaming.logger?.warn({ err: stream.failure?.message, delivered: stream.delivered }, 'qa: streaming card failed; sending a normal card');
    }
    sendCard(reply, card);
  };
}

function openStream(s: QaStreaming, thread: NonNullable<Reply['thread']>, question: string): StreamingCard {
  return new StreamingCard(s.cardkit, {
    card: buildStreamingAnswerCard(question),
    elementId: STREAM_ELEMENT_ID,
    intervalMs: s.intervalMs,
    // Its own intent: a retried event sends the streamed card once (Lark keeps a uuid for an hour).
    send: (cardId) => s.cardkit.replyWithCard(thread.messageId, cardId, messageUuid(`qa-stream:${thread.messageId}`)),
  });
}

function sendCard(reply: Reply, card: Record<string, unknown>): void {
  reply.card(card as Parameters<typeof reply.card>[0]);
}

/** 👍/👎 on an answer card: stored once per person and question. */
export function createFeedbackAction(kb: KnowledgeService): CardActionHandler {
  return ({ value, actor }) => {
    const id = Number(value.question_id);
    const vote = value.vote;
    if (!Number.isSafeInteger(id) || id <= 0 || (vote !== 'up' && vote !== 'down')) {
      return { toast: { type: 'error', content: '无法识别的反馈，请在最新的回答卡片上点 👍 或 👎。' } };
    }
    kb.recordFeedback(id, actor.openId, vote);
    return { toast: { type: 'success', content: vote === 'up' ? '谢谢，已记录为有用。' : '谢谢反馈，我们会改进政策库。' } };
  };
}
