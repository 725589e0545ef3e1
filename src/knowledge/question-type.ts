/**
 * What kind of fact a question asks for, read from its question words, and whether a
 * passage states such a fact. Used by the decline decision (abstain.ts) and to put the
 * deciding number/date/actor first in an offline answer (answer-offline.ts).
 *
 * Kept apart from query.ts's answer-type concept (a ranking signal): here the kinds are
 * coarse and the patterns say what an *answer* to the kind looks like, not what helps rank.
 */
export type QuestionKind = 'count' | 'time' | 'who' | 'may' | 'money';

interface KindRule {
  kind: QuestionKind;
  ask: RegExp;
  /** What a passage answering this kind states. */
  answer: RegExp;
}

const NUM = '[一二三四五六七八九十百千两半\\d]+';

export const KIND_RULES: KindRule[] = [
  {
    // An amount of money (多少钱, 发多少误工费, 补贴标准多少): only a stated sum answers it.
    kind: 'money',
    ask: /多少钱|几块钱|多少元|几元|多少万|多少[^，。？！\s]{0,4}(费|补贴|工资|奖金|报酬|经费)|(费|补贴|工资|奖金|报酬)[^，。？！\s]{0,4}(多少|几)/,
    answer: /\d+(\.\d+)?\s*(元|万元|块)|[一二三四五六七八九十百千万]+元/,
  },
  {
    kind: 'time',
    ask: /几天|几日|多少天|多少日|几个?月|多少个?月|几年|多少年|多久|多长时间|什么时[候间]|啥时[候间]?|何时|哪天|哪一天|几号|几月|时限|期限是|截止/,
    answer: new RegExp(
      `${NUM}\\s*(个)?(日|天|月|年|周|小时|周岁)|\\d{4}年|${NUM}月${NUM}日|届满|之前|以前|之后|以后|之日起|日内|当天|当日|当场|同时|期间|及时|随时|每(年|季度|季|月|周|届)|[本下上]?个?(月|周|星期|季度|年)(底|末|初|上旬|中旬|下旬|[一二三四五六日天])前?`,
    ),
  },
  {
    kind: 'count',
    ask: /几个(?!月|星期|小时|工作日)|几名|几位|几人|几户|几票|多少人|多少名|多少个|多少位|多少户|多少票|人数|名额|比例|几分之几/,
    answer: new RegExp(`${NUM}\\s*(人|名|位|户|票|个|项|次|届)|过半数|半数|${NUM}分之${NUM}|\\d+(\\.\\d+)?%|以上|以下|不少于|不得少于|多于|单数|奇数`),
  },
  {
    kind: 'who',
    ask: /谁|哪个(部门|单位|机关|机构|组织)|哪些人|什么人|啥人|哪级|哪一级|什么机关|什么部门|什么组织/,
    answer:
      /选举委员会|人民政府|村民会议|村民代表会议|居民会议|村民委员会|居民委员会|村民小组|党组织|党委|党支部|党总支|人民代表大会|常务委员会|民政部门|街道办事处|派出机关|组织部|纪检|监察|公安|法院|检察院|主持|负责|召集|推选|由[^，。；]{1,20}(组织|决定|确定|审查|提名|公布|主持|负责|召集|推选|批准)|选民|党员|本人/,
  },
  {
    kind: 'may',
    ask: /能不能|能否|可不可以|可以吗|可否|是否可以|是否能|允许|准不准|行不行|行吗|能吗|可以不|是否应当|是否必须|是否需要|要不要|需不需要|该不该|算不算|有没有权|是否有权|违不违|犯不犯|能.{1,8}吗|可以.{1,8}吗|是否/,
    answer: /可以|不得|应当|应该|禁止|严禁|不能|不准|不予|必须|须|有权|无权|不再|不允许|允许|视为|为无效|无效|不属于|属于|不受/,
  },
];

/** The kinds a question asks for (a compound question may ask two: 多少天，由谁公布). */
export function questionKinds(raw: string): QuestionKind[] {
  // 那几个人/这几位 point at people already named; they do not ask how many.
  const text = raw.replace(/[那这]几(个|位|名|人)/g, '那些人');
  const out: QuestionKind[] = [];
  for (const r of KIND_RULES) if (r.ask.test(text)) out.push(r.kind);
  return out;
}

/** The kinds in the order the question asks them (多少人联名，多少天内投票 → count, time). */
export function kindsInOrder(text: string): QuestionKind[] {
  const at = (k: QuestionKind) => kindRule(k).ask.exec(text)?.index ?? Infinity;
  return questionKinds(text).sort((a, b) => at(a) - at(b));
}

export function kindRule(kind: QuestionKind): KindRule {
  return KIND_RULES.find((r) => r.kind === kind)!;
}

/** True when the text states a fact of this kind. */
export function answersKind(kind: QuestionKind, text: string): boolean {
  return kindRule(kind).answer.test(text);
}

/**
 * The share of the asked kinds the text answers (1 when the question asks no kind):
 * a 多少天 question on a passage with no duration, a 由谁 question on one naming no actor.
 */
export function kindFit(kinds: QuestionKind[], text: string): number {
  if (kinds.length === 0) return 1;
  return kinds.filter((k) => answersKind(k, text)).length / kinds.length;
}

/** The phrase that decides an answer of each kind: the number with its unit and bound, the actor.
 * A time may also be a deadline on the calendar's own grid (本月底前, 下周五前, 年底前). */
/** A number or a range of numbers (三至七人, 5-9人). */
const RANGE = `${NUM}(?:[至到~-]${NUM})?`;

const DECIDING: Record<Exclude<QuestionKind, 'may'>, RegExp> = {
  money: /\d+(?:\.\d+)?\s*(?:元|万元|块)|[一二三四五六七八九十百千万]+元/,
  time: new RegExp(
    `(?:选举日的|届满前|提前)?${NUM}\\s*个?(?:工作日|日|天|月|年|周|小时)(?:以前|之前|前|以后|之后|后|以内|之内|内)?|${NUM}月${NUM}日|当日或者次日|当日|次日|(?:本|下|上|每)?个?(?:月|周|星期|季度|年)(?:底|末|初|上旬|中旬|下旬|[一二三四五六日天])(?:以前|之前|前)?`,
  ),
  count: new RegExp(`(?:不少于|不得少于|不超过|不得超过|至少|最多)?${RANGE}\\s*(?:人|名|户|票|个|位)(?:以上|以下|以内)?(?:的(?:户的)?代表)?|${NUM}分之${NUM}以上|过半数|半数以上`),
  who: /(?:村民选举委员会|居民选举委员会|乡、民族乡、镇的人民政府|乡(?:镇)?人民政府|街道办事处|村民会议|村民代表会议|居民会议|村民委员会|居民委员会|村民小组|党组织|人民代表大会常务委员会|民政部门|县级人民政府)/,
};

/** The unit a count question asks in (多少户 → 户, 几个人 → 人), if any. */
export function askedUnit(text: string): string | null {
  return /(?:几|多少)[个位名]?(人|名|户|票|位)/.exec(text)?.[1] ?? null;
}

/**
 * The deciding phrase of a sentence for a kind: the first number+unit, date, or actor it
 * states. A count asked in a unit (多少户) takes the first count of that unit, with the
 * unit's words (三分之二以上的户的代表); a sentence with none of that unit has none.
 */
export function decidingPhrase(kind: QuestionKind, sentence: string, unit: string | null = null): string | null {
  if (kind === 'may') return null;
  if (kind === 'count' && unit) {
    for (const m of sentence.matchAll(new RegExp(DECIDING.count.source, 'g'))) {
      if (m[0].includes(unit)) return m[0];
      const after = sentence.slice(m.index! + m[0].length, m.index! + m[0].length + 6);
      const at = after.indexOf(unit);
      if (at >= 0 && !/[，。；、]/.test(after.slice(0, at))) return m[0] + after.slice(0, at + 1) + (after.slice(at + 1).startsWith('的代表') ? '的代表' : '');
    }
    return null;
  }
  if (kind === 'who') {
    // The actor is who the sentence says does it: 由乡镇人民政府组织 → 乡镇人民政府.
    const by = /由([^，。；、]{2,24}?)(?:负责|主持|组织|召集|公布|提名|确定|审查|决定|推选|批准|代|统一|依法|指导|规定)/.exec(sentence);
    if (by) return by[1]!;
  }
  return DECIDING[kind].exec(sentence)?.[0] ?? null;
}
