import { describe, expect, it } from 'vitest';
import { extractText, mentionsBot, readMessageEvent } from '../../src/handlers/message-content.js';
import { messageEvent } from '../helpers/events.js';

const BOT = 'ou_bot0000000000000000000000000001';

describe('message content', () => {
  it('strips the bot mention from group text and recognises the bot by open_id', () => {
    const msg = readMessageEvent(messageEvent({ text: '帮助', chat: 'group' }).event)!;
    expect(mentionsBot(msg, BOT)).toBe(true);
    expect(mentionsBot(msg, 'ou_other')).toBe(false);
    expect(mentionsBot(msg, undefined)).toBe(false);
    expect(extractText(msg, BOT)).toBe('帮助');
  });

  it('keeps the names of other people mentioned', () => {
    const ev = messageEvent({ text: 'x', chat: 'group' });
    const m = ev.event.message as Record<string, unknown>;
    m.content = JSON.stringify({ text: '@_user_1 谈话 @_user_2 完成' });
    (m.mentions as unknown[]).push({ key: '@_user_2', id: { open_id: 'ou_zs' }, name: '张三' });
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBe('谈话 张三 完成');
  });

  it('reads rich-text (post) messages', () => {
    const ev = messageEvent({ text: 'x' });
    const m = ev.event.message as Record<string, unknown>;
    m.message_type = 'post';
    m.content = JSON.stringify({ title: '', content: [[{ tag: 'text', text: '选民名单' }, { tag: 'text', text: '提前几天公布' }]] });
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBe('选民名单提前几天公布');
  });

  it('reads JSON that is not an object, and post nodes that are null, as no text (found by the fault suite)', () => {
    const ev = messageEvent({ text: 'x' });
    const m = ev.event.message as Record<string, unknown>;
    m.content = 'null';
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBeNull();
    m.message_type = 'post';
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBeNull();
    m.content = JSON.stringify({ content: [[null, { tag: 'text', text: '帮助' }]] });
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBe('帮助');
  });

  it('returns null for images and unreadable content, and rejects events without sender', () => {
    const ev = messageEvent({ text: 'x' });
    const m = ev.event.message as Record<string, unknown>;
    m.message_type = 'image';
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBeNull();
    m.message_type = 'text';
    m.content = '{not json';
    expect(extractText(readMessageEvent(ev.event)!, BOT)).toBeNull();
    expect(readMessageEvent({ message: m })).toBeNull();
  });
});
