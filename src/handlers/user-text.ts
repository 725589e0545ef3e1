import { renderCardText } from '../bot/card-text.js';
import type { MessageSink, OutgoingMessage } from '../bot/outbox.js';
import type { Logger } from '../logger.js';
import type { CardActionResponse } from './card-action.js';

/**
 * The last-resort guard at the reply boundary (issue 17 item 7). Handlers word their own
 * refusals (UserError, src/validation.ts); this catches what nobody foresaw — a library's English
 * or a stack trace reaching a toast or a reply — logs the original and shows a Chinese
 * sentence with what to try instead. Applied where an event's answers leave the handlers: the card
 * callback's answer and messages (card-action.ts), a chat message's replies (message-receive.ts).
 *
 * Deliberately narrow, because replies legitimately echo what people wrote (notes, risk
 * descriptions, "收到「NaN%」"): a text is replaced only when it has no Chinese at all, or when it
 * carries a library's error signature that is not part of what the person sent.
 */

/** Shown instead of a text that may not reach a person. */
export const GUARD_FALLBACK_TEXT = '抱歉，这一步没有处理好。请检查填写的内容后重新发送或提交；发送「帮助」可查看用法，如一再出现请联系换届办。';
/** The log line's message, which the fault suite counts (tests/faults/validation-messages.fault.ts). */
export const GUARD_LOG_MESSAGE = 'user text guard: replaced a text not fit for a person';

const CJK = /[\u3400-\u9fff]/;
/** What libraries and the runtime say, never our product's words. */
const SIGNATURES: readonly RegExp[] = [
  /Invalid (?:input|option|type|string|number|enum|union|literal|date)/,
  /expected [a-z]+(?: to [a-z ]+)?, received/,
  /Too (?:big|small): expected/,
  /\b(?:Type|Range|Reference|Syntax|Internal|Eval|URI|Zod|Sqlite|Postgres|Fastify)Error\b/,
  /\bError: /,
  /\[object [A-Z]\w*\]/,
  /\n\s+at \S/,
  /\bat (?:async )?[\w.$<>]+ \((?:file|node):/,
  /\.(?:[cm]?js|ts):\d+:\d+/,
  /Cannot read propert(?:y|ies) of/,
  /is not (?:a function|iterable|a constructor)/,
  /Unexpected (?:token|end of JSON)/,
  /\bSQLITE_[A-Z_]+\b/,
  /\bE(?:NOENT|ACCES|PERM|CONNREFUSED|TIMEDOUT)\b/,
];

/** Why `text` may not reach a person (null when it may). `echo`: what the person sent, which a reply may quote. */
export function unfitForUser(text: string, echo: readonly string[] = [], opts: { requireChinese?: boolean } = {}): string | null {
  if ((opts.requireChinese ?? true) && !CJK.test(text)) return 'no Chinese';
  let rest = text;
  for (const e of echo) if (e.length >= 2) rest = rest.split(e).join(' ');
  for (const re of SIGNATURES) if (re.test(rest)) return `library text ${re.source}`;
  return null;
}

export interface GuardOptions {
  logger: () => Logger;
  /** What the person sent (message text, form values): may be quoted back. */
  echo?: readonly string[];
  where: string;
}

export function guardText(text: string, o: GuardOptions, requireChinese = true): string {
  const why = unfitForUser(text, o.echo, { requireChinese });
  if (!why) return text;
  o.logger().error({ where: o.where, why, original: text.slice(0, 2000) }, GUARD_LOG_MESSAGE);
  return GUARD_FALLBACK_TEXT;
}

/** The callback's synchronous answer: the toast, and the replacement card's text. */
export function guardCardResponse(r: unknown, o: GuardOptions): unknown {
  if (!r || typeof r !== 'object') return r;
  const res = r as CardActionResponse;
  let out: CardActionResponse = res;
  if (res.toast && typeof res.toast === 'object') {
    const content = typeof res.toast.content === 'string' ? res.toast.content : '';
    // An error or a warning must be Chinese; any toast is kept free of library text.
    const refusal = res.toast.type === 'error' || res.toast.type === 'warning';
    const safe = guardText(content, { ...o, where: `${o.where} toast` }, refusal);
    if (safe !== content) out = { ...out, toast: { type: 'error', content: safe } };
  }
  if (res.card?.data && unfitForUser(renderCardText(res.card.data), o.echo)) {
    o.logger().error({ where: `${o.where} card`, original: JSON.stringify(res.card.data).slice(0, 2000) }, GUARD_LOG_MESSAGE);
    const { card: _dropped, ...rest } = out;
    out = { ...rest, toast: { type: 'error', content: GUARD_FALLBACK_TEXT } };
  }
  return out;
}

/** A sink whose text messages and cards are checked before they are written: a bad one is replaced by the fallback text. */
export function guardingSink(sink: MessageSink, o: GuardOptions): MessageSink {
  return {
    enqueue(m: OutgoingMessage): void {
      if (m.msgType === 'text' && typeof m.content.text === 'string') {
        const safe = guardText(m.content.text, o);
        sink.enqueue(safe === m.content.text ? m : { ...m, content: { ...m.content, text: safe } });
        return;
      }
      if (m.msgType === 'interactive') {
        const why = unfitForUser(renderCardText(m.content), o.echo);
        if (why) {
          o.logger().error({ where: `${o.where} card`, why, original: JSON.stringify(m.content).slice(0, 2000) }, GUARD_LOG_MESSAGE);
          sink.enqueue({ ...m, msgType: 'text', content: { text: GUARD_FALLBACK_TEXT } });
          return;
        }
      }
      sink.enqueue(m);
    },
  };
}

/** The strings of a JSON value (form values, button values): what a card's answer may quote. */
export function stringsIn(v: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8 || out.length > 200) return out;
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) stringsIn(x, out, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringsIn(x, out, depth + 1);
  return out;
}
