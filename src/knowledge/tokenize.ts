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

/**
 * The segmenter's idf.txt ("word idf" per line, 270k lines) looked up in place: an open-addressing
 * table of line offsets keyed by an FNV-1a hash of the word's UTF-8 bytes, the value parsed on
 * lookup. A Map of the same entries held ≈ 60 MB and took ≈ 0.5 s to build on the first question;
 * this adds 2 MB to the file bytes the dict module keeps anyway and builds in a few tens of ms.
 * Same answers as that Map: the first space ends the word, a repeated word keeps its last line.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

class IdfTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private scratch = new Uint8Array(256);
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(private readonly bytes: Uint8Array) {
    let lines = 1;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lines++;
    let size = 1;
    while (size < lines * 2) size <<= 1;
    this.slots = new Int32Array(size); // line start + 1; 0 = empty
    this.mask = size - 1;
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      const sp = bytes.indexOf(0x20, start);
      if (sp > start && sp < end) this.insert(start, sp - start);
      start = end + 1;
    }
  }

  private static hash(b: Uint8Array, from: number, len: number): number {
    let h = 0x811c9dc5;
    for (let i = from; i < from + len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h >>> 0;
  }

  /** True when the line starting at `line` holds exactly the word b[from, from + len) before its first space. */
  private wordAt(line: number, b: Uint8Array, from: number, len: number): boolean {
    if (this.bytes[line + len] !== 0x20) return false;
    for (let i = 0; i < len; i++) if (this.bytes[line + i] !== b[from + i]) return false;
    return true;
  }

  private insert(line: number, len: number): void {
    for (let i = IdfTable.hash(this.bytes, line, len) & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.slots[i]!;
      if (at === 0 || this.wordAt(at - 1, this.bytes, line, len)) {
        this.slots[i] = line + 1;
        return;
      }
    }
  }

  get(word: string): number | undefined {
    // A lone surrogate would encode as U+FFFD and could match a line it is not.
    if (word === '' || LONE_SURROGATE.test(word)) return undefined;
    if (this.scratch.length < word.length * 3) this.scratch = new Uint8Array(word.length * 3);
    const len = this.encoder.encodeInto(word, this.scratch).written;
    for (let i = IdfTable.hash(this.scratch, 0, len) & this.mask; ; i = (i + 1) & this.mask) {
      const at = this.slots[i]!;
      if (at === 0) return undefined;
      if (this.wordAt(at - 1, this.scratch, 0, len)) {
        const from = at - 1 + len + 1;
        let end = this.bytes.indexOf(0x0a, from);
        if (end < 0) end = this.bytes.length;
        return Number(this.decoder.decode(this.bytes.subarray(from, end)));
      }
    }
  }
}

let generalIdfs: IdfTable | null = null;

/**
 * A word's IDF in general Chinese text (the segmenter's own idf.txt), or undefined when
 * the word is not listed. Everyday words (大家 4.9, 事情 4.9, 材料 5.7) score low, topical
 * ones (宽带 9.6, 低保 10.4, 公证 9.7) high: a prior for words the library never uses.
 */
export function generalIdf(word: string): number | undefined {
  generalIdfs ??= new IdfTable(generalIdfFile);
  return generalIdfs.get(word);
}
