import { toSimplified } from '../knowledge/normalize.js';
import { parseChineseDate } from '../workflow/dates.js';
import { canonicalName, stripSuffix } from '../workflow/names.js';
import { findRiskCategory, severityOf } from '../workflow/risks.js';
import { STAGE_TEMPLATES } from '../workflow/stage-templates.js';
import { findTalkCategory } from '../workflow/talks.js';
import type { IsoDate } from '../workflow/types.js';
import { HOMOPHONES, QUESTION_WORDS } from './chat-words.js';
import type { CommandWords } from './command-router.js';
import { COMMANDS, normalizeInput, type CommandSpec, type ParsedCommand } from './commands.js';
import { parseRiskCommand, parseStageCommand, parseStructureCommand, parseTalkCommand, statusOf } from './workflow/grammar.js';

/**
 * "您是不是要：…" for a message that looks like a command but is not one: the
 * spaces left out ("完成城西村承诺谈话" → 完成 城西村 承诺谈话) or the command
 * word mistyped ("进渡 城西村" → 进度 城西村, "帮主" → 帮助). Built on the real
 * grammar: the command table's words, the roster's names for the first
 * argument, the stage/talk/risk vocabularies, and the command's own parser,
 * which must accept the corrected command. Questions ("完成选民登记要多少天？")
 * are never turned into suggestions, and a suggestion is never executed.
 */
export interface CommandSuggestion {
  /** The corrected command, exactly as it should be sent. */
  command: string;
  /** What was wrong: spaces left out, the command word mistyped, or written after the name. */
  kind: 'spacing' | 'typo' | 'order';
  /** The command word as typed (for a typo) and as it should be. */
  typed: string;
  word: string;
}

/** How the command word was typed: right, wrong but likely meant (same sound; one letter off in latin), or one character off. */
type Typo = 'none' | 'likely' | 'edit';

const MAX_TEXT = 200;
/** Longest name tried as a prefix of glued text (village and person names are short). */
const MAX_NAME = 20;

/** The reply to a near-command. */
export function suggestionMessage(s: CommandSuggestion): string {
  const why =
    s.kind === 'typo'
      ? `命令词是「${s.word}」（您输入的是「${s.typed}」）`
      : s.kind === 'order'
        ? `命令词「${s.word}」要写在最前面，各项之间用空格隔开`
        : '命令的各项之间要用空格隔开';
  return `您是不是要：${s.command}\n${why}。请核对后直接发送这条命令（我不会自动执行）；发送「帮助」查看全部命令。`;
}

/** A question mark or a question word: the message goes to the Q&A whatever it starts with. */
export function looksLikeQuestion(t: string): boolean {
  return /[?？]/.test(t) || QUESTION_WORDS.some((w) => t.includes(w));
}

const READING = new Map<string, Set<string>>();
for (const [syllable, chars] of Object.entries(HOMOPHONES)) {
  for (const ch of chars) {
    const r = READING.get(ch) ?? new Set<string>();
    r.add(syllable);
    READING.set(ch, r);
  }
}
function sameReading(a: string, b: string): boolean {
  const ra = READING.get(a);
  const rb = READING.get(b);
  return !!ra && !!rb && [...ra].some((r) => rb.has(r));
}

const HAN = /^\p{Script=Han}$/u;
const LATIN = /^[a-z]+$/;

/** Optimal string alignment distance (a swap of two neighbours counts 1); for short latin words. */
function osaDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

interface Head {
  /** The characters of the first token read as the command word. */
  typed: string;
  typo: Typo;
}

/** The ways the first token can begin with command word `w`: exactly, or with one character mistyped. */
function heads(first: string[], w: string): Head[] {
  const word = [...w];
  if (LATIN.test(w)) {
    // Latin aliases (help): the whole token, one letter off; never glued to arguments.
    const t = first.join('').toLowerCase();
    if (w.length < 4 || !LATIN.test(t)) return [];
    return t !== w && osaDistance(t, w) === 1 ? [{ typed: t, typo: 'likely' }] : [];
  }
  if (word.length < 2 || !word.every((c) => HAN.test(c)) || first.length < word.length) return [];
  const prefix = first.slice(0, word.length);
  const diff = prefix.flatMap((c, i) => (c === word[i] ? [] : [i]));
  if (diff.length === 0) return [{ typed: prefix.join(''), typo: 'none' }];
  if (diff.length > 1 || !HAN.test(prefix[diff[0]!]!)) return [];
  const i = diff[0]!;
  return [{ typed: prefix.join(''), typo: sameReading(prefix[i]!, word[i]!) ? 'likely' : 'edit' }];
}

/** A set of names matched the way names.ts matches them: canonical form, or without 村/镇/社区…. */
class NameSet {
  private readonly names = new Set<string>();
  constructor(list: readonly string[]) {
    for (const n of list) {
      const c = canonicalName(n);
      if (c) this.names.add(c);
      const s = stripSuffix(n);
      if ([...s].length >= 2) this.names.add(s);
    }
  }
  has(s: string): boolean {
    return this.names.has(canonicalName(s));
  }
}

/**
 * Name sets by the list they were built from: the roster's lists are kept
 * (same array) until a region changes, so a province's villages are indexed
 * once, not per message.
 */
const SETS = new WeakMap<readonly string[], NameSet>();
function nameSet(list: readonly string[]): NameSet {
  let s = SETS.get(list);
  if (!s) SETS.set(list, (s = new NameSet(list)));
  return s;
}

/** The names a first argument may be: any of several lists. */
class Names {
  constructor(private readonly sets: readonly NameSet[]) {}
  has(s: string): boolean {
    return this.sets.some((x) => x.has(s));
  }
}

const STAGE_NAMES = new NameSet(Object.values(STAGE_TEMPLATES).flatMap((stages) => stages.flatMap((s) => [s.name, ...s.aliases])));

/** What each command's arguments are, for the commands that take any. */
interface Grammar {
  /** The first argument: whose names. */
  subject(w: CommandWords): Names;
  /** Words with a fixed meaning that may follow it, glued (stages, statuses, dates, categories…). */
  isWord(p: string, today: IsoDate): boolean;
  /** Known words needed before free text (备注/描述) may follow glued; Infinity: no free text. */
  knownBeforeFreeText: number;
  /** The real parser: throws when the command would be refused for its form. */
  parse(args: string[], today: IsoDate): void;
}

const isDate = (p: string, today: IsoDate) => {
  const d = parseChineseDate(p, today);
  return d !== null && d !== 'invalid';
};
const isTalkCategory = (w: string) => findTalkCategory(w) !== undefined;
const isRiskCategory = (w: string) => findRiskCategory(w) !== undefined;
/** Talk words (完成, 已签承诺书, dates…) as the talk grammar reads them: a token it does not leave as a note. */
const isTalkWord = (p: string, today: IsoDate) => {
  try {
    const r = parseTalkCommand(['x', p], today, () => false);
    return r.kind === 'record' && r.note === undefined;
  } catch {
    return false;
  }
};
const villages = (w: CommandWords) => new Names([nameSet(w.villages())]);

const stageGrammar = (name: '进度' | '完成'): Grammar => ({
  subject: (w) => (name === '进度' ? new Names([nameSet(w.villages()), nameSet(w.townships())]) : villages(w)),
  isWord: (p, today) => STAGE_NAMES.has(p) || statusOf(p) !== undefined || isDate(p, today),
  knownBeforeFreeText: 2,
  parse: (args, today) => void parseStageCommand(name, args, today),
});

const GRAMMARS: Readonly<Record<string, Grammar>> = {
  进度: stageGrammar('进度'),
  完成: stageGrammar('完成'),
  谈话: {
    subject: (w) => new Names([nameSet(w.talkSubjects())]),
    isWord: (p, today) => ([...p].length >= 2 && isTalkCategory(p)) || isTalkWord(p, today),
    knownBeforeFreeText: 1,
    parse: (args, today) => void parseTalkCommand(args, today, isTalkCategory),
  },
  风险: {
    subject: villages,
    isWord: (p) => ([...p].length >= 2 && isRiskCategory(p)) || severityOf(p) !== undefined || p === '必查',
    knownBeforeFreeText: 1,
    parse: (args) => void parseRiskCommand(args, isRiskCategory),
  },
  结构: {
    subject: villages,
    isWord: () => false,
    knownBeforeFreeText: 1,
    parse: (args) => void parseStructureCommand(args),
  },
  逾期: {
    subject: (w) => new Names([nameSet(w.townships())]),
    isWord: () => false,
    knownBeforeFreeText: Infinity,
    parse: (args) => {
      if (args.length > 1) throw new Error('逾期 takes one township');
    },
  },
};

/** The longest prefix of `chars` from `at` that `ok` accepts (its length), or 0. */
function longest(chars: readonly string[], at: number, max: number, ok: (p: string) => boolean): number {
  for (let n = Math.min(max, chars.length - at); n > 0; n--) if (ok(chars.slice(at, at + n).join(''))) return n;
  return 0;
}

/** Splits text glued to a command word into its arguments: a known name first, then known words, then free text if allowed. */
function splitGlued(g: Grammar, glued: readonly string[], subject: Names, today: IsoDate): string[] | null {
  const n = longest(glued, 0, MAX_NAME, (p) => subject.has(p));
  if (!n) return null;
  return splitWords(g, glued.slice(n), [glued.slice(0, n).join('')], today);
}

/** Known words of the grammar, then free text if allowed after `args` (what was already read). */
function splitWords(g: Grammar, chars: readonly string[], args: string[], today: IsoDate): string[] | null {
  let at = 0;
  while (at < chars.length) {
    const m = longest(chars, at, 12, (p) => g.isWord(p, today));
    if (!m) break;
    args.push(chars.slice(at, at + m).join(''));
    at += m;
  }
  if (at < chars.length) {
    if (args.length < g.knownBeforeFreeText) return null;
    args.push(chars.slice(at).join(''));
  }
  return args;
}

/**
 * The name first, then the command word: "城西村完成审计" → 完成 城西村 审计,
 * "城西村进度" → 进度 城西村. Only the exact command word counts here.
 */
function nameFirst(first: readonly string[], rest: readonly string[], words: CommandWords, cache: Map<string, Names>): Candidate[] {
  const found: Candidate[] = [];
  const today = words.today();
  for (const spec of COMMANDS) {
    const g = GRAMMARS[spec.name];
    if (!g) continue;
    let subject = cache.get(spec.name);
    if (!subject) cache.set(spec.name, (subject = g.subject(words)));
    const n = longest(first, 0, MAX_NAME, (p) => subject.has(p));
    if (!n) continue;
    // The command word glued to the name ("城西村完成审计") or the next token ("城西村 完成 审计").
    const spaced = n === first.length;
    const after = spaced ? (rest[0] ?? '') : first.slice(n).join('');
    const tail = spaced ? rest.slice(1) : rest;
    for (const w of [spec.name, ...spec.aliases]) {
      if (!after.startsWith(w) || !HAN.test([...w][0]!)) continue;
      const args = splitWords(g, [...after.slice(w.length)], [first.slice(0, n).join('')], today);
      if (!args) continue;
      args.push(...tail);
      try {
        g.parse(args, today);
      } catch {
        continue;
      }
      found.push({ command: [w, ...args].join(' '), kind: 'order', typed: w, word: w, rank: 0 });
    }
  }
  return found;
}

interface Candidate extends CommandSuggestion {
  rank: number;
}

function candidate(spec: CommandSpec, w: string, head: Head, first: string[], rest: readonly string[], words: CommandWords, cache: Map<string, Names>): Candidate | null {
  const glued = first.slice([...head.typed].length);
  if (head.typo === 'none' && glued.length === 0) return null; // that was a command already
  const g = GRAMMARS[spec.name];
  const today = words.today();
  let args: string[];
  if (!g) {
    // Commands without arguments: only the (mistyped) word alone, and only a likely typo (by sound).
    if (glued.length || rest.length || head.typo !== 'likely') return null;
    args = [];
  } else {
    const subjectOf = () => {
      let s = cache.get(spec.name);
      if (!s) cache.set(spec.name, (s = g.subject(words)));
      return s;
    };
    if (glued.length) {
      const split = splitGlued(g, glued, subjectOf(), today);
      if (!split) return null;
      args = [...split, ...rest];
    } else {
      args = [...rest];
      // A mistyped word before arguments counts only when the first argument is a known name.
      if (args.length ? !subjectOf().has(args[0]!) : head.typo !== 'likely') return null;
    }
    try {
      g.parse(args, today);
    } catch {
      return null;
    }
  }
  const typo = head.typo !== 'none';
  return {
    command: [w, ...args].join(' '),
    kind: typo ? 'typo' : 'spacing',
    typed: head.typed,
    word: w,
    rank: head.typo === 'none' ? 0 : head.typo === 'likely' ? 1 : 2,
  };
}

/** The command a near-command meant, or null (then the message is a question for the Q&A). */
export function suggestCommand(text: string, words: CommandWords): CommandSuggestion | null {
  if (text.length > MAX_TEXT * 2) return null; // a long text is not a command; do not normalise it
  const t = toSimplified(normalizeInput(text).replace(/^[/／]\s*/, ''));
  if (!t || t.length > MAX_TEXT || looksLikeQuestion(t)) return null;
  const [firstToken, ...rest] = t.split(/[\s,，、;；:：]+/).filter(Boolean);
  if (!firstToken) return null;
  const first = [...firstToken];
  const cache = new Map<string, Names>();
  const found: Candidate[] = [];
  for (const spec of COMMANDS) {
    for (const w of [spec.name, ...spec.aliases]) {
      for (const head of heads(first, w)) {
        const c = candidate(spec, w, head, first, rest, words, cache);
        if (c) found.push(c);
      }
    }
  }
  if (!found.length) found.push(...nameFirst(first, rest, words, cache));
  if (!found.length) return null;
  const best = Math.min(...found.map((c) => c.rank));
  const top = [...new Map(found.filter((c) => c.rank === best).map((c) => [c.command, c])).values()];
  // Two different readings equally likely: say nothing rather than guess.
  if (top.length !== 1) return null;
  const { rank: _rank, ...s } = top[0]!;
  return s;
}

/**
 * A command whose arguments were glued together after the command word
 * ("完成 城西村承诺谈话"): when the grammar refuses it as typed and splitting
 * its first argument gives a command the grammar reads, that is the
 * suggestion. A command the grammar reads as typed is never second-guessed.
 */
export function suggestSpacing(command: ParsedCommand, words: CommandWords): CommandSuggestion | null {
  const g = GRAMMARS[command.name];
  const [first, ...rest] = command.args;
  if (!g || first === undefined || command.rest.length > MAX_TEXT) return null;
  const today = words.today();
  try {
    g.parse(command.args, today);
    return null;
  } catch {
    // refused as typed: try the split below
  }
  const subject = g.subject(words);
  const split = splitGlued(g, [...first], subject, today) ?? splitGlued(g, [...toSimplified(first, true)], subject, today);
  if (!split || split.length < 2) return null;
  const args = [...split, ...rest];
  try {
    g.parse(args, today);
  } catch {
    return null;
  }
  return { command: [command.name, ...args].join(' '), kind: 'spacing', typed: command.name, word: command.name };
}
