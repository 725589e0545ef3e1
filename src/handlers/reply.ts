import type { Card } from '../bot/cards.js';
import type { MessageSink } from '../bot/outbox.js';

/** How a handler answers. Each call becomes one outbox row whose intent is fixed by the event, not the attempt. */
export interface Reply {
  text(text: string): void;
  card(card: Card): void;
  /** The message answered and its chat (replies in a thread): for answers streamed into a card, and per-chat context. */
  readonly thread?: { messageId: string; chatId: string };
}

/** Answers in the thread of the message that asked (im/v1/messages/:id/reply). */
export function replyToMessage(outbox: MessageSink, m: { messageId: string; chatId: string }): Reply {
  let seq = 0;
  const send = (msgType: 'text' | 'interactive', content: Record<string, unknown>) =>
    outbox.enqueue({
      intent: `reply:${m.messageId}:${seq++}`,
      to: { type: 'chat_id', id: m.chatId },
      replyTo: m.messageId,
      rateKey: m.chatId,
      msgType,
      content,
    });
  return { text: (text) => void send('text', { text }), card: (card) => void send('interactive', card), thread: { messageId: m.messageId, chatId: m.chatId } };
}

/** Sends to a person or a chat directly; `intent` must identify what is being said (e.g. `card:<event_id>`). */
export function sendTo(outbox: MessageSink, to: { type: 'open_id' | 'chat_id'; id: string }, intent: string): Reply {
  let seq = 0;
  const send = (msgType: 'text' | 'interactive', content: Record<string, unknown>) =>
    outbox.enqueue({ intent: `${intent}:${seq++}`, to, msgType, content });
  return { text: (text) => void send('text', { text }), card: (card) => void send('interactive', card) };
}
