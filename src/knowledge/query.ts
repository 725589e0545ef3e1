import { normalizeQuestion } from './normalize.js';
import { DOMAIN_TERMS, LEXICON_WORDS, PHRASE_REWRITES, QUESTION_STOPWORDS, SYNONYM_GROUPS, synonymsOf } from './synonyms.js';
import { charBigrams, cutWords, dictionaryPieces, generalIdf, getJieba, isDictionaryWord, searchParts, tagOf, tokenForms } from './tokenize.js';

/** Longest question text analysed; longer input is cut (a chat message is not a document). */
export const MAX_QUERY_CHARS = 200;

/** One alternative spelling of a concept and how much a match on it counts. */
export interface Alt {
  token: string;
  /** Search-mode parts of the token, for partial matches (村委会 → 村委, 委会). */
  parts: string[];
  credit: number;
  via: 'word' | 'synonym' | 'typo' | 'part';
}

/** A content word of the question with its alternatives and weight (IDF). */
export interface Concept {
  word: string;
  alts: Alt[];
  weight: number;
  /**
   * The kind of answer the question asks for (期限, 数量…), matched against the passage
   * text rather than its tokens: a passage stating a number of days answers 多少天.
   */
  answerType?: { name: string; pattern: RegExp };
  /** A one-character content word (刻, 评, 补): not indexed, so matched on the passage text. */
  char?: string;
}

export interface AnalyzedQuery {
  /** The question as searched: normalised and capped. */
  text: string;
  /** The kind of answer asked for, when the question word says (also present as the last concept). */
  answerType: string | null;
  concepts: Concept[];
  /** Every token the word channel searches for. */
  wordTokens: string[];
  grams: string[];
}

/** What query analysis needs from the index: document frequencies and a co-occurrence count. */
export interface VocabularyView {
  size: number;
  df(term: string): number;
  /** Indexed words of the same length as `word` that differ from it in exactly one character. */
  oneCharAway(word: string): string[];
  cooccurrence(term: string, others: string[]): number;
  /** Number of passages whose text holds this character (for one-character content words). */
  charDf(ch: string): number;
}

const DOMAIN_TERM_SET: ReadonlySet<string> = LEXICON_WORDS;

/** Words in more than this share of passages are left to re-ranking (not searched in the OR query). */
const COMMON_SHARE = 0.1;
/** Most tokens in the OR query. */
const MAX_WORD_TOKENS = 24;

export function idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

function altOf(token: string, credit: number, via: Alt['via']): Alt[] {
  return tokenForms(token).map((t) => ({ token: t, parts: searchParts(token).filter((p) => p !== t), credit, via }));
}

/** Numeral + classifier (四种, 五类, 几个) and bare question words: scaffolding, not content. */
const SCAFFOLD = /^(?:[一二三四五六七八九十几两多]+(?:种|类|个|项|条|方面|件|点)|几\p{Script=Han}?|多少\p{Script=Han}?|哪\p{Script=Han}{0,2})$/u;

/** A word holding one of these is more likely a fusion of function words (能先, 人能, 用过, 当上) than a typo. */
const FUNCTION_CHARS = /[能会要先就都还也又在了的把被给让对从到向才再吗呢吧啊不没人我你他她这那哪几多啥么咋是有过着上下来去得个]/;

/** One-character words too light to stand for content (verbs of doing, pro-forms, measure words). */
const LIGHT_CHARS = /^[做干搞弄整办用叫找想看说讲问知事样种些点边面头第每各某该此其所算]$/;

/** Credit of a synonym that is a part of the user's word (its generic form). */
const GENERIC_CREDIT = 0.5;

/** Parts of speech of a one-character content word: verbs and nouns (刻, 评, 章), not 新, 跟. */
const CONTENT_POS = /^(v|vn|n)$/;

/** One-character words are ambiguous (补 in 补选, 补贴, 递补): they count this share of their IDF. */
const CHAR_WEIGHT = 0.6;

/**
 * Qualifiers of a quantity (最多, 至少, 上限): they refine the answer type rather than name
 * the topic, so they count half.
 */
const QUALIFIER = /^(最多|最少|至少|最长|最短|最高|最低|最大|最小|顶多|上限|下限|封顶)$/;

/**
 * A verb with a result complement (改成, 刻好, 换掉) the index never saw: its verb carries
 * the meaning (改 in 由3年改5年), so the verb alone is matched on the passage text.
 */
const VERB_COMPLEMENT = /^(\p{Script=Han})[成为到完好掉出过起住给]$/u;

/**
 * Words the index never saw weigh as rare only when they are topical in general Chinese:
 * the segmenter's general IDF at or below EVERYDAY_IDF (大家, 事情, 材料) counts
 * EVERYDAY_FLOOR of it, at TOPICAL_IDF or above (宽带, 低保, 身份证) fully, linear between.
 */
const EVERYDAY_IDF = 4.5;
const TOPICAL_IDF = 7;
const EVERYDAY_FLOOR = 0.25;

export function topicality(word: string): number {
  const g = generalIdf(word);
  if (g === undefined) return 1;
  return Math.min(1, Math.max(EVERYDAY_FLOOR, (g - EVERYDAY_IDF) / (TOPICAL_IDF - EVERYDAY_IDF)));
}

/** A long message (this many characters, at least three clauses) is read for its question. */
const LONG_MESSAGE = 40;
/** Words only in a long message's narrative clauses count this share of their weight. */
export const NARRATIVE_SHARE = 0.35;

/** A clause that asks: a question word, a particle, an A-not-A or a final 不/没 (申诉不, 行不). */
const ASKING_CLAUSE = /[谁啥咋怎哪吗么]|什么|多少|多久|多长|几|能不能|可不可以|行不行|是否|要不要|有没有|算不算|会不会|(\p{Script=Han})[不没]\1|[不没否]$/u;

function isAsking(clause: string): boolean {
  return ASKING_CLAUSE.test(clause.replace(/[啊呀吧呢嘛哈啦哦呗]+$/u, '').replace(/好几|几乎/g, ''));
}

/**
 * The words of a long message that only its narrative holds. A rambling message tells a
 * story, then asks: the asking clause nearest the end, the asking clauses right before
 * it, and the last clause are its core; every other clause is narrative (天天上门吓唬…).
 * Returns null for ordinary questions.
 */
export function narrativeWords(text: string): Set<string> | null {
  if (Array.from(text).length < LONG_MESSAGE) return null;
  const clauses = text.split(/[，。！？,.!?；;：:\s]+/u).filter((c) => /\p{Script=Han}/u.test(c));
  if (clauses.length < 3) return null;
  const asking = clauses.map(isAsking);
  let k = asking.lastIndexOf(true);
  if (k < 0) k = clauses.length - 1;
  const core = new Set<number>([k, clauses.length - 1]);
  for (let i = k - 1; i >= 0 && asking[i]; i--) core.add(i);
  const coreWords = new Set<string>();
  const other = new Set<string>();
  clauses.forEach((c, i) => {
    for (const w of clauseWords(c)) (core.has(i) ? coreWords : other).add(w);
  });
  for (const w of coreWords) other.delete(w);
  return other;
}

function clauseWords(clause: string): string[] {
  let t = clause.replace(/(\p{Script=Han})[不没]\1/gu, '$1');
  for (const [re, rep] of PHRASE_REWRITES) t = t.replace(re, rep);
  return cutWords(t).map((w) => w.toLowerCase());
}

/**
 * A word made only of function and light characters (上要, 做些, 就要, 还得): a fusion the
 * segmenter made of phrasing, never a topic, whatever an index of odd segments says.
 */
export function functionOnly(word: string): boolean {
  const chars = Array.from(word);
  return chars.length >= 2 && chars.length <= 3 && chars.every((ch) => FUNCTION_CHARS.test(ch) || LIGHT_CHARS.test(ch)) && !DOMAIN_TERM_SET.has(word);
}

/** A reduplicated word (讲讲, 看看, 偷偷, 好好): manner or tentativeness, not a topic. */
export const REDUPLICATED = /^(\p{Script=Han})\1$/u;

/** Markers after which a noun names the category of the words just before (修路打井这类公益事业). */
const EXAMPLE_MARKER = /(这类|这些|那些|这种|那种|之类的?|一类的?)(?=\p{Script=Han})/gu;

/**
 * Words given as examples of a category the question names right after them: in
 * 修路打井这类公益事业 or 调解治保那些委员会, the category (公益事业, 委员会) is what a passage
 * must hold; the examples (修路, 打井) are colloquial instances a law rarely lists. The
 * last two words before the marker (not a modifier ending in 的) are returned.
 */
export function exampleWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(EXAMPLE_MARKER)) {
    const before = text.slice(0, m.index).split(/[，。！？,.!?；;：:\s]/u).pop() ?? '';
    if (!before || before.endsWith('的')) continue;
    for (const w of cutWords(before).slice(-2)) if (/\p{Script=Han}{2,}/u.test(w)) out.add(w.toLowerCase());
  }
  return out;
}

/** Two concepts of one meaning (一届 and the rewrite's 任期): one spells the other. */
function sameConcept(a: Concept, b: Concept): boolean {
  if (a.char || b.char || a.answerType || b.answerType) return false;
  const spells = (c: Concept, w: string) => c.alts.some((x) => x.via !== 'part' && x.token === w);
  return spells(a, b.word) || spells(b, a.word);
}

/** Merges concepts of one meaning into the first: a meaning counts once however many of its spellings the question uses. */
export function mergeSameConcepts(concepts: Concept[]): Concept[] {
  const out: Concept[] = [];
  for (const c of concepts) {
    const into = out.find((o) => sameConcept(o, c));
    if (!into) {
      out.push(c);
      continue;
    }
    for (const a of c.alts) {
      const have = into.alts.find((x) => x.token === a.token);
      if (!have) into.alts.push({ ...a });
      else if (a.credit > have.credit) Object.assign(have, { credit: a.credit, via: a.via });
    }
  }
  return out;
}

/**
 * How chat names a person (老张, 小李, 老王): 老/小 and a common surname. The person is
 * the asker's case, never a term a passage holds, so such a word the index never saw is
 * no concept.
 */
const PERSON_REF = /^[老小][张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范廖贾夏韦邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵严覃戴莫孔汤]$/u;

/** A word holding a question word (由谁来, 咋搞, 啥样, 几号) asks; it does not name content. */
const QUESTION_WORD = /[谁啥咋怎哪]|什么|多少|多久|多长|几/;

/**
 * Answer types: what the question word asks for, and what a passage answering it contains.
 * Checked in order; the first whose question pattern matches is the question's type.
 */
export const ANSWER_TYPES: { name: string; ask: RegExp; pattern: RegExp }[] = [
  {
    name: '频次',
    ask: /(多久|多长时间|多少天|几天|几个月|多少年|几年)[^，。？！,?!\s]{0,4}(一次|一回|一趟)|几次|多少次|几回/,
    pattern: /每(年|季度|季|月|周|天|日|届)|[一二三四五六七八九十两\d]+次/,
  },
  {
    name: '金额',
    ask: /多少钱|几块钱|多少元|几元|多少万|[工薪]资.{0,6}多少|补贴.{0,6}多少|标准.{0,4}多少|拨多少|给多少|多少[^，。？！,?!\s]{0,3}(?:费|补贴|工资|报酬|经费)/,
    pattern: /\d+(\.\d+)?\s*(元|万元|块)|[一二三四五六七八九十百千万]+元/,
  },
  {
    // A calendar date; 最晚哪天 / 最迟哪一天 asks for a deadline (选举日的三日前, 当日或者次日): 期限.
    name: '日期',
    ask: /几月几[号日]|几号|(?<!最[晚迟早]|截止|截至)哪一?天|几月份|哪个月/,
    pattern: /\d+月\d+日|[一二三四五六七八九十]+月[一二三四五六七八九十]+日|\d{4}年\d+月/,
  },
  {
    name: '期限',
    ask: /几年|多少年|多久|多长时间|几天|多少天|几日|几个月|多少个月|什么时候|啥时候|何时|到啥时|到什么时|哪一?天/,
    pattern: /[一二三四五六七八九十两\d]+(年|日|天|个月|周岁)|届满|之前|以前|之日起|日内|当场|及时|随时/,
  },
  {
    // Who leads, guides or answers to whom (谁领导谁, 是什么关系, 是不是下级): a passage
    // stating such a relation answers; one only naming both bodies does not.
    name: '关系',
    ask: /谁领导谁|谁管谁|谁指导谁|归谁管|谁说了算|(什么|啥)关系|上下级|下级|上级/,
    pattern: /领导|指导|监督|负责|隶属|协助|派出机关|接受/,
  },
  {
    // A list asked for (哪些任务, 有哪几项, 包括什么): a passage laid out as a list answers.
    name: '列举',
    ask: /哪些|哪几|包括(哪|什么|啥)|都有(啥|什么|哪)/,
    pattern: /（[一二三四五六七八九十]）[^（]{0,200}（[二三四五六七八九十]）|[一二三四五六七八九十]是[\s\S]{0,300}[二三四五六七八九十]是|[一二三四五六七八九十]要[\s\S]{0,300}[二三四五六七八九十]要|(?:^|\n)\s*[1-9][、.][\s\S]{0,200}\n\s*[2-9][、.]/,
  },
  {
    name: '数量',
    ask: /多少|几个|几名|几人|几户|几票|几类|几种|几项|几成|占比|比例|几/,
    pattern: /过半数|半数|[一二三四五六七八九十百\d]+分之[一二三四五六七八九十\d]+|\d+(\.\d+)?(%|pct)|[一二三四五六七八九十百千两\d]+(人|名|户|票|个|项|类|种|条|阶段)|以上|以下|不得少于|多于|至[一二三四五六七八九十百\d]/,
  },
];

/** Weight of the answer-type concept, as a share of the mean weight of the question's words. */
export const ANSWER_TYPE_SHARE = 0.5;

/**
 * Units of a count a passage must state with a number (多少户 → 一百户至七百户). People and
 * votes are left out: 多少人才能开 is answered by a share (过半数), not by a number of people.
 */
const COUNT_UNIT = /(?:几|多少)(户|项|条|种|类)/;

export function answerTypeOf(text: string): (typeof ANSWER_TYPES)[number] | null {
  const t = ANSWER_TYPES.find((x) => x.ask.test(text)) ?? null;
  if (t?.name === '数量') {
    const unit = COUNT_UNIT.exec(text)?.[1];
    return unit ? { ...t, pattern: new RegExp(`[一二三四五六七八九十两百千万\\d]+${unit}`) } : t;
  }
  if (t?.name !== '期限') return t;
  // A duration asked in a unit (几年, 多少天, 几个月) is answered by a number of that unit:
  // 五年 answers 干几年; 之前 or 二十日 does not.
  const unit = /(?:几|多少)个?(年|天|日|月|周)/.exec(text)?.[1];
  if (!unit) return t;
  const u = unit === '天' || unit === '日' ? '[日天]' : unit === '月' ? '个?月' : unit;
  return { ...t, pattern: new RegExp(`[一二三四五六七八九十两半\\d]+${u}`) };
}

let abbreviationTerms: string[] | null = null;

function abbreviationOf(run: string): { len: number; term: string } | null {
  abbreviationTerms ??= [...new Set([...DOMAIN_TERMS, ...SYNONYM_GROUPS.flat()])].filter((t) => /^\p{Script=Han}{4,12}$/u.test(t));
  const chars = Array.from(run);
  for (let len = Math.min(6, chars.length); len >= 3; len--) {
    const s = chars.slice(0, len).join('');
    for (const t of abbreviationTerms) {
      const tc = Array.from(t);
      if (tc[0] !== chars[0] || tc.length <= len || tc.length > 2 * len || t.includes(s)) continue;
      let k = 0;
      let last = -1;
      for (let j = 0; j < tc.length && k < len; j++) if (tc[j] === chars[k]) (k++, (last = j));
      if (k === len && last >= tc.length - 2) return { len, term: t };
    }
  }
  return null;
}

/**
 * Abbreviations of domain terms (先审后换 → 先审计后换届, 双考双回 → 双考核双回头). Only where
 * the question has no known words: a run of single characters and words neither the index
 * nor the domain dictionary holds (two-character ones even if the general dictionary does),
 * of 3–6 characters, whose characters appear in order in a dictionary term
 * of at most twice its length that starts with the same character and ends within two
 * characters of the run's last one. Returns the segments with such runs replaced.
 */
export function expandAbbreviations(segments: string[], indexed: (w: string) => boolean = () => false): string[] {
  const loose = (w: string) =>
    /^\p{Script=Han}+$/u.test(w) && (Array.from(w).length === 1 || (!DOMAIN_TERM_SET.has(w) && !indexed(w) && (!isDictionaryWord(w) || w.length <= 2)));
  const out: string[] = [];
  for (let i = 0; i < segments.length; ) {
    if (!loose(segments[i]!)) {
      out.push(segments[i++]!);
      continue;
    }
    let j = i;
    while (j < segments.length && loose(segments[j]!)) j++;
    const run = segments.slice(i, j).join('');
    const chars = Array.from(run);
    let hitAny = false;
    let rest = '';
    for (let k = 0; k < chars.length; ) {
      const hit = chars.length - k >= 3 ? abbreviationOf(chars.slice(k).join('')) : null;
      if (hit) {
        if (rest) out.push(...cutWords(rest));
        rest = '';
        out.push(hit.term);
        hitAny = true;
        k += hit.len;
      } else rest += chars[k++];
    }
    if (!hitAny) out.push(...segments.slice(i, j));
    else if (rest) out.push(...cutWords(rest));
    i = j;
  }
  return out;
}

const NUMBER_WORD = /^([一二三四五六七八九十百千两\d]+)个?(年|日|天|人|名|个|户|岁|周岁|次|月|届)?$/;

/** Document frequency of an alternative: the word itself, or, when the index splits it, its rarest part. */
export function altDf(a: Alt, vocab: VocabularyView): number {
  const d = vocab.df(a.token);
  if (d > 0 || a.parts.length === 0) return d;
  const parts = a.parts.map((p) => vocab.df(p));
  return parts.every((x) => x > 0) ? Math.min(...parts) : 0;
}

/**
 * True when `word` is a word in its own right: the domain lexicon names it, or the general
 * dictionary lists it (at any frequency: 区市, 唱票人 are listed yet cut apart), or the
 * segmenter's general IDF table does (日内, 新老, 挺大). Such a word is never "corrected".
 */
export function isKnownWord(word: string): boolean {
  return DOMAIN_TERM_SET.has(word) || isDictionaryWord(word) || generalIdf(word) !== undefined || getJieba().cutAll(word).includes(word);
}

/**
 * True when the segmenter glued a character of a neighbouring word onto this one: its
 * first character ends a known word of three or more characters begun by the segment
 * before it (选举日 in 选举日定在几号 → 日定), or its last character begins one with the
 * segment after it. Such a word is two words' pieces, not a misspelling.
 */
export function fusedAcross(word: string, segments: string[]): boolean {
  const i = segments.indexOf(word);
  if (i < 0) return false;
  const chars = Array.from(word);
  const prev = Array.from(segments[i - 1] ?? '');
  const next = Array.from(segments[i + 1] ?? '');
  for (let k = 2; k <= Math.min(4, prev.length); k++) if (isKnownWord(prev.slice(-k).join('') + chars[0])) return true;
  for (let k = 2; k <= Math.min(4, next.length); k++) if (isKnownWord(chars[chars.length - 1] + next.slice(0, k).join(''))) return true;
  return false;
}

let lexiconText: string | null = null;

/**
 * True when `word` is a lexicon word or part of one (名单 in 选民名单, 主任 in 村民委员会主任).
 * Corrections exist to reach the domain terms users misspell; a general word the index
 * happens to hold (打击, 指定, 设区) is more often the segmenter's fusion of two words
 * (打叉, 日定, 设行) than the word meant.
 */
function inLexicon(word: string): boolean {
  lexiconText ??= `|${[...DOMAIN_TERM_SET].join('|')}|`;
  return lexiconText.includes(word);
}

/**
 * A same-length indexed word one character away from `word` that co-occurs with the
 * question's other words. Only an unknown word is corrected, and only into a known
 * domain word: a correct word must never be replaced by another.
 */
export function typoCorrection(word: string, concepts: Concept[], rest: string[], vocab: VocabularyView): string | undefined {
  if (isKnownWord(word)) return undefined;
  const ctx = [...concepts.flatMap((c) => c.alts.map((a) => a.token)), ...rest].filter((t) => vocab.df(t) > 0);
  const best = vocab
    .oneCharAway(word)
    .map((t) => ({ t, co: vocab.cooccurrence(t, ctx), df: vocab.df(t) }))
    .filter((x) => x.co > 0 && isKnownWord(x.t) && inLexicon(x.t))
    // Share of the candidate's passages that share the question's context: a common word
    // (明确) co-occurs often but in a small share; the intended one (名单) mostly in context.
    .sort((a, b) => b.co / b.df - a.co / a.df || b.co - a.co)[0];
  return best?.t;
}

export function analyzeQuestion(raw: string, vocab: VocabularyView): AnalyzedQuery {
  const text = normalizeQuestion(raw, MAX_QUERY_CHARS);
  const answerType = answerTypeOf(text);
  // A-not-A questions (管不管, 变不变, 违不违反, 有没有) ask whether A: keep A.
  let rewritten = text.replace(/(\p{Script=Han})[不没]\1/gu, '$1');
  for (const [re, rep] of PHRASE_REWRITES) rewritten = rewritten.replace(re, rep);

  const seen = new Set<string>();
  const concepts: Concept[] = [];
  const n = Math.max(vocab.size, 1);
  const maxIdf = idf(0, n);
  const queue = expandAbbreviations(cutWords(rewritten), (w) => vocab.df(w) > 0).map((w) => ({ word: w.toLowerCase(), split: false }));
  const segments = queue.map((q) => q.word);
  while (queue.length) {
    const { word, split } = queue.shift()!;
    if (seen.has(word) || QUESTION_STOPWORDS.has(word) || SCAFFOLD.test(word) || functionOnly(word)) continue;
    if (QUESTION_WORD.test(word) && synonymsOf(word).length === 0 && !DOMAIN_TERM_SET.has(word)) continue;
    if (!/[\p{L}\p{N}]/u.test(word)) continue;
    if (PERSON_REF.test(word) && vocab.df(word) === 0) continue;
    seen.add(word);
    const syns = synonymsOf(word);
    const single = /^\p{Script=Han}$/u.test(word);
    // A single character is not indexed; it counts through a synonym (住 → 居住), or, when
    // it is a content word the question hinges on (刻, 评, 补), on the passage text.
    if (single && syns.length === 0) {
      if (!LIGHT_CHARS.test(word) && !FUNCTION_CHARS.test(word) && CONTENT_POS.test(tagOf(word))) concepts.push({ word, alts: [], weight: 0, char: word });
      continue;
    }
    const alts: Alt[] = single ? [] : altOf(word, 1, 'word');
    // A synonym that is part of the word is its generic form (村民代表 → 代表, 四必查 → 必查):
    // it counts less, or every 代表 would pass for a 村民代表.
    for (const s of syns) if (!/^\p{Script=Han}$/u.test(s)) alts.push(...altOf(s, word.includes(s) ? GENERIC_CREDIT : 0.8, 'synonym'));
    if (alts.length === 0) continue;
    const han = /^\p{Script=Han}{2,6}$/u.test(word);
    const vc = VERB_COMPLEMENT.exec(word);
    if (vc && syns.length === 0 && vocab.df(word) === 0 && !split) {
      seen.delete(word);
      queue.unshift({ word: vc[1]!, split: true });
      continue;
    }
    if (han && syns.length === 0 && vocab.df(word) === 0 && !isDictionaryWord(word)) {
      // A word the segmenter's HMM invented and the index never saw: a typo (明单, 罢勉)
      // or a fusion of function words (人能). Try a one-character correction first.
      const fix = !split && !FUNCTION_CHARS.test(word) && !fusedAcross(word, segments) ? typoCorrection(word, concepts, queue.map((q) => q.word), vocab) : undefined;
      if (fix) {
        alts.push(...altOf(fix, 0.8, 'typo'));
      } else if (!split) {
        const pieces = dictionaryPieces(word);
        if (pieces.length > 1) {
          seen.delete(word);
          queue.unshift(...pieces.map((p) => ({ word: p.toLowerCase(), split: true })));
          continue;
        }
      }
    }
    if (han && word.length >= 3 && vocab.df(word) === 0 && alts.every((a) => altDf(a, vocab) === 0)) {
      // A compound the index never saw whole (请客吃饭, 乡镇政府): its known parts of two or
      // more characters stand for it, each at part credit.
      for (const p of searchParts(word)) if (p !== word && p.length >= 2 && vocab.df(p) > 0) alts.push({ token: p, parts: [], credit: 0.7, via: 'part' });
    }
    concepts.push({ word, alts, weight: 0 });
  }

  const merged = mergeSameConcepts(concepts);
  concepts.length = 0;
  concepts.push(...merged);
  // In a long message, words only its narrative holds count less (and are weighed last).
  const narrative = narrativeWords(text);
  const examples = exampleWords(text);
  // Examples count little only when the index never saw them (修路); ones it knows (调解) match.
  const isNarrative = (c: Concept) => (!!narrative && narrative.has(c.word)) || (examples.has(c.word) && c.alts.every((a) => altDf(a, vocab) === 0));
  const order = [...concepts].sort((a, b) => Number(isNarrative(a)) - Number(isNarrative(b)));

  // Weights: the IDF of the user's own word, or of the spelling the index knows; a
  // word the index has never seen counts as rare (it may be what the library lacks).
  let unseen = 0;
  for (const c of order) {
    if (c.char) {
      const d = vocab.charDf(c.char);
      // A character most passages hold says little; one no passage holds is unseen like a word.
      c.weight = d > 0 ? CHAR_WEIGHT * idf(d, n) : (maxIdf * topicality(c.word)) / ++unseen;
      if (isNarrative(c)) c.weight *= NARRATIVE_SHARE;
      continue;
    }
    const dfs = c.alts.map((a) => altDf(a, vocab)).filter((d) => d > 0);
    const directDf = c.alts[0] ? altDf(c.alts[0], vocab) : 0;
    const df = directDf > 0 ? directDf : dfs.length ? Math.max(...dfs) : 0;
    c.weight = df > 0 ? idf(df, n) : maxIdf;
    // A quantity the user states (住了两年) is their situation, not a term the library must contain.
    if (df === 0 && NUMBER_WORD.test(c.word)) c.weight *= 0.3;
    else if (df === 0 && REDUPLICATED.test(c.word)) c.weight *= EVERYDAY_FLOOR;
    else if (QUALIFIER.test(c.word)) c.weight *= 0.5;
    else if (df === 0) {
      // The first word the index never saw may be what the library lacks (工资, 宽带); each
      // further one is more likely phrasing (天天, 上门, 倒霉 in a long message): 1, 1/2, 1/3…
      // An everyday word (大家, 事情, 材料) is phrasing more often than a topic.
      unseen++;
      c.weight = (c.weight * topicality(c.word)) / unseen;
    }
    if (isNarrative(c)) c.weight *= NARRATIVE_SHARE;
  }
  // The answer type counts like an average content word: a passage holding the kind of
  // fact asked for (a number of days, a share of voters) answers better than one that
  // only names the topic; a library that never states such a fact (工资多少钱) covers less.
  if (answerType && concepts.length > 0) {
    const mean = concepts.reduce((s2, c) => s2 + c.weight, 0) / concepts.length;
    concepts.push({ word: `#${answerType.name}`, alts: [], weight: ANSWER_TYPE_SHARE * mean, answerType: { name: answerType.name, pattern: answerType.pattern } });
  }

  // Search tokens: each spelling the index knows (or, when it splits a phrase, its parts).
  // Words in a fifth or more of all passages are left to the re-ranking: in an OR query
  // they only make the engine score most of the index.
  const wordTokens = new Set<string>();
  const common = Math.max(50, n * COMMON_SHARE);
  for (const c of concepts)
    for (const a of c.alts) {
      const toks = vocab.df(a.token) > 0 ? [a.token] : a.parts;
      for (const t of toks) if (vocab.df(t) > 0 && vocab.df(t) <= common) wordTokens.add(t);
    }
  // The OR query's cost grows with the postings it reads: the rarest tokens are searched.
  const searched = [...wordTokens].sort((a, b) => vocab.df(a) - vocab.df(b)).slice(0, MAX_WORD_TOKENS);
  return { text, answerType: answerType?.name ?? null, concepts, wordTokens: searched, grams: [...new Set(charBigrams(text))].slice(0, 40) };
}
