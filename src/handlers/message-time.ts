/**
 * When a chat message was sent: Lark's message.create_time (ms since epoch, as a string). It
 * orders check-ins (src/workflow/ordering.ts) and its day is what 今天 means in that message,
 * so a message sent at 23:59:52 and handled after midnight keeps its day.
 *
 * Lark redelivers an unacknowledged event for up to about 7 hours (and a long connection
 * redelivers after a reconnect). A create_time in the future, or older than the window, is not
 * a redelivery but a wrong clock or a replayed capture: the receipt time is used instead, so a
 * bad create_time can neither lock a row against newer messages nor move a date by days.
 */
export const REDELIVERY_WINDOW_MS = 12 * 3600_000;

export function messageSentAt(createTime: unknown, receivedAt: number): number {
  const text = typeof createTime === 'number' ? String(createTime) : createTime;
  if (typeof text !== 'string' || !/^\d{10,16}$/.test(text)) return receivedAt;
  const ms = Number(text);
  if (ms > receivedAt || receivedAt - ms > REDELIVERY_WINDOW_MS) return receivedAt;
  return ms;
}
