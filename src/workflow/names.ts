/**
 * Forgiving name matching for chat input: 城西 → 城西村, 沁河 → 沁河镇, a typo
 * gets "您是不是要找: …". Exact matches win; then the name without its
 * administrative suffix; then unique prefixes; nothing is ever guessed when two
 * candidates fit equally.
 */

export interface NameCandidate<T> {
  value: T;
  /** How it is shown in suggestions (unique among the candidates). */
  label: string;
  /** Names that identify it. */
  names: string[];
}

export type MatchResult<T> =
  | { kind: 'found'; value: T }
  | { kind: 'ambiguous'; options: string[] }
  | { kind: 'none'; suggestions: string[] };

const SUFFIXES = ['居委会', '村委会', '街道办', '社区', '街道', '村', '镇', '乡', '县', '区', '市'];

/**
 * Invisible format characters (Unicode Cf): zero-width space and joiners
 * U+200B–U+200D, marks U+200E/U+200F, bidi controls U+202A–U+202E and
 * U+2066–U+2069, word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD. A name
 * copied from a web page or a chat carries them and prints like the name without.
 */
const INVISIBLE = /\p{Cf}/gu;

/**
 * The one form of a name everywhere (import cells, chat commands): NFKC
 * (full-width letters and digits to half-width), invisible format characters
 * removed, outer blanks trimmed. The knowledge code has its own text
 * normalisation (src/knowledge); this is for names of places and people.
 */
export function cleanName(s: string): string {
  return stripInvisible(s.normalize('NFKC')).trim();
}

/** `s` without invisible format characters (also what chat input is cleaned of, handlers/commands.ts). */
export function stripInvisible(s: string): string {
  return s.replace(INVISIBLE, '');
}

/** The invisible characters in `s`, each once, as U+XXXX (for messages); empty when none. */
export function invisibleChars(s: string): string[] {
  return [...new Set(s.match(INVISIBLE) ?? [])].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
}

/** A Chinese name for an invisible character found by invisibleChars (e.g. 零宽空格 U+200B). */
export function invisibleLabel(code: string): string {
  const cp = parseInt(code.slice(2), 16);
  const name =
    cp === 0x200b ? '零宽空格' : cp === 0x00ad ? '软连字符' : cp === 0xfeff ? '零宽不换行空格' : cp === 0x2060 ? '零宽连接符' : cp === 0x200c || cp === 0x200d ? '零宽连接符' : (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ? '文字方向控制符' : '格式控制符';
  return `${name} ${code}`;
}

/** Canonical form for comparison: cleanName, lower case, no spaces or punctuation. */
export function canonicalName(s: string): string {
  return cleanName(s)
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, '');
}

/**
 * Items by the canonical form of each of their names, each item once per form:
 * exact-name lookups without scanning every candidate (a province has 30,000
 * villages). One hit is what matchName's first tier would find.
 */
export function exactNameIndex<T>(items: readonly T[], names: (item: T) => string[]): Map<string, T[]> {
  const index = new Map<string, T[]>();
  for (const item of items) {
    for (const n of new Set(names(item).map(canonicalName))) {
      const l = index.get(n);
      if (l) l.push(item);
      else index.set(n, [item]);
    }
  }
  return index;
}

/** The name without a trailing administrative suffix (城西村 → 城西). */
export function stripSuffix(s: string): string {
  const c = canonicalName(s);
  for (const suf of SUFFIXES) if (c.length > suf.length && c.endsWith(suf)) return c.slice(0, -suf.length);
  return c;
}

/** Levenshtein distance over code points (names are short). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

export function matchName<T>(input: string, candidates: readonly NameCandidate<T>[], opts: { maxSuggestions?: number } = {}): MatchResult<T> {
  const q = canonicalName(input);
  const qs = stripSuffix(input);
  if (!q) return { kind: 'none', suggestions: [] };
  const pick = (pred: (n: string) => boolean): NameCandidate<T>[] => {
    const hits = candidates.filter((c) => c.names.some(pred));
    return dedupe(hits);
  };
  const tiers = [
    pick((n) => canonicalName(n) === q),
    pick((n) => stripSuffix(n) === qs),
    qs.length >= 2 ? pick((n) => canonicalName(n).startsWith(q)) : [],
  ];
  for (const hits of tiers) {
    if (hits.length === 1) return { kind: 'found', value: hits[0]!.value };
    if (hits.length > 1) return { kind: 'ambiguous', options: hits.map((h) => h.label).slice(0, 8) };
  }
  // Suggestions: close by edit distance on the stripped form, or sharing most characters.
  const scored = candidates
    .map((c) => {
      let best = Infinity;
      for (const n of c.names) {
        const s = stripSuffix(n);
        const d = editDistance(qs, s);
        const common = [...new Set(qs)].filter((ch) => s.includes(ch)).length;
        const score = Math.min(d, common >= 2 ? Math.max(qs.length, s.length) - common : Infinity);
        best = Math.min(best, score);
      }
      return { c, best };
    })
    .filter((x) => x.best <= Math.max(1, Math.floor(qs.length / 2)))
    .sort((a, b) => a.best - b.best);
  return { kind: 'none', suggestions: dedupe(scored.map((x) => x.c)).map((c) => c.label).slice(0, opts.maxSuggestions ?? 5) };
}

function dedupe<T>(xs: NameCandidate<T>[]): NameCandidate<T>[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = x.label;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** "您是不是要找：A、B？" or an empty string. */
export function suggestionText(suggestions: readonly string[]): string {
  return suggestions.length ? `您是不是要找：${suggestions.join('、')}？` : '';
}
