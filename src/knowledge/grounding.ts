import { normalizeNumbers, QUANTITY_UNITS } from './numerals.js';

/**
 * Is a generated answer supported by the passages it cites? Every sentence must cite
 * a passage it was shown ([n]); every article number (第N条), law title (《…》) and
 * quantity it states must be found in the passages that sentence cites, whatever
 * numerals either side uses; and a clause must not turn the rule of the cited clause
 * around (不得 ↔ 可以, 应当 ↔ 不必). Anything unsupported rejects the whole answer.
 */

/** What a cited passage offers to support a claim: what the prompt showed for it. */
export interface GroundingSource {
  text: string;
  title?: string;
  locator?: string;
  version?: string | null;
}

export type GroundingReason = 'empty' | 'uncited' | 'unknown_citation' | 'article' | 'title' | 'quantity' | 'modality';

export type GroundingResult = { ok: true; cited: number[] } | { ok: false; reason: GroundingReason; detail: string };

/** Sentences of an answer; markers written after the full stop (…公布。[1]) stay with their sentence. */
export function answerSentences(answer: string): string[] {
  return answer
    .split(/(?<=[。！？；!?;](?:\s*\[\d+\])*)(?!\s*\[\d)/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/\[\d+\]/g, '').replace(/[\s\p{P}]/gu, '').length > 0);
}

const MARK = /\[(\d+)\]/g;

function normTitle(t: string): string {
  return t
    .replace(/^中华人民共和国/, '')
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/\s+/g, '');
}

/** A title names the document when it is its title, or a part of it long enough to be a short form. */
export function titleMatches(named: string, docTitle: string | undefined): boolean {
  if (!docTitle) return false;
  const a = normTitle(named);
  const b = normTitle(docTitle);
  return a.length > 0 && (a === b || (a.length >= 4 && b.includes(a)));
}

// ---------- articles ----------

function articleNumbers(normalized: string): number[] {
  return [...normalized.matchAll(/第(\d+)条/g)].map((m) => Number(m[1]));
}

function locatorHas(s: GroundingSource, n: number): boolean {
  return s.locator !== undefined && articleNumbers(normalizeNumbers(s.locator)).includes(n);
}

/** A law named without 《》 right before its article (依据村民委员会组织法第十四条); 本法/该条例 name nothing new. */
const BARE_LAW = /([\p{Script=Han}]{2,30}?(?:法|条例|办法|规定|细则|规则|规程))\s*(?:的)?\s*$/u;
const SELF_REFERENCE = /(?:本|该|此|上述|前述|这部|这个)(?:法|条例|办法|规定|细则|规则|规程)$/;

/** Whether a bare name ends in a name a cited passage holds (its last 3+ characters in the title or the text). */
function bareNameMatches(name: string, sources: GroundingSource[]): boolean {
  const chars = Array.from(name);
  for (let k = Math.min(chars.length, 30); k >= 3; k--) {
    const tail = normTitle(chars.slice(-k).join(''));
    // The document's own title, or a law its text names (a guide quoting 村民委员会组织法第十五条).
    if (sources.some((s) => (s.title !== undefined && normTitle(s.title).includes(tail)) || s.text.includes(tail))) return true;
  }
  return false;
}

function checkArticles(sentence: string, sources: GroundingSource[]): string | null {
  for (const m of sentence.matchAll(/(?:《([^》]{1,60})》\s*(?:的)?\s*)?第(\d+)条/g)) {
    const n = Number(m[2]);
    if (m[1] === undefined) {
      const bare = BARE_LAW.exec(sentence.slice(Math.max(0, m.index! - 30), m.index))?.[1];
      if (bare && !SELF_REFERENCE.test(bare) && !bareNameMatches(bare, sources)) return `${bare}第${n}条`;
    }
    const title = m[1];
    const ok = sources.some((s) => {
      const text = normalizeNumbers(s.text);
      if (title === undefined) return locatorHas(s, n) || articleNumbers(text).includes(n);
      if (titleMatches(title, s.title) && locatorHas(s, n)) return true;
      // A guide passage quoting another law: 《…》第N条 in its own text.
      return [...text.matchAll(/《([^》]{1,60})》\s*((?:第\d+条[、和及与，,]?)+)/g)].some(
        (q) => titleMatches(title, q[1]) && articleNumbers(q[2]!).includes(n),
      );
    });
    if (!ok) return `${title ? `《${title}》` : ''}第${n}条`;
  }
  return null;
}

// ---------- titles ----------

function checkTitles(sentence: string, sources: GroundingSource[]): string | null {
  for (const m of sentence.matchAll(/《([^》]{1,60})》/g)) {
    const t = m[1]!;
    const ok = sources.some((s) => titleMatches(t, s.title) || [...s.text.matchAll(/《([^》]{1,60})》/g)].some((q) => titleMatches(t, q[1])));
    if (!ok) return `《${t}》`;
  }
  return null;
}

// ---------- quantities ----------

interface Quantity {
  value: string;
  unit: string | null;
  /** Which side of the number the rule means: 二十五日前 (before) is not 二十五日内 (within). */
  side: string | null;
}

const SAME_UNIT: Record<string, string> = { 天: '日', 周岁: '岁', 名: '人', 位: '人' };
const QUANTITY = new RegExp(`(\\d+(?:\\.\\d+)?)(%|/\\d+)?(?:多|余)?(${QUANTITY_UNITS.join('|')})?(之前|以前|之内|以内|之后|以后|以上|以下|前|内|后)?`, 'g');
const SAME_SIDE: Record<string, string> = { 之前: '前', 以前: '前', 之内: '内', 以内: '内', 之后: '后', 以后: '后' };

/** Quantities in text already passed through normalizeNumbers; article numbers (第N条) are not quantities. */
export function quantitiesOf(normalized: string): Quantity[] {
  const found: (Quantity & { start: number; end: number })[] = [];
  for (const m of normalized.matchAll(QUANTITY)) {
    const start = m.index!;
    const end = start + m[0].length;
    if (normalized[start - 1] === '第') continue;
    const unit = m[3] ? (SAME_UNIT[m[3]] ?? m[3]) : null;
    const side = m[4] ? (SAME_SIDE[m[4]] ?? m[4]) : null;
    found.push({ value: m[1]! + (m[2] ?? ''), unit: m[2] ? null : unit, side, start, end });
  }
  // The first end of a range takes the unit of the second: 3至7人 → 3人, 7人.
  for (let i = found.length - 2; i >= 0; i--) {
    const a = found[i]!;
    const b = found[i + 1]!;
    if (a.unit === null && b.unit !== null && /^[至到~～\-—或、]$/.test(normalized.slice(a.end, b.start))) a.unit = b.unit;
  }
  return found.map(({ value, unit, side }) => ({ value, unit, side }));
}

/** List numbering (1. 2、 （3） (4)) at the start of a line or after a separator: order, not a claim. */
const ENUMERATOR = /(^|[\s：:；;，,。])(?:\d{1,2}[.、．)）]|[（(]\d{1,2}[)）])(?!\d)/g;

function checkQuantities(sentence: string, sources: GroundingSource[]): string | null {
  const have = sources.flatMap((s) => quantitiesOf(normalizeNumbers([s.title ?? '', s.locator ?? '', s.version ?? '', s.text].join('\n'))));
  for (const q of quantitiesOf(normalizeNumbers(sentence).replace(ENUMERATOR, '$1'))) {
    const ok = have.some(
      (h) => h.value === q.value && (q.unit === null || h.unit === null || h.unit === q.unit) && (q.side === null || h.side === null || h.side === q.side),
    );
    if (!ok) return `${q.value}${q.unit ?? ''}${q.side ?? ''}`;
  }
  return null;
}

// ---------- modality ----------

type Modality = 'forbid' | 'exempt' | 'permit' | 'require';

// Longer and negated forms first: at one position the first alternative that matches wins.
// 有权 inside 所有权/产权 is a noun, not a permission.
const MODAL = /不得|不能|不可以|不可|不准|不允许|禁止|严禁|不应当|不应该|不应|不必|无需|无须|不需要|不用|可以|允许|(?<![所产版物债股])有权|能够|应当|应该|必须|须|需要|(?<![认许])可(?![能是见靠])/g;
const CLASS: Record<string, Modality> = {
  不得: 'forbid', 不能: 'forbid', 不可以: 'forbid', 不可: 'forbid', 不准: 'forbid', 不允许: 'forbid', 禁止: 'forbid', 严禁: 'forbid', 不应当: 'forbid', 不应该: 'forbid', 不应: 'forbid',
  不必: 'exempt', 无需: 'exempt', 无须: 'exempt', 不需要: 'exempt', 不用: 'exempt',
  可以: 'permit', 允许: 'permit', 有权: 'permit', 能够: 'permit', 可: 'permit',
  应当: 'require', 应该: 'require', 必须: 'require', 须: 'require', 需要: 'require',
};
const OPPOSITE: Record<Modality, Modality[]> = { forbid: ['permit', 'require'], permit: ['forbid'], require: ['forbid', 'exempt'], exempt: ['require'] };

function modalities(clause: string): Set<Modality> {
  return new Set([...clause.matchAll(MODAL)].map((m) => CLASS[m[0]]!));
}

function bigrams(s: string): Set<string> {
  const t = s.replace(MODAL, ' ').replace(/\[\d+\]/g, '').replace(/[\s\p{P}\d]/gu, ' ');
  const out = new Set<string>();
  for (const part of t.split(' ')) for (let i = 0; i + 1 < part.length; i++) out.add(part.slice(i, i + 2));
  return out;
}

const CLAUSE_SPLIT = /[。；！？!?;，,：:\n]/;
/** Share of an answer clause's bigrams (modal words aside) a source clause must hold to be the one it restates. */
const RESTATES = 0.5;

function checkModality(sentence: string, sources: GroundingSource[]): string | null {
  const sourceClauses = sources.flatMap((s) => s.text.split(CLAUSE_SPLIT)).filter((c) => c.trim().length > 0).map((c) => ({ c, grams: bigrams(c), mods: modalities(c) }));
  for (const clause of sentence.split(CLAUSE_SPLIT)) {
    const mine = modalities(clause);
    if (mine.size === 0) continue;
    const grams = bigrams(clause);
    if (grams.size < 2) continue;
    let best: (typeof sourceClauses)[number] | undefined;
    let bestShare = 0;
    for (const sc of sourceClauses) {
      let hit = 0;
      for (const g of grams) if (sc.grams.has(g)) hit++;
      const share = hit / grams.size;
      if (share > bestShare) [best, bestShare] = [sc, share];
    }
    if (!best || bestShare < RESTATES || best.mods.size === 0) continue;
    const agrees = [...mine].some((m) => best!.mods.has(m));
    const flips = [...mine].some((m) => OPPOSITE[m].some((o) => best!.mods.has(o)));
    if (flips && !agrees) return `${clause.replace(MARK, '').trim()} ↔ ${best.c.trim()}`;
  }
  return null;
}

/** Checks an answer against the passages it was shown (sources[n-1] is passage [n]). */
export function checkGrounding(answer: string, sources: GroundingSource[]): GroundingResult {
  const sentences = answerSentences(answer);
  if (sentences.length === 0) return { ok: false, reason: 'empty', detail: '' };
  const cited = new Set<number>();
  for (const s of sentences) {
    const marks = [...s.matchAll(MARK)].map((m) => Number(m[1]));
    if (marks.length === 0) return { ok: false, reason: 'uncited', detail: s };
    for (const n of marks) if (n < 1 || n > sources.length) return { ok: false, reason: 'unknown_citation', detail: `[${n}]` };
    const mine = [...new Set(marks)].map((n) => sources[n - 1]!);
    const body = s.replace(MARK, '');
    const normalized = normalizeNumbers(body);
    const article = checkArticles(normalized, mine);
    if (article) return { ok: false, reason: 'article', detail: article };
    const title = checkTitles(body, mine);
    if (title) return { ok: false, reason: 'title', detail: title };
    const quantity = checkQuantities(body, mine);
    if (quantity) return { ok: false, reason: 'quantity', detail: quantity };
    const flip = checkModality(body, mine);
    if (flip) return { ok: false, reason: 'modality', detail: flip };
    marks.forEach((n) => cited.add(n));
  }
  return { ok: true, cited: [...cited].sort((a, b) => a - b) };
}
