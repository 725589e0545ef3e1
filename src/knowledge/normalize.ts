import * as OpenCC from 'opencc-js';

/**
 * Text normalisation shared by ingestion and questions, so that both sides of the
 * search see the same characters: Traditional → Simplified, full-width letters and
 * digits → ASCII, broken pinyin annotations removed, PDF line-wrap spaces removed,
 * and site furniture (download prompts, page counters, "查看更多") dropped.
 */

// 'hk' covers the Hong Kong / Taiwan variants seen in reposted pages; 't' handles the rest.
const toSimplifiedHk = OpenCC.Converter({ from: 'hk', to: 'cn' });
const toSimplifiedT = OpenCC.Converter({ from: 't', to: 'cn' });

const HAN = '\\p{Script=Han}';
const TONED = 'āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ';

/**
 * A broken converter left the reading of a character behind it: `區(qū)`, `調(diào)`.
 * Only parentheses holding lower-case pinyin with at least one tone mark are removed,
 * so real bracketed text such as `(社区)` or `(a)` survives.
 */
const PINYIN_ANNOTATION = new RegExp(`(?<=[${HAN}A-Za-z])[(（]([a-zü]*[${TONED}][a-zü${TONED}]*)[)）]`, 'gu');

export function stripPinyinAnnotations(s: string): string {
  return s.replace(PINYIN_ANNOTATION, '');
}

/** Full-width ASCII letters, digits and the ideographic space become their half-width forms. */
export function halfWidthAlnum(s: string): string {
  return s
    .replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF05\uFF0E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .replace(/\u00A0/g, ' ');
}

const HAN_CHAR = /\p{Script=Han}/gu;

/** Share of Han characters that change under T→S conversion; speeds the common Simplified case. */
export function traditionalRatio(s: string): number {
  // The first 4000 Han characters only: matching the whole text made one string per character
  // (165 MB for a 10 MB file) to look at 4000 of them.
  const han: string[] = [];
  HAN_CHAR.lastIndex = 0;
  for (let m; han.length < 4000 && (m = HAN_CHAR.exec(s)); ) han.push(m[0]);
  if (han.length === 0) return 0;
  const sample = han.join('');
  const conv = toSimplifiedT(sample);
  let changed = 0;
  for (let i = 0; i < sample.length && i < conv.length; i++) if (sample[i] !== conv[i]) changed++;
  return changed / sample.length;
}

/**
 * Traditional → Simplified. Applied only when the text looks Traditional (over 2 % of
 * its Han characters change), because a blanket conversion can alter Simplified words
 * that happen to share a character with a Traditional form.
 */
export function toSimplified(s: string, force = false): string {
  if (!force && traditionalRatio(s) < 0.02) return s;
  return toSimplifiedHk(toSimplifiedT(s));
}

/** Lines that are page furniture, never content. */
const FURNITURE_LINE: RegExp[] = [
  /^[-•·\s]*\d{4}-\d{2}-\d{2}\s*发布\s*\|?\s*$/,
  /^[-•·\s]*[\d.]+\s*(KB|MB|kb|mb)\s*\|?\s*$/,
  /^[-•·\s]*\d+\s*页\s*$/,
  /^申明敬告.*$/,
  /^文档介绍\s*$/,
  /^(下载客户端|登录|字号|打印|关闭窗口|返回顶部|分享到.*|扫一扫.*|【?打印本页】?|【?关闭】?|相关阅读|责任编辑.*|编辑：.*|点击下载.*|下载(本文|文档|附件).*|立即下载.*|\S{0,8}Logo)\s*$/,
  /^\s*[•·]\s*\+\d+\s*$/,
  /^第\s*\d+\s*页\s*[\/／,，]?\s*共?\s*\d+\s*页?\s*$/,
  /^共\s*\d+\s*页\s*[\/／,，]?\s*第\s*\d+\s*页$/,
  /^\s*\d+\s*\/\s*\d+\s*$/,
  /^\s*[-—]\s*\d+\s*[-—]\s*$/,
  /^(上一篇|下一篇)[：:].*$/,
  /^\d{4}-\d{2}-\d{2}(\s+\d{1,2}:\d{2}(:\d{2})?)?$/,
  /^来源[：:].{0,30}$/,
  /^(我要举报|收藏|反馈|\+\d+|扫码下载.*|.*ICP备.*|.*公网安备.*|.*信息服务许可证.*|.*业务经营许可证.*|©.*|本文为.{0,20}(作者|机构).*)$/,
];

const FURNITURE_INLINE: RegExp[] = [/查看更多\s*$/gm, /展开全文\s*$/gm, /(点击|点此)查看(原文|全文)\s*$/gm];

export function dropFurniture(s: string): string {
  let out = s
    .split('\n')
    .filter((line) => !FURNITURE_LINE.some((re) => re.test(line.trim())))
    .join('\n');
  for (const re of FURNITURE_INLINE) out = out.replace(re, '');
  return out;
}

/** Markers that begin a structural unit; a run of spaces before one is a lost line break. */
const STRUCT_MARKER =
  '(?:第[一二三四五六七八九十百零〇两\\d]+[编章节条]|[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\\d{1,2}[、.．](?!\\d))';
// Starts only at the first blank of a run: trying every blank of a long run made it quadratic (100 KB of spaces: 27 s).
const LOST_BREAK = new RegExp(`(?<![ \\t])[ \\t]+(?=${STRUCT_MARKER})`, 'gu');
// A 一、 heading, or a （一） heading with no sentence end close behind, ends at the first space.
const HEADING_LINE = new RegExp(
  `^(\\s*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）](?![^\\n。]{0,44}。))[^\\n。；！？]{2,40}?)[ \\t]+(?=\\S)`,
  'gmu',
);
const CJKP = `${HAN}“”‘’、，。；：！？（）《》%％`;
// Spaces with a Han character or Chinese punctuation on at least one side; spaces between two numbers stay.
const SPACE_IN_CJK = new RegExp(
  `(?<!第[一二三四五六七八九十百零〇两\\d]{1,6}[编章节条])(?:(?<=[${CJKP}])[ \\t]+(?=[${CJKP}\\d(])|(?<=[${CJKP}\\d])[ \\t]+(?=[${CJKP}]))`,
  'gu',
);

/**
 * Text flattened from a PDF keeps the line wraps as spaces inside words (`社 区`).
 * Spaces before a structural marker become line breaks, a heading's trailing space
 * ends the heading line, and the remaining spaces between CJK characters go.
 */
export function repairFlattenedText(s: string): string {
  return s.replace(LOST_BREAK, '\n').replace(HEADING_LINE, '$1\n').replace(SPACE_IN_CJK, '');
}

/** ASCII punctuation written between Chinese characters becomes the full-width form, so quotes read naturally. */
export function chinesePunctuation(s: string): string {
  const map: Record<string, string> = { ',': '，', ';': '；', ':': '：', '?': '？', '!': '！' };
  return s
    .replace(new RegExp(`(?<=[${HAN}”）])[,;:?!](?=\\s*[${HAN}“（\\d]|\\s*$)`, 'gmu'), (c) => map[c] ?? c)
    .replace(new RegExp(`\\(([^()\\n]*[${HAN}][^()\\n]*)\\)`, 'gu'), '（$1）');
}

/**
 * Invisible format characters: bidirectional embeddings, overrides and isolates (U+202A–202E,
 * U+2066–2069, LRM/RLM U+200E/200F, ALM U+061C) that make a passage display in another order
 * than it is stored and searched (a right-to-left override turns 五年 into 年五 on screen);
 * zero-width spaces and joiners, the word joiner and invisible operators (U+200B–200D,
 * U+2060–2064), a BOM inside the text (U+FEFF), the soft hyphen, interlinear annotation marks
 * and Unicode tag characters (U+E0000 block, used to smuggle invisible instructions). Chinese
 * text needs none of them; ideographic variation selectors (U+FE00–FE0F, U+E0100–E01EF) stay.
 */
const FORMAT_CONTROLS = /[\u00AD\u034F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|\u{E0001}|[\u{E0020}-\u{E007F}]/gu;

export function stripFormatControls(s: string): string {
  return s.replace(FORMAT_CONTROLS, '');
}

/** Leftovers of mis-decoded byte runs (`?!`, replacement characters, control characters) and format controls. */
export function dropGarbage(s: string): string {
  return stripFormatControls(s)
    .replace(/\uFFFD+/g, '')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .replace(/\?!\s*/g, '');
}

/** Character-level mapping only (no layout changes): used before metadata is read. */
export function normalizeChars(raw: string): string {
  // Unicode line and paragraph separators are line breaks too (they would otherwise hide a line start).
  let s = raw.replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n');
  s = dropGarbage(s);
  s = halfWidthAlnum(s);
  s = stripPinyinAnnotations(s);
  return toSimplified(s);
}

/** Layout repair on character-normalised text: furniture, flattened PDF lines, punctuation, blank lines. */
export function normalizeLayout(s: string): string {
  let out = dropFurniture(s);
  out = repairFlattenedText(out);
  out = chinesePunctuation(out);
  return out
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The whole pipeline for a document's text. */
export function normalizeDocumentText(raw: string): string {
  return normalizeLayout(normalizeChars(raw));
}

/**
 * Normalisation for a question: the same character mapping (always T→S, since a
 * short question gives too little evidence to decide), with control characters and
 * over-long input cut.
 */
export function normalizeQuestion(raw: string, maxLength = 200): string {
  let s = typeof raw === 'string' ? raw : '';
  s = dropGarbage(s.replace(/[\r\n\t]+/g, ' '));
  s = halfWidthAlnum(s);
  s = stripPinyinAnnotations(s);
  s = toSimplified(s, true);
  s = s.replace(/\s+/g, ' ').trim();
  return Array.from(s).slice(0, maxLength).join('');
}
