/**
 * Ids from an event (open_id, chat_id, message_id, event_id): Lark's are short
 * printable ASCII (ou_…, oc_…, om_…), and so are local sessions' and the
 * roster's (the import checks open_ids). Anything else — empty, 20,000
 * characters, a lone surrogate, control characters, 帮助 — did not come from
 * Lark and is not answered: a lone surrogate cannot even be turned into a
 * message uuid (it is not valid UTF-8), so the event would fail, and a reply to
 * a made-up chat is a message sent to nobody (issue 8, bad input).
 */
export const MAX_ID_LENGTH = 128;

export function isWellFormedId(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_ID_LENGTH && /^[\x21-\x7e]+$/.test(v);
}
