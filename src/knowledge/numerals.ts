/**
 * Numbers written any way a model or a law writes them — Arabic, full-width (２５),
 * Chinese (二十五, 廿五, 两, 〇) — rewritten as Arabic, so that an answer's 25日 and a
 * passage's 二十五日 compare equal and an invented 卅日 does not hide from the check.
 * Only runs that are numbers are rewritten: 两委, 五必谈, 统一, 十严禁 stay words.
 */

import { cnToNumber } from './structure.js';

const DIGIT: Record<string, number> = { 〇: 0, 零: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const NUMERAL_CHARS = '〇零一二两三四五六七八九十百千万廿卅';
const RUN = new RegExp(`[${NUMERAL_CHARS}]+`, 'g');

/** Units and classifiers after which a numeral is a quantity (三年, 一名, 两户). */
export const QUANTITY_UNITS = ['周岁', '小时', '分钟', '个月', '日', '天', '年', '月', '岁', '人', '名', '个', '户', '次', '票', '倍', '周', '届', '项', '条', '款', '章', '节', '位', '成', '轮', '份', '张', '家', '元'];
const UNIT_AHEAD = new RegExp(`^(?:多|余)?(?:${QUANTITY_UNITS.join('|')})`);
const RANGE_AHEAD = new RegExp(`^[至到~～\\-—或、][${NUMERAL_CHARS}\\d]`);

/** The value of a Chinese numeral (二十五 → 25, 廿五 → 25, 一百零八 → 108, 二〇二五 → 2025); NaN if not one. */
export function chineseNumeralValue(s: string): number {
  const t = s.replace(/廿/g, '二十').replace(/卅/g, '三十');
  if (!/[十百千万]/.test(t)) {
    // A bare digit sequence (二〇二五) reads digit by digit.
    if (![...t].every((c) => c in DIGIT)) return NaN;
    return Number([...t].map((c) => DIGIT[c]).join(''));
  }
  // Sections below and above 万 read as the heading parser reads 第一百零八条 (structure.ts).
  const parts = t.split('万');
  if (parts.length > 2) return NaN;
  const [high, low = ''] = parts;
  return parts.length === 1 ? cnToNumber(high!) : cnToNumber(high!) * 10_000 + cnToNumber(low);
}

function isQuantityRun(run: string, before: string, after: string): boolean {
  if (/^[百千万]/.test(run)) return false; // 千万 (by all means), 万一, 百姓: words
  if (/[廿卅]/.test(run)) return true;
  if (before === '第') return true;
  if (UNIT_AHEAD.test(after)) return true;
  // The first end of a range (三至七人, 五到七名) is a quantity like the second.
  if (RANGE_AHEAD.test(after)) return true;
  return run.length >= 2 && (/[十百千万〇零]/.test(run) || [...run].every((c) => c in DIGIT && c !== '两'));
}

/** Full-width digits and signs → ASCII; 百分之五十 → 50%; 三分之二 → 2/3; Chinese numerals that are numbers → Arabic. */
export function normalizeNumbers(text: string): string {
  let t = text
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/％/g, '%')
    .replace(/．/g, '.')
    .replace(/／/g, '/');
  const num = `[${NUMERAL_CHARS}\\d.]+`;
  const value = (s: string) => (/^[\d.]+$/.test(s) ? s : String(chineseNumeralValue(s)));
  t = t.replace(new RegExp(`百分之(${num})`, 'g'), (m, a: string) => (Number.isNaN(Number(value(a))) ? m : `${value(a)}%`));
  t = t.replace(new RegExp(`(${num})分之(${num})`, 'g'), (m, d: string, n: string) =>
    Number.isNaN(Number(value(d))) || Number.isNaN(Number(value(n))) ? m : `${value(n)}/${value(d)}`,
  );
  return t.replace(RUN, (run, offset: number, whole: string) => {
    const before = whole[offset - 1] ?? '';
    const after = whole.slice(offset + run.length, offset + run.length + 3);
    if (!isQuantityRun(run, before, after)) return run;
    const v = chineseNumeralValue(run);
    return Number.isNaN(v) ? run : String(v);
  });
}
