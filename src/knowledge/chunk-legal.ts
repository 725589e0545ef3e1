import type { ChunkDraft } from './chunk-types.js';
import { ARABIC_ITEM, CN_ORDINAL_HEADING, ARTICLE_START, LEGAL_HEADING, PAREN_ORDINAL, SHI_ITEM_LINE, cnToNumber } from './structure.js';

/**
 * Legal texts: 编/章/节 headings set the path, each 第X条 is one chunk holding all of
 * its paragraphs and (一)/1. items, so a citation names the article and quotes it whole.
 * Text before the first article (title, adoption history) becomes a 题注 chunk.
 */
export function chunkLegal(body: string, title: string): ChunkDraft[] {
  const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
  const levels: Record<string, string | undefined> = {};
  const order = ['编', '分编', '章', '节'];
  const out: ChunkDraft[] = [];
  const preamble: string[] = [];
  let cur: { locator: string; path: string[]; lines: string[] } | null = null;
  const flush = () => {
    if (cur) out.push({ locator: cur.locator, headingPath: cur.path, text: cur.lines.join('\n'), kind: 'article', part: 0 });
    cur = null;
  };
  for (const line of lines) {
    const h = LEGAL_HEADING.exec(line);
    if (h && line.length <= 40) {
      flush();
      const lvl = h[1]!;
      levels[lvl] = line;
      for (const deeper of order.slice(order.indexOf(lvl) + 1)) levels[deeper] = undefined;
      continue;
    }
    const a = ARTICLE_START.exec(line);
    if (a) {
      flush();
      cur = { locator: a[1]!, path: order.map((k) => levels[k]).filter((v): v is string => !!v), lines: [line] };
    } else if (cur) (cur as { lines: string[] }).lines.push(line);
    else preamble.push(line);
  }
  flush();
  const pre = dropTitleLines(preamble, title);
  if (pre.length) out.unshift({ locator: '题注', headingPath: [], text: pre.join('\n'), kind: 'preamble', part: 0 });
  return out;
}

/** Counts the lines that start an article; three or more make a legal text. */
export function countArticles(body: string): number {
  let n = 0;
  for (const l of body.split('\n')) if (ARTICLE_START.test(l.trim())) n++;
  return n;
}

type ItemFamily = 'shi' | 'arabic' | 'paren';
const FAMILY_RE: Record<ItemFamily, RegExp> = { shi: SHI_ITEM_LINE, arabic: ARABIC_ITEM, paren: PAREN_ORDINAL };

/** The enumeration style most used at line starts, if a document is mainly a list. */
export function dominantItemFamily(body: string): ItemFamily | null {
  const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
  let best: { fam: ItemFamily; n: number; chars: number } | null = null;
  for (const fam of Object.keys(FAMILY_RE) as ItemFamily[]) {
    let n = 0;
    let chars = 0;
    for (const l of lines) if (FAMILY_RE[fam].test(l)) {
      n++;
      chars += l.length;
    }
    if (n >= 3 && (!best || n > best.n)) best = { fam, n, chars };
  }
  const total = lines.reduce((s, l) => s + l.length, 0);
  // A list of short items (a negative list, a notice), not a speech whose sections happen to be numbered.
  if (!best || best.chars < total * 0.35 || best.chars / best.n > 160) return null;
  if (lines.some((l) => CN_ORDINAL_HEADING.test(l) && l.length <= 40)) return null;
  return best.fam;
}

/**
 * Notices and negative lists laid out as one item per line (一是…; 1、严禁…; (一)…):
 * each item is a chunk, the sentence introducing the list is kept as its lead, and
 * text after the last item (signature, hotline) is its own 落款 chunk.
 */
export function chunkEnumerated(body: string, title: string, fam: ItemFamily): ChunkDraft[] {
  const re = FAMILY_RE[fam];
  const lines = dropTitleLines(body.split('\n').map((l) => l.trim()).filter(Boolean), title);
  const out: ChunkDraft[] = [];
  const intro: string[] = [];
  const closing: string[] = [];
  let lead: string | undefined;
  let seenItem = false;
  let lastItem: ChunkDraft | null = null;
  for (const line of lines) {
    const m = re.exec(line);
    if (m) {
      seenItem = true;
      if (closing.length) {
        // Text between items belonged to the previous item after all.
        if (lastItem) lastItem.text += '\n' + closing.splice(0).join('\n');
      }
      const n = cnToNumber(m[1]!);
      lastItem = { locator: `第${Number.isFinite(n) ? n : m[1]}项`, headingPath: [], lead, text: line, kind: 'item', part: 0 };
      out.push(lastItem);
    } else if (!seenItem) {
      intro.push(line);
      if (/[：:]$/.test(line)) lead = lastSentence(line);
    } else closing.push(line);
  }
  if (intro.length) out.unshift({ locator: '开头', headingPath: [], text: intro.join('\n'), kind: 'preamble', part: 0 });
  if (closing.length) out.push({ locator: '落款', headingPath: [], text: closing.join('\n'), kind: 'paragraph', part: 0 });
  return out;
}

function lastSentence(line: string): string {
  const parts = line.split(/(?<=[。！？])/);
  return parts[parts.length - 1]!.trim();
}

/** Lines that only repeat the document's title carry nothing to retrieve. */
export function dropTitleLines(lines: string[], title: string): string[] {
  const t = title.replace(/[\s（）()]/g, '');
  return lines.filter((l) => {
    const s = l.replace(/[\s（）()]/g, '');
    return !(s.length > 0 && (s === t || (t.includes(s) && s.length >= 6)));
  });
}
