import { toSimplified } from '../knowledge/normalize.js';
import { SMALL_TALK_ADDRESSES, SMALL_TALK_FILLERS, SMALL_TALK_MAX_CHARS, SMALL_TALK_WORDS, type SmallTalkKind } from './chat-words.js';

/**
 * Messages that are not questions: greetings, thanks, acknowledgements,
 * emoji, stickers, a single character. They get a short friendly reply with
 * the 帮助 hint instead of going to the policy Q&A, so they are not logged
 * as unanswered policy questions.
 */
export type SmallTalk = SmallTalkKind | 'emoji' | 'single' | 'media';

const REPLIES: Readonly<Record<SmallTalk, string>> = {
  greeting: '您好！我是换届助手：换届政策问题可以直接打字问我，进度、谈话等可以用命令登记。发送「帮助」查看用法。',
  thanks: '不客气！还有问题随时问我。发送「帮助」查看全部用法。',
  ack: '好的。需要时随时找我，发送「帮助」查看用法。',
  bye: '再见！需要时随时找我，发送「帮助」查看用法。',
  laugh: '有问题随时问我，发送「帮助」查看用法。',
  emoji: '收到。政策问题请直接打字提问，例如「选民名单要提前多少天公布？」；登记进度请发送命令。发送「帮助」查看用法。',
  media: '收到。目前只能处理文字消息：政策问题请直接打字提问，登记进度请发送命令。发送「帮助」查看用法。',
  single: '只收到一个字，我还不知道您要做什么。政策问题请写成一句话，例如「选民名单要提前多少天公布？」；发送「帮助」查看命令用法。',
};

export function smallTalkReply(kind: SmallTalk): string {
  return REPLIES[kind];
}

/** Lark's own emoji arrive inside text as bracketed names: [微笑], [OK], [Thumbsup]. */
const LARK_EMOJI = /\[[^[\]\s]{1,12}\]/gu;
/** Emoji, punctuation, symbols, spaces, joiners and variation selectors: what carries no words. */
const NON_WORD = /[\p{Extended_Pictographic}\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}\p{M}\s]+/gu;

/** The words of a message: NFKC, Simplified, lower case, without emoji, punctuation or spaces. */
export function smallTalkCore(text: string): string {
  return toSimplified(text.normalize('NFKC')).toLowerCase().replace(LARK_EMOJI, '').replace(NON_WORD, '');
}

/** Raw length beyond which a text is not small talk (room for a row of emoji with joiners). */
const MAX_RAW = 200;

const PRIORITY: readonly SmallTalkKind[] = ['thanks', 'bye', 'greeting', 'ack', 'laugh'];

const WORD_KIND = new Map<string, SmallTalkKind>();
for (const kind of PRIORITY) {
  for (const w of SMALL_TALK_WORDS[kind]) {
    const c = smallTalkCore(w);
    if (c && !WORD_KIND.has(c)) WORD_KIND.set(c, kind);
  }
}
const FILLERS = new Set(SMALL_TALK_FILLERS.map(smallTalkCore).filter(Boolean));
const ADDRESSES = new Set(SMALL_TALK_ADDRESSES.map(smallTalkCore).filter(Boolean));
const MAX_WORD = Math.max(...[...WORD_KIND.keys(), ...FILLERS, ...ADDRESSES].map((w) => [...w].length));

/**
 * Whether `chars` is made only of small-talk words, fillers and forms of
 * address ("谢谢你啊", "好的好的", "您好领导"); returns the most telling kind.
 * Forms of address alone ("助手", "老师") call the bot: a greeting.
 */
function segment(chars: readonly string[]): SmallTalkKind | null {
  // seen[i]: for some full segmentation of chars[0..i), the kinds it holds ('address' included); null if none.
  type Seen = SmallTalkKind | 'address';
  const seen: (Set<Seen> | null)[] = Array.from({ length: chars.length + 1 }, () => null);
  seen[0] = new Set();
  for (let i = 0; i < chars.length; i++) {
    const from = seen[i];
    if (!from) continue;
    for (let j = i + 1; j <= Math.min(chars.length, i + MAX_WORD); j++) {
      const w = chars.slice(i, j).join('');
      const kind: Seen | undefined = WORD_KIND.get(w) ?? (ADDRESSES.has(w) ? 'address' : undefined);
      if (!kind && !FILLERS.has(w)) continue;
      const next = (seen[j] ??= new Set());
      for (const k of from) next.add(k);
      if (kind) next.add(kind);
    }
  }
  const kinds = seen[chars.length];
  if (!kinds) return null;
  return PRIORITY.find((k) => kinds.has(k)) ?? (kinds.has('address') ? 'greeting' : null);
}

/** What kind of small talk a text message is, or null when it may be a question or a command. */
export function classifySmallTalk(text: string): SmallTalk | null {
  // Long texts are never small talk; do not normalise a megabyte to find out.
  if (text.length > MAX_RAW || !text.trim()) return null;
  const core = smallTalkCore(text);
  if (!core) return 'emoji';
  const chars = [...core];
  if (chars.length > SMALL_TALK_MAX_CHARS) return null;
  const kind = segment(chars);
  if (kind) return kind;
  return chars.length === 1 ? 'single' : null;
}

/** Message types that carry no words at all (Lark stickers, images). */
export function isWordlessMedia(messageType: string): boolean {
  return messageType === 'sticker' || messageType === 'image';
}
