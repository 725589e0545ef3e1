import { isValidIsoDate } from '../dates.js';
import { canonicalName, matchName, suggestionText } from '../names.js';
import type { IsoDate, Role, VillageType } from '../types.js';

/**
 * Cell values as county rosters write them (issue 14): role words, village
 * types, dates, and the county a one-county workbook names only in its title.
 * Each parser returns the value or a Chinese message saying what to write.
 */

/** Every spelling accepted for a role, by the role it means. */
export const ROLE_WORDS: Readonly<Record<string, Role>> = {
  管理员: '管理员',
  换届办: '管理员',
  领导: '领导',
  县领导: '领导',
  乡镇领导: '领导',
  乡镇党委书记: '领导',
  分管领导: '领导',
  包片领导: '领导',
  干部: '干部',
  包村干部: '干部',
  包联干部: '干部',
  驻村干部: '干部',
  联村干部: '干部',
  乡镇干部: '干部',
  工作组: '工作组',
  工作组成员: '工作组',
  指导组: '工作组',
  督导组: '工作组',
  驻村工作队: '工作组',
  工作队: '工作组',
};

const ROLE_BY_CANONICAL = new Map(Object.entries(ROLE_WORDS).map(([w, r]) => [canonicalName(w), r]));
const ROLE_CANDIDATES = Object.keys(ROLE_WORDS).map((w) => ({ value: w, label: w, names: [w] }));

export function parseRole(raw: string): { ok: Role } | { error: string } {
  const r = ROLE_BY_CANONICAL.get(canonicalName(raw));
  if (r) return { ok: r };
  if (!raw.trim()) return { error: '角色不能为空：应为 管理员、领导、干部 或 工作组' };
  const m = matchName(raw, ROLE_CANDIDATES, { maxSuggestions: 3 });
  const hint = m.kind === 'found' ? suggestionText([m.value]) : m.kind === 'ambiguous' ? suggestionText(m.options) : suggestionText(m.suggestions);
  return { error: `「${raw}」不是有效角色，应为 管理员、领导、干部 或 工作组（也可写 包村干部、乡镇领导、工作组成员 等）。${hint}`.trim() };
}

/** 村 or 社区; an empty cell (or no 类型 column) is read from the name: …社区 is a 社区, anything else a 村. */
export function parseVillageType(raw: string, name: string): { ok: VillageType } | { error: string } {
  const t = raw.replace(/\s/g, '');
  if (!t) return { ok: /(社区|居委会|居民委员会)$/.test(name) ? '社区' : '村' };
  if (t === '村' || t === '行政村' || t === '村委会') return { ok: '村' };
  if (t === '社区' || t === '居委会' || t === '居民委员会') return { ok: '社区' };
  return { error: `「${raw}」不是有效类型，应为 村 或 社区（也可留空：名称以“社区”结尾的按社区）` };
}

/** Dates as a spreadsheet holds them: 2026-11-20, 2026/11/20, 2026.11.20, 2026年11月20日, or an Excel serial number. */
export function parseImportDate(s: string): IsoDate | null {
  const t = s.trim();
  if (/^\d{5}(\.0+)?$/.test(t)) {
    const serial = Number(t);
    if (serial < 20000 || serial > 80000) return null;
    // Excel's day 0 is 1899-12-30 (after its 1900 leap-year bug).
    return new Date(Date.UTC(1899, 11, 30) + serial * 86_400_000).toISOString().slice(0, 10);
  }
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(t);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  return isValidIsoDate(iso) ? iso : null;
}

/** The message for a date that did not parse: an impossible day is told apart from an unreadable text. */
export function dateError(raw: string): string {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(raw.trim());
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return `「${raw}」不是有效日期：${mo < 1 || mo > 12 ? `没有${mo}月` : `${y}年${mo}月没有${d}日`}，请核对后改正`;
  }
  return `「${raw}」不是有效日期，请写成 2026-11-20 这样的日期（也可写 2026/11/20、2026年11月20日）`;
}

/** Words that end in 区/市/县 but are not a county: 社区, 小区, 全县 … */
const NOT_A_COUNTY = /(社区|小区|片区|辖区|地区|园区|景区|街区|城市|都市|全县|本县|各县|全区|本区|各区|全市|本市|各市|该县|该区|该市)$/;
const LEAD_WORDS = /^(关于|附件|附表|附|表|印发|做好|开展|报送)+/;

/**
 * The one county a workbook's title lines name ("沁源县2026年村（社区）换届
 * 人员名单" → 沁源县), or null when they name none or several. A 县 or 区
 * wins over the 市 above it (长治市沁源县 → 沁源县); a county-level 市 counts
 * when it is the only name. `known` (counties already in the database) is
 * tried first, as a substring.
 */
export function countyFromTitles(titles: readonly string[], known: readonly string[] = []): string | null {
  const text = titles.map((t) => t.normalize('NFKC')).join('\n');
  const hits = known.filter((k) => k && text.includes(k));
  if (hits.length === 1) return hits[0]!;
  const tokens = { low: new Set<string>(), city: new Set<string>() };
  for (const run of text.match(/[\u4e00-\u9fff]+/g) ?? []) {
    // Each run is cut after every 省/市/县/区/旗: 山西省长治市沁源县 → 山西省, 长治市, 沁源县.
    for (const seg of run.match(/[^省市县区旗]*[省市县区旗]/g) ?? []) {
      const name = seg.replace(LEAD_WORDS, '');
      if (name.length < 2 || NOT_A_COUNTY.test(seg) || name.endsWith('省')) continue;
      (name.endsWith('市') ? tokens.city : tokens.low).add(name);
    }
  }
  if (tokens.low.size === 1) return [...tokens.low][0]!;
  if (tokens.low.size === 0 && tokens.city.size === 1) return [...tokens.city][0]!;
  return null;
}
