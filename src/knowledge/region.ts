/**
 * Where a rule applies. A document's region is read from its title and issuer as stored
 * (浙江省村民委员会选举办法, 山东省人民代表大会常务委员会 → 浙江 / 山东; 金乡县…领导小组 →
 * place 金乡县), so no schema change is needed (the index also runs on PostgreSQL).
 * A question's region is a province it names (浙江, 咱山东, 在江苏省) or a place that some
 * document of the library is about (金乡县, 成都). National law (全国人大常委会, 中共中央)
 * and documents naming no place have no region.
 */

/** Province-level divisions, short names (the suffix 省/市/自治区 is optional in a question). */
export const PROVINCES = [
  '北京', '天津', '上海', '重庆', '河北', '山西', '辽宁', '吉林', '黑龙江', '江苏', '浙江', '安徽', '福建', '江西', '山东',
  '河南', '湖北', '湖南', '广东', '海南', '四川', '贵州', '云南', '陕西', '甘肃', '青海', '台湾', '内蒙古', '广西', '西藏',
  '宁夏', '新疆', '香港', '澳门',
];

export interface Region {
  province: string | null;
  /** A city/county/district named (金乡县, 成都市), when no province is. */
  place: string | null;
}

export const NO_REGION: Region = { province: null, place: null };

const NATIONAL_ISSUER = /全国人民代表大会|^中共中央|^国务院|^中华人民共和国|民政部|中央组织部/;
/** A city/county at the start of a title's segment or an issuer: 金乡县…, 成都市…, 中共沁源县委…. */
const PLACE = /^(?:中共)?(\p{Script=Han}{2,4}?(?:自治州|市|县|旗))/u;
/** Words ending in 市/县 that are not places. */
const NOT_PLACE = /^(全市|全县|本市|本县|城市|各市|各县|市县)$|城市$/;

/** A province a document names that is not in the list (a new or fictional one): 青川省… at the start. */
const OTHER_PROVINCE_TITLE = /^(\p{Script=Han}{2,3}?)(?:省|自治区)(?=\p{Script=Han})/u;

function provinceIn(text: string, extra: Iterable<string> = []): string | null {
  let best: { p: string; at: number } | null = null;
  for (const p of [...PROVINCES, ...extra]) {
    const at = text.indexOf(p);
    if (at >= 0 && (!best || at < best.at)) best = { p, at };
  }
  return best?.p ?? null;
}

function placeIn(s: string): string | null {
  for (const seg of s.split(/\s+/).slice(0, 2)) {
    const m = PLACE.exec(seg);
    if (m && !NOT_PLACE.test(m[1]!)) return m[1]!;
  }
  return null;
}

/** The region of a document, from its title and issuer. */
export function regionOfDocument(title: string, issuer: string | null): Region {
  const iss = issuer ?? '';
  if (NATIONAL_ISSUER.test(iss) || /^中华人民共和国|^中国共产党/.test(title)) return NO_REGION;
  const province = provinceIn(title.slice(0, 12)) ?? provinceIn(iss.slice(0, 8)) ?? OTHER_PROVINCE_TITLE.exec(title)?.[1] ?? OTHER_PROVINCE_TITLE.exec(iss)?.[1];
  if (province) return { province, place: null };
  return { province: null, place: placeIn(title) ?? placeIn(iss) };
}

/** The stem of a place name (成都市 → 成都, 金乡县 → 金乡): how people name it in a question. */
export function placeStem(place: string): string {
  return place.replace(/(自治州|地区|盟|市|县|区|旗)$/, '');
}

/**
 * The region a question names: a province (浙江这边, 咱山东, 在江苏省; also one of
 * `provinces` the library's documents name), or one of `places` (the cities and counties
 * the library's documents are about). 全国 / 国家 names the nation (no region).
 */
export function regionOfQuestion(text: string, places: Iterable<string> = [], provinces: Iterable<string> = []): Region {
  const province = provinceIn(text, provinces);
  if (province) return { province, place: null };
  for (const p of places) {
    const stem = placeStem(p);
    if (stem.length >= 2 && text.includes(stem)) return { province: null, place: p };
  }
  return NO_REGION;
}

export function hasRegion(r: Region): boolean {
  return r.province !== null || r.place !== null;
}

export function sameRegion(a: Region, b: Region): boolean {
  return hasRegion(a) && a.province === b.province && a.place === b.place;
}

/** A region as a reader names it. */
export function regionName(r: Region): string {
  return r.province ?? (r.place ? placeStem(r.place) : '全国');
}

/** Score factors (see regionFactor). */
export const SAME_REGION = 1.15;
export const OTHER_PROVINCE = 0.55;
export const OTHER_PLACE = 0.85;
/** A question naming no region prefers national law over a province's own rules. */
export const LOCAL_UNASKED = 0.75;

/**
 * How a passage's score changes with its document's region: a question naming a region
 * prefers that region's documents and ranks other provinces' rules far down; a question
 * naming none prefers national law (a province's rule still answers when the law is silent).
 * Documents about a city or county (news, notices) are local too, but their province is
 * unknown: they are ranked down only a little when a different region is named.
 */
export function regionFactor(question: Region, doc: Region): number {
  if (!hasRegion(doc)) return 1;
  if (!hasRegion(question)) return doc.province ? LOCAL_UNASKED : 1;
  if (sameRegion(question, doc)) return SAME_REGION;
  if (doc.province && question.province) return OTHER_PROVINCE;
  return OTHER_PLACE;
}
