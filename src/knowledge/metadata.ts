import { dropFurniture } from './normalize.js';
/**
 * Document identity: title, issuer and version (a date, plus a label such as 修正)
 * read from the text itself — header lines, the title's parenthetical, the adoption
 * history of a law, a signature block, a dateline — or from the file's metadata.
 * The version decides which of two documents with the same title answers questions.
 */
export interface DocMeta {
  title: string;
  issuer: string | null;
  /** ISO date (YYYY-MM-DD, or YYYY-01-01 when only the year is known), used for ordering. */
  versionDate: string | null;
  /** What a reader sees, e.g. "2018-12-29 修正". */
  version: string | null;
  /** Title without version parentheticals: documents sharing it are versions of one another. */
  family: string;
  source: string | null;
  /** A guide explains and cites primary texts; when both say the same, the primary text is quoted first. */
  authority: 'primary' | 'guide';
}

const CN_DATE = /(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日/;
const ISO_DATE = /(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})/;
const ACT = '(通过|修订|修正|修改|发布|公布|印发|批准|施行|制定|颁布)';

function iso(y: string, m: string, d: string): string | null {
  const yy = Number(y);
  const mm = Number(m);
  const dd = Number(d);
  if (yy < 1949 || yy > 2100 || mm < 1 || mm > 12 || dd < 1 || dd > 31) return null;
  return `${yy}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
}

export function parseDate(s: string): string | null {
  const c = CN_DATE.exec(s);
  if (c) return iso(c[1]!, c[2]!, c[3]!);
  const i = ISO_DATE.exec(s);
  if (i) return iso(i[1]!, i[2]!, i[3]!);
  return null;
}

/** Header lines of the form 键：值 at the very top of a file (as in ../shared/corpus and knowledge/). */
const HEADER_KEYS = ['标题', '类型', '来源', '状态', '版本', '日期', '发布日期', '施行日期', '发文机关', '发布机关', '制定机关', '发布单位', '文号'];
const HEADER_LINE = new RegExp(`^(${HEADER_KEYS.join('|')})\\s*[：:]\\s*(.*)$`);

export function splitHeader(text: string): { header: Record<string, string>; body: string } {
  const lines = text.split('\n');
  const header: Record<string, string> = {};
  let i = 0;
  while (i < lines.length) {
    const m = HEADER_LINE.exec(lines[i]!.trim());
    if (!m) break;
    header[m[1]!] = m[2]!.trim();
    i++;
  }
  return { header, body: lines.slice(i).join('\n') };
}

/** Parenthetical version notes in a title: （2018年修正）, (2020年), （2025年10月28日修订）, （试行）… */
const TITLE_VERSION = /[（(]\s*((\d{4})\s*年[^（）()]{0,16}?)\s*[）)]\s*$/;

export function familyOf(title: string): string {
  return title
    .replace(/[（(][^（）()]*\d{4}[^（）()]*[）)]/g, '')
    .replace(/[（(](草案|试行|征求意见稿)[）)]/g, '')
    .replace(/[\s《》“”"'、，,。.·:：]/g, '')
    .toLowerCase();
}

const ORG_LINE = /^[\p{Script=Han}“”"（）()]{4,40}(领导小组|委员会|办公室|人民政府|党委|党工委|组织部|办公厅|民政厅|民政局|民政部|工作组|政府|中央)$/u;

function lawIssuer(text: string): string | null {
  const head = text.slice(0, 1500);
  if (/全国人民代表大会常务委员会/.test(head)) return '全国人民代表大会常务委员会';
  if (/全国人民代表大会/.test(head) && /通过/.test(head)) return '全国人民代表大会';
  const m = /(中共中央办公厅、国务院办公厅|中共中央、国务院|中共中央办公厅|国务院办公厅|中共中央|国务院)\s*(印发|发布)/.exec(head);
  return m ? m[1]! : null;
}

function signature(lines: string[]): { issuer: string | null; date: string | null } {
  const tail = lines.slice(-6).map((l) => l.trim()).filter(Boolean);
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = tail[i]!;
    if (/^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$/.test(line) || /^\d{4}-\d{1,2}-\d{1,2}$/.test(line)) {
      const prev = tail[i - 1];
      return { date: parseDate(line), issuer: prev && ORG_LINE.test(prev) ? prev : null };
    }
  }
  return { issuer: null, date: null };
}

/** Dates near the top that record an act on the document (adopted, amended, issued). */
function actDates(text: string): { date: string; act: string }[] {
  const head = text.slice(0, 2000);
  const out: { date: string; act: string }[] = [];
  const re = new RegExp(`(\\d{4}\\s*年\\s*\\d{1,2}\\s*月\\s*\\d{1,2}\\s*日|\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2})([^\\n\\d]{0,80})${ACT}`, 'g');
  for (const m of head.matchAll(re)) {
    const d = parseDate(m[1]!);
    if (d) out.push({ date: d, act: m[3]! });
  }
  const pub = /(发布时间|发布日期|时间)\s*[：:]\s*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2})/.exec(head);
  if (pub) {
    const d = parseDate(pub[2]!.replace(/[年月]/g, '-'));
    if (d) out.push({ date: d, act: '发布' });
  }
  return out;
}

function firstTitleLine(lines: string[]): string | null {
  for (const raw of lines.slice(0, 12)) {
    const l = raw.trim();
    if (l.length < 4) continue;
    if (/^[-•·\d\s:：./年月日|]+$/.test(l)) continue;
    if (/^(来源|作者|发布时间|编辑|字号|时间)[：:]/.test(l)) continue;
    if (l.length <= 60 && !/[。；]$/.test(l)) return l;
    // No title line: take the first clause, without a leading date, if short enough.
    const first = l.split(/[。！？]/)[0]!.replace(/^\d{1,2}月\d{1,2}日[，,]?/, '').trim();
    return first.length >= 4 && first.length <= 60 ? first : null;
  }
  return null;
}

function usableMetaTitle(t: string | undefined): string | null {
  if (!t) return null;
  const s = t.trim();
  if (s.length < 2 || /^(microsoft word|untitled|无标题|document|文档)/i.test(s) || /\.(docx?|pdf|txt)$/i.test(s)) return null;
  return s;
}

export function readDocMeta(
  text: string,
  fileName: string,
  fileMeta: { title?: string; author?: string; date?: string } = {},
): { meta: DocMeta; body: string } {
  const { header, body } = splitHeader(text);
  const lines = body.split('\n').filter((l) => l.trim());
  const title =
    header['标题'] ||
    usableMetaTitle(fileMeta.title) ||
    firstTitleLine(dropFurniture(body).split('\n').filter((l) => l.trim())) || fileName.replace(/\.[^.]+$/, '');

  let versionDate: string | null = null;
  let label: string | null = null;
  const headerDate = header['版本'] ?? header['日期'] ?? header['发布日期'] ?? header['施行日期'];
  if (headerDate) {
    versionDate = parseDate(headerDate) ?? (/(\d{4})/.exec(headerDate) ? `${/(\d{4})/.exec(headerDate)![1]}-01-01` : null);
    label = /(修正|修订|修改|试行|发布|施行)/.exec(headerDate)?.[1] ?? null;
  }
  if (!versionDate) {
    const acts = actDates(body).sort((a, b) => (a.date < b.date ? 1 : -1));
    if (acts[0]) {
      versionDate = acts[0].date;
      label = acts[0].act;
    }
  }
  const sig = signature(lines);
  if (!versionDate && sig.date) {
    versionDate = sig.date;
    label = '发布';
  }
  if (!versionDate) {
    const dl = lines.slice(0, 6).map((l) => /^(\d{4}-\d{2}-\d{2})(\s+\d{1,2}:\d{2})?\b/.exec(l.trim())).find(Boolean);
    if (dl) versionDate = dl[1]!;
  }
  const tv = TITLE_VERSION.exec(title);
  if (tv) {
    const year = tv[2]!;
    // The title's year wins over a date from an older year (a reposted amendment note, say).
    if (!versionDate || versionDate.slice(0, 4) < year) {
      versionDate = parseDate(tv[1]!) ?? `${year}-01-01`;
      label = null;
    }
    label = label ?? /(修正|修订|修改|试行)/.exec(tv[1]!)?.[1] ?? null;
  }
  if (!versionDate && fileMeta.date) versionDate = parseDate(fileMeta.date);

  const issuer =
    header['发文机关'] || header['发布机关'] || header['制定机关'] || header['发布单位'] || lawIssuer(body) || sig.issuer || fileMeta.author || null;
  const version = versionDate ? (label ? `${versionDate} ${label}` : versionDate) : null;
  return {
    meta: {
      title,
      issuer,
      versionDate,
      version,
      family: familyOf(title),
      source: header['来源'] ?? null,
      authority: /指引|解读|问答|指南|手册/.test(header['类型'] ?? '') ? 'guide' : 'primary',
    },
    body,
  };
}
