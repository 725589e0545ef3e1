import { randomUUID } from 'node:crypto';
import type { LarkEnvelope } from './envelope.js';
import { LOCAL_PREFIX } from './outbox.js';

/**
 * A p2p text message typed in a local session (terminal chat, web console), in the
 * same schema 2.0 shape Lark sends, so it goes through the same intake and handlers.
 * Its chat is local, so every reply stays in the outbox and never reaches Lark.
 */
export function localTextMessage(opts: { openId: string; session: string; text: string; token?: string }): LarkEnvelope {
  const id = randomUUID().replace(/-/g, '');
  const messageId = `local_om_${id}`;
  const payload = {
    schema: '2.0',
    header: { event_id: `local_${id}`, event_type: 'im.message.receive_v1', token: opts.token, create_time: String(Date.now()) },
    event: {
      sender: { sender_id: { open_id: opts.openId }, sender_type: 'user' },
      message: {
        message_id: messageId,
        chat_id: localChatId(opts.session),
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: opts.text }),
      },
    },
  };
  return { eventId: payload.header.event_id, eventType: 'im.message.receive_v1', token: opts.token, messageId, payload };
}

export function localChatId(session: string): string {
  return `${LOCAL_PREFIX}${session}`;
}
