import type { Clock } from '../clock.js';

/**
 * The previous question of a conversation (one person in one chat), for follow-ups:
 * "那社区呢？", "那要几天？", "还有呢" say only what changes, so they are asked as the
 * previous question with the new part. Kept for a short while and for a bounded
 * number of conversations, in memory (a restart forgets, which only costs a re-ask).
 */
export const FOLLOW_UP_TTL_MS = 10 * 60_000;
export const MAX_CONVERSATIONS = 2_000;

export interface Turn {
  /** The question as it was answered (already standing on its own). */
  question: string;
  /** 《title》locator of what the answer cited. */
  cited: string[];
}

export class ConversationMemory {
  private readonly turns = new Map<string, Turn & { at: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = FOLLOW_UP_TTL_MS,
    private readonly max = MAX_CONVERSATIONS,
  ) {}

  previous(key: string): Turn | undefined {
    const t = this.turns.get(key);
    if (!t) return undefined;
    if (this.clock.now() - t.at > this.ttlMs) {
      this.turns.delete(key);
      return undefined;
    }
    return { question: t.question, cited: t.cited };
  }

  remember(key: string, turn: Turn): void {
    this.turns.delete(key); // re-inserted last: the map's order is the age order
    this.turns.set(key, { ...turn, at: this.clock.now() });
    while (this.turns.size > this.max) this.turns.delete(this.turns.keys().next().value!);
  }

  forget(key: string): void {
    this.turns.delete(key);
  }

  get size(): number {
    return this.turns.size;
  }
}

/** Words that open a follow-up: 那, 那么, 那如果, 还有, 另外, 要是. */
const OPENER = /^(?:那么|那如果|那要是|那|还有|另外|要是|如果是)/;
/** A follow-up is short; a long message starting with 那 is a question of its own. */
export const MAX_FOLLOW_UP_CHARS = 16;

/**
 * Whether a message continues the previous question. `hasOwnContent`: whether query
 * analysis found content words in it (a question holding only a question word, 要几天,
 * 谁来定, continues the previous one whatever its length).
 */
export function isFollowUp(text: string, hasOwnContent: boolean): boolean {
  const t = text.trim();
  if (!hasOwnContent) return t.length > 0;
  return Array.from(t).length <= MAX_FOLLOW_UP_CHARS && OPENER.test(t);
}

/**
 * The bodies the two halves of 村(社区) elections name, aligned: a follow-up naming one
 * side (那社区呢) asks the previous question about that side. Longest spellings first.
 */
const TWINS: [string, string][] = [
  ['村民委员会', '居民委员会'],
  ['村民选举委员会', '居民选举委员会'],
  ['村民代表会议', '居民代表会议'],
  ['村民会议', '居民会议'],
  ['村民小组', '居民小组'],
  ['村委会', '居委会'],
  ['村民', '居民'],
  ['村级', '社区'],
  ['村', '社区'],
];

function side(text: string, which: 0 | 1): boolean {
  return TWINS.some((t) => text.includes(t[which]));
}

/** Replaces one side's names with the other's, longest first, never inside an already replaced name. */
function swapSide(text: string, from: 0 | 1): string {
  const to = from === 0 ? 1 : 0;
  const pairs = [...TWINS].sort((a, b) => b[from].length - a[from].length);
  const pattern = new RegExp(pairs.map((p) => p[from]).join('|'), 'g');
  const map = new Map(pairs.map((p) => [p[from], p[to]] as const));
  return text.replace(pattern, (m) => map.get(m) ?? m);
}

/** The follow-up's own words: without its opener and its closing particle (那社区呢？ → 社区). */
export function newPart(text: string): string {
  return text
    .trim()
    .replace(OPENER, '')
    .replace(/[呢吗嘛啊呀吧]?[？?。！!\s]*$/u, '')
    .replace(/^[，,、\s]+/, '')
    .trim();
}

/**
 * Offline: the previous question with the new part. A new part naming the other side
 * of 村/社区 swaps the previous question's side (村委会选民名单提前几天公布 + 那社区呢 →
 * 居委会选民名单提前几天公布); otherwise the new part is added to it.
 */
export function combineFollowUp(previous: string, followUp: string): string {
  const part = newPart(followUp);
  const prev = previous.trim().replace(/[？?。！!\s]+$/u, '');
  if (!part) return previous;
  const partOnly = part.replace(/的?(?:情况|怎么样|咋样|怎么办|呢)$/, '');
  for (const from of [0, 1] as const) {
    const to = from === 0 ? 1 : 0;
    if (side(prev, from) && !side(prev, to) && side(partOnly, to) && TWINS.some((t) => partOnly === t[to] || partOnly === `${t[to]}里` || partOnly === `在${t[to]}`)) {
      return `${swapSide(prev, from)}？`;
    }
  }
  return `${prev}，${part}？`;
}
