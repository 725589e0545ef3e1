import { createHash } from 'node:crypto';
import { Jieba } from '@node-rs/jieba';
import { dict, idf as generalIdfFile } from '@node-rs/jieba/dict.js';
import { DOMAIN_TERMS, SYNONYM_GROUPS } from './synonyms.js';
import { CN_NUM, cnToNumber } from './structure.js';

/**
 * Tokenisation shared by the index and the query: jieba with the domain dictionary,
 * tokens made safe for FTS5 unicode61 (letters and digits only), Chinese numerals
 * given an Arabic twin (五年 ↔ 5年) so either spelling finds the other.
 */
let jieba: Jieba | null = null;

export function getJieba(): Jieba {
  if (!jieba) {
    const j = Jieba.withDict(dict);
    const words = new Set<string>(DOMAIN_TERMS);
    for (const g of SYNONYM_GROUPS) for (const w of g) if (/^\p{Script=Han}{2,8}$/u.test(w)) words.add(w);
    // High frequency so the segmenter keeps the terms whole rather than splitting them.
    j.loadDict(Buffer.from([...words].map((w) => `${w} 20000 n`).join('\n')));
    jieba = j;
  }
  return jieba;
}

/** Changes whenever segmentation would: stored tokens made under another signature are rebuilt. */
export const TOKENIZER_SIGNATURE = createHash('sha1')
  .update(JSON.stringify(['v1', DOMAIN_TERMS, SYNONYM_GROUPS]))
  .digest('hex')
  .slice(0, 16);

const UNIT = '(年|日|天|人|名|个|户|岁|周岁|项|条|次|票|倍|月)';
const NUM_UNIT = new RegExp(`^(${CN_NUM}|\\d+)${UNIT}$`);

/** Maps a raw segment to its FTS-safe form(s); empty when the segment carries nothing searchable. */
export function tokenForms(seg: string): string[] {
  let t = seg.trim().toLowerCase();
  if (!t) return [];
  t = t.replace(/%|％/g, 'pct');
  // Keep letters, digits and Han; anything else would be split again by unicode61.
  t = t.replace(/[^\p{L}\p{N}]/gu, '');
  if (!t) return [];
  const forms = [t];
  const m = NUM_UNIT.exec(t);
  if (m) {
    const n = cnToNumber(m[1]!);
    const unit = m[2] === '天' ? '日' : m[2]!;
    if (Number.isFinite(n)) {
      const canon = `${n}${unit}`;
      if (canon !== t) forms.push(canon);
    }
  }
  return forms;
}

function isSingleHan(t: string): boolean {
  return /^\p{Script=Han}$/u.test(t);
}

/**
 * A segment's index forms, cached: a library repeats the same few ten thousand segments, and
 * the regular expressions of tokenForms per occurrence cost more than jieba itself (ingest
 * profile, issue 15). Bounded: cleared when full, so a huge file cannot grow it without end.
 */
const indexForms = new Map<string, readonly string[]>();
const INDEX_FORMS_MAX = 100_000;

function indexFormsOf(seg: string): readonly string[] {
  let f = indexForms.get(seg);
  if (f === undefined) {
    f = tokenForms(seg).filter((x) => !isSingleHan(x));
    if (indexForms.size >= INDEX_FORMS_MAX) indexForms.clear();
    indexForms.set(seg, f);
  }
  return f;
}

/** Last characters of the units NUM_UNIT knows (年 日 天 人 … 周岁 月): only such words can get a twin. */
const UNIT_LAST = new Set(Array.from('年日天人名个户岁项条次票倍月'));

/**
 * True when tokenForms(seg) is exactly [seg] and seg is kept: two or more common Han characters
 * (U+4E00–U+9FA5, all letters; no case, no %), not ending in a unit. Most segments are; this
 * check is cheaper than the cache's hashing of a fresh string.
 */
function plainHanWord(seg: string): boolean {
  const n = seg.length;
  if (n < 2) return false;
  for (let i = 0; i < n; i++) {
    const c = seg.charCodeAt(i);
    if (c < 0x4e00 || c > 0x9fa5) return false;
  }
  return !UNIT_LAST.has(seg[n - 1]!);
}

/** Tokens for the index: search-mode segmentation (words and their parts), single Han characters dropped. */
export function indexTokens(text: string): string[] {
  const out: string[] = [];
  for (const seg of getJieba().cutForSearch(text, true)) {
    if (plainHanWord(seg)) out.push(seg);
    else for (const f of indexFormsOf(seg)) out.push(f);
  }
  return out;
}

/** Coarse segmentation of a question into words (each word later becomes one concept). */
export function cutWords(text: string): string[] {
  return getJieba()
    .cut(text, true)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** True when the word is in the dictionary (without HMM the segmenter keeps it whole). */
export function isDictionaryWord(word: string): boolean {
  return getJieba().cut(word, false).length === 1;
}

/** Part of speech the dictionary gives a word on its own (v, n, p…). */
export function tagOf(word: string): string {
  return getJieba().tag(word, false)[0]?.tag ?? '';
}

/** Dictionary-only segmentation of a word the HMM invented (人能 → 人 / 能). */
export function dictionaryPieces(word: string): string[] {
  return getJieba().cut(word, false);
}

/** Search-mode parts of one word (村委会 → 村委, 委会, 村委会), FTS-safe, single Han characters dropped. */
export function searchParts(word: string): string[] {
  const out = new Set<string>();
  for (const seg of getJieba().cutForSearch(word, true)) for (const f of tokenForms(seg)) if (!isSingleHan(f)) out.add(f);
  return [...out];
}

/** Overlapping Han character bigrams, plus alphanumeric runs, for the typo-tolerant channel. */
export function charBigrams(text: string): string[] {
  const out: string[] = [];
  for (const run of text.toLowerCase().match(/[\p{Script=Han}]+|[a-z0-9]+/gu) ?? []) {
    if (/^[a-z0-9]+$/.test(run)) {
      out.push(run);
      continue;
    }
    const chars = Array.from(run);
    if (chars.length === 1) continue;
    for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  }
  return out;
}

/** Quotes a token for FTS5 MATCH so no user input can be read as query syntax. */
export function ftsQuote(token: string): string {
  return `"${token.replace(/"/g, '""')}"`;
}

let generalIdfs: Map<string, number> | null = null;

/**
 * A word's IDF in general Chinese text (the segmenter's own idf.txt), or undefined when
 * the word is not listed. Everyday words (大家 4.9, 事情 4.9, 材料 5.7) score low, topical
 * ones (宽带 9.6, 低保 10.4, 公证 9.7) high: a prior for words the library never uses.
 */
export function generalIdf(word: string): number | undefined {
  if (!generalIdfs) {
    const m = new Map<string, number>();
    for (const line of Buffer.from(generalIdfFile).toString('utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    generalIdfs = m;
  }
  return generalIdfs.get(word);
}
