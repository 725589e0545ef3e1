/**
 * A synthetic policy library for the knowledge bench: provincial 选举办法 / 实施办法 and city
 * 实施方案 built at bench time from the sentences of a real library (../shared/corpus when it
 * is there, else the bundled pack knowledge/), so a fresh clone can run it. Each document gets
 * its own province or city, title, issuer and version date; articles are 2–10 source sentences
 * drawn by a seeded PRNG with numbers (日/年/人/名…) and a few terms varied, so passages differ
 * while reading like the legal Chinese the index is tuned for. Deterministic for a given source.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareDocument } from '../src/knowledge/document.js';
import { collectFiles } from '../src/knowledge/ingest.js';

export interface SourceLibrary {
  label: string;
  paths: string[];
  files: string[];
  bytes: number;
}

/** The real library the synthetic one is grown from: the shared corpus + the pack, or the pack alone. */
export function sourceLibrary(root: string): SourceLibrary {
  const corpus = resolve(root, '../shared/corpus');
  const pack = resolve(root, 'knowledge');
  const paths = existsSync(corpus) ? [corpus, pack] : [pack];
  const { files } = collectFiles(paths);
  const bytes = files.reduce((s, f) => s + readFileSync(f).length, 0);
  return { label: existsSync(corpus) ? '../shared/corpus + knowledge/' : 'knowledge/（仓库自带知识包；无 ../shared）', paths, files, bytes };
}

/** mulberry32: small, seeded, good enough to pick sentences. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CN_DIGITS = '零一二三四五六七八九';

/** 1..999 → 一 … 九百九十九 (the article numbers of a long regulation). */
export function toCn(n: number): string {
  if (n < 10) return CN_DIGITS[n]!;
  if (n < 20) return `十${n % 10 ? CN_DIGITS[n % 10] : ''}`;
  if (n < 100) return `${CN_DIGITS[Math.floor(n / 10)]}十${n % 10 ? CN_DIGITS[n % 10] : ''}`;
  const rest = n % 100;
  return `${CN_DIGITS[Math.floor(n / 100)]}百${rest === 0 ? '' : rest < 10 ? `零${CN_DIGITS[rest]}` : rest < 20 ? `一${toCn(rest)}` : toCn(rest)}`;
}

const PROVINCES = [
  '河北省', '山西省', '辽宁省', '吉林省', '黑龙江省', '江苏省', '浙江省', '安徽省', '福建省', '江西省', '山东省',
  '河南省', '湖北省', '湖南省', '广东省', '海南省', '四川省', '贵州省', '云南省', '陕西省', '甘肃省', '青海省',
  '内蒙古自治区', '广西壮族自治区', '西藏自治区', '宁夏回族自治区', '新疆维吾尔自治区', '北京市', '天津市', '上海市', '重庆市',
];
const CITIES = [
  '石家庄市', '太原市', '大同市', '沈阳市', '长春市', '哈尔滨市', '南京市', '徐州市', '杭州市', '温州市', '合肥市', '福州市',
  '南昌市', '济南市', '临沂市', '郑州市', '洛阳市', '武汉市', '宜昌市', '长沙市', '衡阳市', '广州市', '梅州市', '海口市',
  '成都市', '绵阳市', '贵阳市', '昆明市', '西安市', '兰州市', '西宁市', '呼和浩特市', '南宁市', '银川市', '乌鲁木齐市',
];
const LEGAL_TITLES = ['村民委员会选举办法', '实施《中华人民共和国村民委员会组织法》办法', '城市居民委员会选举办法', '村民代表会议规则', '村务监督委员会工作规则'];
const CHAPTERS = ['总则', '选举工作机构', '选民登记', '候选人的提名', '选举程序', '委托投票', '罢免和补选', '民主议事和民主监督', '法律责任', '附则'];
const PLAN_HEADINGS = ['指导思想和目标任务', '时间安排和方法步骤', '把好人选资格关', '严肃换届纪律', '加强组织领导', '强化宣传引导', '做好换届后续工作'];
/** Term variants a province's text may use instead (each pair reads naturally both ways). */
const TERM_SWAPS: [RegExp, string][] = [
  [/本法/g, '本办法'],
  [/县级以上地方人民政府/g, '县级以上人民政府'],
  [/乡、民族乡、镇的人民政府/g, '乡镇人民政府'],
  [/公布/g, '公告'],
  [/及时/g, '依法及时'],
];
const NUM_UNIT = /(?<![\d一二三四五六七八九十两百千零〇])([一二三四五六七八九十两]+|\d{1,3})(日|天|年|个月|人|名|周岁|次)/g;

interface Pools {
  legal: string[];
  prose: string[];
  /** Passages of the source library itself. */
  passages: number;
}

/** Sentences of the source library: from articles/items (legal) and from speech paragraphs/points (prose). */
export async function sentencePools(files: string[]): Promise<Pools> {
  const legal: string[] = [];
  const prose: string[] = [];
  let passages = 0;
  for (const f of files) {
    const doc = await prepareDocument(f, readFileSync(f));
    passages += doc.chunks.length;
    for (const c of doc.chunks) {
      const body = c.text.replace(/^第[一二三四五六七八九十百零〇两\d]+条\s*/, '');
      for (const s of body.split(/(?<=[。；！？])/)) {
        const t = s.replace(/\s+/g, '').trim();
        if (t.length < 12 || t.length > 160 || /[【】]/.test(t) || /^[（(]?[一二三四五六七八九十\d]+[）)、.]/.test(t)) continue;
        (c.kind === 'article' || c.kind === 'item' ? legal : prose).push(t);
      }
    }
  }
  // A thin source (the pack alone) lends its sentences to both shapes.
  if (prose.length < 50) prose.push(...legal);
  if (legal.length < 50) legal.push(...prose);
  return { legal, prose, passages };
}

function vary(s: string, rnd: () => number, region: string): string {
  let t = s.replace(NUM_UNIT, (m, n: string, unit: string) => {
    if (rnd() < 0.5) return m;
    const k = 1 + Math.floor(rnd() * 30);
    return rnd() < 0.5 ? `${toCn(k)}${unit}` : `${k}${unit}`;
  });
  for (const [re, to] of TERM_SWAPS) if (rnd() < 0.3) t = t.replace(re, to);
  if (rnd() < 0.15) t = `${region}${t.startsWith('村') || t.startsWith('居') ? '' : '各地'}${t}`;
  return t;
}

function paragraph(pool: string[], rnd: () => number, region: string, minChars: number, maxChars: number): string {
  const target = minChars + Math.floor(rnd() * (maxChars - minChars));
  let out = '';
  while (out.length < target) {
    const s = vary(pool[Math.floor(rnd() * pool.length)]!, rnd, region);
    if (out && out.length + s.length > maxChars) break;
    out += s;
  }
  return out;
}

function isoDate(rnd: () => number, year: number): string {
  return `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
}

/** One provincial regulation: 第X章 headings, 第X条 articles of 180–560 characters. */
function legalDoc(k: number, pools: Pools, rnd: () => number): { name: string; text: string } {
  // One document in ten is an older version of the regulation written five documents earlier
  // (superseded, as real libraries hold them).
  const older = k % 10 === 8;
  const fam = older ? k - 5 : k;
  const province = PROVINCES[fam % PROVINCES.length]!;
  const kind = LEGAL_TITLES[Math.floor(fam / PROVINCES.length) % LEGAL_TITLES.length]!;
  const year = older ? 2010 + Math.floor(rnd() * 6) : 2016 + Math.floor(rnd() * 10);
  const title = `${province}${kind}（${year}年修订）`;
  const lines = [`标题：${title}`, `发文机关：${province}人民代表大会常务委员会`, `版本：${isoDate(rnd, year)}`, '', title.replace(/（.*$/, ''), ''];
  const articles = 38 + Math.floor(rnd() * 24);
  const perChapter = Math.ceil(articles / CHAPTERS.length);
  for (let a = 1; a <= articles; a++) {
    if ((a - 1) % perChapter === 0) lines.push(`第${toCn(Math.floor((a - 1) / perChapter) + 1)}章 ${CHAPTERS[Math.floor((a - 1) / perChapter)]}`, '');
    lines.push(`第${toCn(a)}条 ${paragraph(pools.legal, rnd, province, 180, 560)}`, '');
  }
  lines.push(`第${toCn(articles + 1)}条 本办法自${year}年${1 + Math.floor(rnd() * 12)}月1日起施行。`, '');
  return { name: `synth-${String(k).padStart(4, '0')}-legal-${year}.txt`, text: lines.join('\n') };
}

/** One city work plan: 一、 headings, paragraphs of 200–560 characters. */
function planDoc(k: number, pools: Pools, rnd: () => number): { name: string; text: string } {
  const city = CITIES[k % CITIES.length]!;
  const year = 2021 + Math.floor(rnd() * 6);
  const title = `${city}${year}年村（社区）“两委”换届选举工作实施方案`;
  const lines = [`标题：${title}`, `发文机关：中共${city}委组织部`, `版本：${isoDate(rnd, year)}`, '', title, ''];
  PLAN_HEADINGS.forEach((h, i) => {
    lines.push(`${toCn(i + 1)}、${h}`, '');
    const paras = 4 + Math.floor(rnd() * 5);
    for (let p = 0; p < paras; p++) lines.push(paragraph(pools.prose, rnd, city, 200, 560), '');
  });
  return { name: `synth-${String(k).padStart(4, '0')}-plan-${year}.txt`, text: lines.join('\n') };
}

export interface SynthLibrary {
  dir: string;
  files: string[];
  bytes: number;
  passages: number;
  documents: number;
}

/**
 * Writes documents into `dir` until they and the source library together hold `totalPassages`
 * passages as the chunker cuts them (prepareDocument counts them, so the figure is the index's
 * own), four regulations to one plan.
 */
export async function writeSynthLibrary(dir: string, sourceFiles: string[], totalPassages: number, seed = 15): Promise<SynthLibrary> {
  mkdirSync(dir, { recursive: true });
  const pools = await sentencePools(sourceFiles);
  const rnd = prng(seed);
  const files: string[] = [];
  let bytes = 0;
  let passages = 0;
  const targetPassages = totalPassages - pools.passages;
  for (let k = 0; passages < targetPassages; k++) {
    const d = k % 5 === 4 ? planDoc(k, pools, rnd) : legalDoc(k, pools, rnd);
    const file = join(dir, d.name);
    const buf = Buffer.from(d.text, 'utf8');
    writeFileSync(file, buf);
    files.push(file);
    bytes += buf.length;
    passages += (await prepareDocument(file, buf)).chunks.length;
  }
  return { dir, files, bytes, passages, documents: files.length };
}
