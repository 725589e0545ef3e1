import { describe, expect, it } from 'vitest';
import { messageSentAt, REDELIVERY_WINDOW_MS } from '../../src/handlers/message-time.js';

/** When a message was sent: Lark's message.create_time, trusted within the redelivery window. */
describe('messageSentAt', () => {
  const now = Date.parse('2026-11-20T10:30:00+08:00');
  it.each([
    ['create_time 10 minutes ago', String(now - 600_000), now - 600_000],
    ['as a number', now - 5_000, now - 5_000],
    ['at the edge of the window', String(now - REDELIVERY_WINDOW_MS), now - REDELIVERY_WINDOW_MS],
    ['older than the window (a replayed capture)', String(now - REDELIVERY_WINDOW_MS - 1), now],
    ['in the future (a wrong clock)', String(now + 1_000), now],
    ['absent', undefined, now],
    ['not digits', '10:02', now],
    ['empty', '', now],
  ])('%s', (_what, createTime, want) => {
    expect(messageSentAt(createTime, now)).toBe(want);
  });
});
