import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/lark/', import.meta.url));

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as T;
}

type Envelope = { schema: string; header: Record<string, unknown>; event: Record<string, unknown> };

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A p2p or group text message built on the fixtures, with fresh ids unless given. */
export function messageEvent(opts: {
  text: string;
  chat?: 'p2p' | 'group';
  mentionBot?: string | false;
  openId?: string;
  eventId?: string;
  messageId?: string;
  chatId?: string;
  token?: string;
}): Envelope {
  const base = fixture<Envelope>(opts.chat === 'group' ? 'im.message.receive_v1.group.json' : 'im.message.receive_v1.p2p.json');
  base.header.event_id = opts.eventId ?? nextId('ev');
  if (opts.token !== undefined) base.header.token = opts.token;
  const ev = base.event as { sender: { sender_id: { open_id: string } }; message: Record<string, unknown> };
  if (opts.openId) ev.sender.sender_id.open_id = opts.openId;
  ev.message.message_id = opts.messageId ?? nextId('om');
  if (opts.chatId) ev.message.chat_id = opts.chatId;
  if (opts.chat === 'group') {
    if (opts.mentionBot === false) {
      ev.message.mentions = [];
      ev.message.content = JSON.stringify({ text: opts.text });
    } else {
      const mentions = ev.message.mentions as { id: { open_id: string } }[];
      if (opts.mentionBot) mentions[0]!.id.open_id = opts.mentionBot;
      ev.message.content = JSON.stringify({ text: `@_user_1 ${opts.text}` });
    }
  } else {
    ev.message.content = JSON.stringify({ text: opts.text });
  }
  return base;
}

export function cardActionEvent(opts: { value: Record<string, unknown>; formValue?: Record<string, unknown>; openId?: string; eventId?: string; token?: string }): Envelope {
  const base = fixture<Envelope>('card.action.trigger.json');
  base.header.event_id = opts.eventId ?? nextId('ev');
  if (opts.token !== undefined) base.header.token = opts.token;
  const ev = base.event as { operator: { open_id: string }; action: Record<string, unknown> };
  if (opts.openId) ev.operator.open_id = opts.openId;
  ev.action.value = opts.value;
  if (opts.formValue) ev.action.form_value = opts.formValue;
  return base;
}
