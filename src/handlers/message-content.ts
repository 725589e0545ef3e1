import { isWellFormedId } from './ids.js';

/** The parts of an im.message.receive_v1 event the bot reads. */
export interface Mention {
  key: string;
  id?: { open_id?: string };
  name?: string;
}

export interface IncomingMessage {
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group' | string;
  messageType: string;
  content: string;
  mentions: Mention[];
  senderOpenId: string;
  senderType: string;
  /** message.create_time as sent (ms since epoch, a string); read by message-time.ts. */
  createTime?: unknown;
}

export function readMessageEvent(event: Record<string, unknown>): IncomingMessage | null {
  const m = event.message as Record<string, unknown> | undefined;
  const s = event.sender as { sender_id?: { open_id?: unknown }; sender_type?: unknown } | undefined;
  if (!m || !isWellFormedId(m.message_id) || !isWellFormedId(m.chat_id)) return null;
  const openId = s?.sender_id?.open_id;
  if (!isWellFormedId(openId)) return null;
  return {
    messageId: m.message_id,
    chatId: m.chat_id,
    chatType: String(m.chat_type ?? ''),
    messageType: String(m.message_type ?? ''),
    content: typeof m.content === 'string' ? m.content : '',
    mentions: Array.isArray(m.mentions) ? (m.mentions as Mention[]).filter((x) => x && typeof x.key === 'string') : [],
    senderOpenId: openId,
    senderType: String(s?.sender_type ?? ''),
    createTime: m.create_time,
  };
}

export function mentionsBot(msg: IncomingMessage, botOpenId: string | undefined): boolean {
  return !!botOpenId && msg.mentions.some((x) => x.id?.open_id === botOpenId);
}

/**
 * The typed text of a text or rich-text (post) message, with the bot's own
 * @-mention removed and other mentions replaced by the person's name.
 * Returns null for messages that carry no text (images, files, stickers).
 */
export function extractText(msg: IncomingMessage, botOpenId: string | undefined): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(msg.content);
  } catch {
    return null;
  }
  // Valid JSON that is not an object ("null", "3") carries no text.
  if (typeof parsed !== 'object' || parsed === null) return null;
  let text: string;
  if (msg.messageType === 'text') {
    const t = (parsed as { text?: unknown }).text;
    if (typeof t !== 'string') return null;
    text = t;
  } else if (msg.messageType === 'post') {
    text = postText(parsed);
  } else {
    return null;
  }
  for (const m of msg.mentions) {
    const replacement = m.id?.open_id && m.id.open_id === botOpenId ? ' ' : ` ${m.name ?? ''} `;
    text = text.split(m.key).join(replacement);
  }
  return text.replace(/[ \t\u3000]+/g, ' ').trim();
}

/** A post is {title, content: [[{tag:'text', text}, {tag:'at', user_id}…], …]} (sometimes under a locale key). */
function postText(p: unknown): string {
  const root = p as Record<string, unknown>;
  const body = (Array.isArray(root.content) ? root : (Object.values(root).find((v) => v && typeof v === 'object' && Array.isArray((v as Record<string, unknown>).content)) ?? root)) as {
    title?: unknown;
    content?: unknown;
  };
  const lines: string[] = [];
  if (typeof body.title === 'string' && body.title) lines.push(body.title);
  if (Array.isArray(body.content)) {
    for (const para of body.content) {
      if (!Array.isArray(para)) continue;
      lines.push(
        para
          .map((n: Record<string, unknown> | null) =>
            !n || typeof n !== 'object'
              ? ''
              : n.tag === 'text' || n.tag === 'a'
                ? String(n.text ?? '')
                : n.tag === 'at'
                  ? String(n.user_name ?? '')
                  : '',
          )
          .join(''),
      );
    }
  }
  return lines.join('\n');
}
