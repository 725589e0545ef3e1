import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

/**
 * The domain lexicon (src/knowledge/lexicon.tsv): terms the segmenter keeps whole,
 * synonym groups, colloquial → legal word expansions and phrase rewrites. It is data —
 * reviewed glossary entries with a reason each — read once at start, so adding a word
 * is an edit to one file, not to code.
 */

export type LexiconKind = 'term' | 'synonym' | 'colloquial' | 'rewrite';

export interface LexiconEntry {
  /** The user's (or the shorter/colloquial) wording; for a term, the term itself. */
  colloquial: string;
  /** The documents' wording: one word (synonym), alternatives split by | (colloquial), the replacement (rewrite); '-' for a term. */
  legal: string;
  kind: LexiconKind;
  reason: string;
  line: number;
}

const KINDS = new Set<LexiconKind>(['term', 'synonym', 'colloquial', 'rewrite']);

export const LEXICON_FILE = fileURLToPath(new URL('./lexicon.tsv', import.meta.url));

/** A line of the lexicon that cannot be read: names the file and the line, and says what is wrong. */
export class LexiconError extends AppError {
  constructor(
    public readonly file: string,
    public readonly line: number,
    problem: string,
  ) {
    super('internal', `词表 ${file} 第 ${line} 行有误：${problem}`);
    this.name = 'LexiconError';
  }
}

/** A word of the lexicon: Han, letters, digits and the few marks the documents use inside terms. */
const WORD = /^[\p{Script=Han}\p{L}\p{N}、%]+$/u;

/**
 * Parses the lexicon text. Blank lines and lines starting with # are skipped; every other
 * line has four tab-separated columns. Throws LexiconError naming the first bad line.
 */
export function parseLexicon(text: string, file = 'lexicon.tsv'): LexiconEntry[] {
  const out: LexiconEntry[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim() || raw.trimStart().startsWith('#')) return;
    const cols = raw.split('\t').map((c) => c.trim());
    const bad = (problem: string): never => {
      throw new LexiconError(file, line, problem);
    };
    if (cols.length !== 4) bad(`应有 4 列（用 Tab 分隔），实有 ${cols.length} 列`);
    const [colloquial, legal, kind, reason] = cols as [string, string, string, string];
    if (!KINDS.has(kind as LexiconKind)) bad(`类别“${kind}”不认识（应为 term、synonym、colloquial 或 rewrite）`);
    if (!reason) bad('缺少来源或理由（第 4 列）');
    if (!colloquial) bad('第 1 列为空');
    const k = kind as LexiconKind;
    if (k === 'term') {
      if (legal !== '-' && legal !== '') bad('术语（term）的第 2 列应为 -');
      if (!WORD.test(colloquial)) bad(`术语“${colloquial}”含有不能检索的字符`);
    } else {
      if (!legal || legal === '-') bad('第 2 列为空');
      const targets = k === 'colloquial' ? legal.split('|') : k === 'rewrite' ? legal.split(/\s+/) : [legal];
      for (const t of targets) if (!WORD.test(t)) bad(`“${t}”含有不能检索的字符`);
      if (k !== 'colloquial' && legal.includes('|')) bad('只有 colloquial 的第 2 列可以用 | 列几个');
      if (targets.includes(colloquial)) bad(`两侧相同（“${colloquial}”）：这一行不起作用`);
      if (k === 'rewrite' ? !/^[^…]+(…[^…]+)*$/u.test(colloquial) : !WORD.test(colloquial)) bad(`“${colloquial}”含有不能检索的字符`);
    }
    const key = `${colloquial}\t${legal}\t${k}`;
    const dup = seen.get(key);
    if (dup) bad(`与第 ${dup} 行重复`);
    seen.set(key, line);
    out.push({ colloquial, legal: k === 'term' ? '-' : legal, kind: k, reason, line });
  });
  return out;
}

let loaded: LexiconEntry[] | null = null;

/** The lexicon shipped with the code, read once. */
export function lexicon(): LexiconEntry[] {
  loaded ??= parseLexicon(readFileSync(LEXICON_FILE, 'utf8'), 'src/knowledge/lexicon.tsv');
  return loaded;
}

export interface CompiledLexicon {
  terms: string[];
  /** Synonym groups, the documents' wording first. */
  groups: string[][];
  /** Colloquial word → the legal words it also searches for (one way). */
  colloquial: Map<string, string[]>;
  /** Phrase rewrites, longest phrase first. */
  rewrites: [RegExp, string][];
}

/** Turns entries into the tables query analysis uses. */
export function compileLexicon(entries: LexiconEntry[]): CompiledLexicon {
  const terms: string[] = [];
  const groups = new Map<string, string[]>();
  const colloquial = new Map<string, string[]>();
  const rewrites: { phrase: string; re: RegExp; rep: string }[] = [];
  for (const e of entries) {
    if (e.kind === 'term') {
      if (!terms.includes(e.colloquial)) terms.push(e.colloquial);
    } else if (e.kind === 'synonym') {
      const g = groups.get(e.legal) ?? [e.legal];
      if (!g.includes(e.colloquial)) g.push(e.colloquial);
      groups.set(e.legal, g);
    } else if (e.kind === 'colloquial') {
      const list = colloquial.get(e.colloquial) ?? [];
      for (const t of e.legal.split('|')) if (!list.includes(t)) list.push(t);
      colloquial.set(e.colloquial, list);
    } else {
      const pattern = e.colloquial
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.{0,3}');
      rewrites.push({ phrase: e.colloquial, re: new RegExp(pattern, 'gu'), rep: ` ${e.legal} ` });
    }
  }
  // Longest first, so 连着干 is rewritten before 连着 and 选上了 before 选上.
  rewrites.sort((a, b) => b.phrase.replace('…', '').length - a.phrase.replace('…', '').length);
  return { terms, groups: [...groups.values()], colloquial, rewrites: rewrites.map((r) => [r.re, r.rep]) };
}
