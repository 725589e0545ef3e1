/** Markers of document structure shared by the chunkers. */
export const CN_NUM = '[一二三四五六七八九十百千零〇两]+';
const NUM = `(?:${CN_NUM}|\\d{1,4})`;

/** 第一编 / 第二分编 / 第三章 / 第一节 headings, the rest of the line being the heading text. */
export const LEGAL_HEADING = new RegExp(`^第${NUM}(编|分编|章|节)[ \\t]*([^。；，]{0,40})$`);
/** 第十五条 at the start of a line. */
export const ARTICLE_START = new RegExp(`^(第${NUM}条)(?:[ \\t]|(?=[\\p{Script=Han}“（(]))`, 'u');
/** 一、 top-level heading of a speech or notice. */
export const CN_ORDINAL_HEADING = /^([一二三四五六七八九十]+)、(.*)$/;
/** （一） second-level heading or list item. */
export const PAREN_ORDINAL = /^[（(]([一二三四五六七八九十]+)[）)](.*)$/;
/** 1、 or 1. list items. */
export const ARABIC_ITEM = /^(\d{1,2})[、.．](?!\d)\s*(.*)$/;
/** 一是 / 二要 … list items at the start of a line (lists laid out one per line). */
export const SHI_ITEM_LINE = /^([一二三四五六七八九十]+)(是|要)(.*)$/;
/**
 * Inline points in a speech paragraph: 一是…二是…, 一要…二要…, 首先/其次/最后.
 * A point starts at the beginning of the paragraph or right after a sentence end.
 */
export const INLINE_POINT = /(?<=^|[。；！？：]\s*)(?=(?:[一二三四五六七八九十]{1,2}(?:是|要)(?![否的])|首先|其次|再次|最后)[，、]?\p{Script=Han})/gu;

const DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** Chinese numeral (up to 千) → number; Arabic digits pass through. NaN when not a numeral. */
export function cnToNumber(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  let total = 0;
  let section = 0;
  let digit = -1;
  for (const ch of s) {
    if (ch in DIGITS) digit = DIGITS[ch]!;
    else if (ch === '十' || ch === '百' || ch === '千') {
      const unit = ch === '十' ? 10 : ch === '百' ? 100 : 1000;
      section += (digit === -1 ? 1 : digit) * unit;
      digit = -1;
    } else return NaN;
  }
  total += section + (digit === -1 ? 0 : digit);
  return total;
}

export function numberToCn(n: number): string {
  const d = '零一二三四五六七八九';
  if (n < 10) return d[n]!;
  if (n < 20) return '十' + (n % 10 ? d[n % 10] : '');
  if (n < 100) return d[Math.floor(n / 10)] + '十' + (n % 10 ? d[n % 10] : '');
  if (n < 1000) {
    const rest = n % 100;
    return d[Math.floor(n / 100)] + '百' + (rest === 0 ? '' : rest < 10 ? '零' + d[rest] : rest < 20 ? '一' + numberToCn(rest) : numberToCn(rest));
  }
  return String(n);
}
