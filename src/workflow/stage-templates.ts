import type { VillageType } from './types.js';

/**
 * The stage templates for 村 and 社区, as data (SPEC §2.2). Each stage has a
 * stable key (stored in the database), its name and the words people use for
 * it, its order, the stages that must be 已完成 before it may start, and its
 * default deadline counted back from the election day (倒排工期: offset in
 * calendar days, negative = before). `rule` cites where the timing or the
 * prerequisite comes from, when a text says so; `source` names a seed when
 * the practice comes from the seeds rather than a law. docs/workflow.md
 * prints this table.
 *
 * The election day (选举日, sheet 村社区) is the day of the 村(居)民委员会
 * election, the day the law counts from (组织法 第十四条).
 */
export interface StageTemplate {
  key: string;
  name: string;
  aliases: string[];
  order: number;
  prerequisites: string[];
  offsetDays: number;
  /** Only done when needed (另行选举): not counted as missing in progress. */
  optional?: boolean;
  rule?: string;
  source?: string;
}

const ZZF = '《村民委员会组织法》';
const JZF = '《城市居民委员会组织法》';

const village: StageTemplate[] = [
  {
    key: 'audit',
    name: '审计',
    aliases: ['经济责任审计', '离任审计', '任期审计', '离任经济责任审计', '审计公开', '财务审计'],
    order: 1,
    prerequisites: [],
    offsetDays: -45,
    rule: `${ZZF}第三十五条：离任经济责任审计结果应当在下一届村民委员会选举之前公布`,
    source: 'seed 001：先审计、后换届，没有开展经济责任审计的一律不能进行换届选举',
  },
  {
    key: 'survey',
    name: '摸底研判',
    aliases: ['摸底', '分析研判', '调查摸底', '摸排', '研判', '排查'],
    order: 2,
    prerequisites: [],
    offsetDays: -40,
    source: 'seed 002：双考核双回头、三下三上；seed 003：风险清单、一村一策',
  },
  {
    key: 'election_committee',
    name: '推选选举委员会',
    aliases: ['选举委员会', '村民选举委员会', '选委会', '推选选委会'],
    order: 3,
    prerequisites: [],
    offsetDays: -35,
    rule: `${ZZF}第十二条：村民委员会的选举，由村民选举委员会主持`,
  },
  {
    key: 'recommend',
    name: '推荐',
    aliases: ['两推', '党员推荐', '群众推荐', '民主推荐', '推荐人选'],
    order: 4,
    prerequisites: ['survey'],
    offsetDays: -30,
    source: 'seed 002：参加推荐的党员和村民代表需超过应到会人数一半以上',
  },
  {
    key: 'voter_registration',
    name: '选民登记',
    aliases: ['登记', '登记选民', '参选登记'],
    order: 5,
    prerequisites: ['election_committee'],
    offsetDays: -25,
    rule: `${ZZF}第十三条：村民委员会选举前，应当对下列人员进行登记，列入参加选举的村民名单`,
  },
  {
    key: 'review',
    name: '资格审查',
    aliases: ['审查', '联审', '资格联审', '初审', '县级联审', '联审联查'],
    order: 6,
    prerequisites: ['recommend'],
    offsetDays: -25,
    source: 'seed 002：乡镇初审、12个县直部门联审，严格执行“十五不能”',
  },
  {
    key: 'voter_list',
    name: '选民名单公布',
    aliases: ['名单公布', '公布选民名单', '选民榜', '选民名单'],
    order: 7,
    prerequisites: ['voter_registration'],
    offsetDays: -20,
    rule: `${ZZF}第十四条第一款：登记参加选举的村民名单应当在选举日的二十日前由村民选举委员会公布`,
  },
  {
    key: 'inspect',
    name: '考察公示',
    aliases: ['考察', '公示', '组织考察', '人选公示'],
    order: 8,
    prerequisites: ['review'],
    offsetDays: -18,
    source: 'seed 002：县委组织部与县纪委组成考察组，对候选人预备人选进行考察',
  },
  {
    key: 'objections',
    name: '选民名单异议处理',
    aliases: ['异议处理', '异议', '申诉', '选民申诉'],
    order: 9,
    prerequisites: ['voter_list'],
    // Published by day −20; complaints within 5 days, answered within 3 days: −20 + 5 + 3.
    offsetDays: -12,
    rule: `${ZZF}第十四条第二款：自名单公布之日起五日内申诉，选举委员会自收到申诉之日起三日内作出处理决定`,
  },
  {
    key: 'commitment',
    name: '承诺谈话',
    aliases: ['选前谈话', '承诺', '纪律承诺', '签承诺书', '承诺书', '警示教育'],
    order: 10,
    prerequisites: ['inspect'],
    offsetDays: -12,
    source: 'seed 001：一对一谈心谈话、签订遵守换届纪律承诺书、组织收看警示片',
  },
  {
    key: 'party_election',
    name: '党组织选举',
    aliases: ['党支部选举', '支部选举', '党员大会', '党组织换届', '党总支选举'],
    order: 11,
    prerequisites: ['audit', 'commitment'],
    offsetDays: -10,
    source: 'seed 002：推荐、联审、考察、谈话、确定人选、公示、承诺、大会选举',
  },
  {
    key: 'nomination',
    name: '候选人提名',
    aliases: ['提名', '直接提名', '提名候选人', '候选人'],
    order: 12,
    prerequisites: ['voter_list', 'review'],
    offsetDays: -7,
    rule: `${ZZF}第十五条第一款：由登记参加选举的村民直接提名候选人，候选人的名额应当多于应选名额`,
  },
  {
    key: 'committee_election',
    name: '村委会选举',
    aliases: ['选举', '投票', '村委选举', '村委会换届', '村民委员会选举', '大会选举'],
    order: 13,
    prerequisites: ['audit', 'voter_list', 'objections', 'nomination'],
    offsetDays: 0,
    rule: `${ZZF}第十五条第二款：登记参加选举的村民过半数投票，选举有效；获得参加投票的村民过半数的选票，始得当选`,
    source: 'seed 001：先审计、后换届',
  },
  {
    key: 'reelection',
    name: '另行选举',
    aliases: ['补选', '另选'],
    order: 14,
    prerequisites: ['committee_election'],
    offsetDays: 7,
    optional: true,
    rule: `${ZZF}第十五条第二款：当选人数不足应选名额的，不足的名额另行选举`,
  },
  {
    key: 'supervision',
    name: '监委会及小组长代表推选',
    aliases: ['监委会', '村务监督委员会', '村民小组长', '村民代表', '小组长', '监委会选举'],
    order: 15,
    prerequisites: ['committee_election'],
    offsetDays: 10,
    rule: `${ZZF}第三十二条（村务监督委员会）、第二十八条（村民小组长）、第二十五条（村民代表）`,
  },
  {
    key: 'handover',
    name: '工作交接',
    aliases: ['交接', '移交', '工作移交'],
    order: 16,
    prerequisites: ['committee_election'],
    offsetDays: 10,
    rule: `${ZZF}第二十条：自新一届村民委员会产生之日起十日内完成工作移交`,
  },
  {
    key: 'filing',
    name: '备案归档',
    aliases: ['备案', '归档', '总结归档', '总结', '结果备案'],
    order: 17,
    prerequisites: ['handover'],
    offsetDays: 20,
    source: 'seed 001：选举结束的组织批复、选举结果呈报、工作交接、总结归档都要及时准确',
  },
];

/**
 * 社区: the same course; the 居民委员会 law sets no day counts, so the county's
 * timetable (usually modelled on the village one) gives the deadlines, and the
 * rules cite what the 居委会 law does say.
 */
const community: StageTemplate[] = village.map((s): StageTemplate => {
  switch (s.key) {
    case 'audit':
      return { ...s, rule: undefined, source: 'seed 001：各社区按照要求时限完成审计工作，并对审计结果进行公开' };
    case 'election_committee':
      return { ...s, aliases: ['选举委员会', '居民选举委员会', '选委会', '推选选委会'], rule: undefined, source: '参照村民选举委员会（组织法第十二条）' };
    case 'voter_registration':
      return { ...s, rule: `${JZF}第八条：居民委员会成员由本居住地区全体有选举权的居民或者每户派代表选举产生` };
    case 'voter_list':
      return { ...s, rule: undefined, source: `${JZF}未规定天数；模板参照${ZZF}第十四条，在选举日二十日前公布` };
    case 'objections':
      return { ...s, rule: undefined, source: `参照${ZZF}第十四条第二款（五日内申诉，三日内处理）` };
    case 'nomination':
      return { ...s, rule: undefined, source: '按本省居民委员会选举办法' };
    case 'committee_election':
      return {
        ...s,
        name: '居委会选举',
        aliases: ['选举', '投票', '居委选举', '居委会换届', '居民委员会选举', '大会选举'],
        rule: `${JZF}第七条、第八条：居民委员会由主任、副主任和委员共五至九人组成，由居民选举产生`,
      };
    case 'reelection':
      return { ...s, rule: undefined };
    case 'supervision':
      return {
        ...s,
        name: '居务监督委员会及居民小组长推选',
        aliases: ['监委会', '居务监督委员会', '居民小组长', '小组长', '居民代表'],
        rule: `${JZF}第十四条：居民小组长由居民小组推选`,
      };
    case 'handover':
      return { ...s, rule: undefined, source: `${JZF}未规定期限；参照${ZZF}第二十条，十日内完成` };
    default:
      return s;
  }
});

export const STAGE_TEMPLATES: Readonly<Record<VillageType, readonly StageTemplate[]>> = { 村: village, 社区: community };

export function stagesFor(type: VillageType): readonly StageTemplate[] {
  return STAGE_TEMPLATES[type];
}

export function stageByKey(type: VillageType, key: string): StageTemplate | undefined {
  return STAGE_TEMPLATES[type].find((s) => s.key === key);
}

/** Problems in a template (unknown or later prerequisites, duplicate names): checked by the tests and at start. */
export function checkTemplate(stages: readonly StageTemplate[]): string[] {
  const problems: string[] = [];
  const byKey = new Map(stages.map((s) => [s.key, s]));
  const words = new Map<string, string>();
  const orders = new Set<number>();
  for (const s of stages) {
    if (orders.has(s.order)) problems.push(`duplicate order ${s.order}`);
    orders.add(s.order);
    for (const w of [s.name, ...s.aliases]) {
      const prev = words.get(w);
      if (prev && prev !== s.key) problems.push(`word ${w} names both ${prev} and ${s.key}`);
      words.set(w, s.key);
    }
    for (const p of s.prerequisites) {
      const ps = byKey.get(p);
      if (!ps) problems.push(`${s.key}: unknown prerequisite ${p}`);
      else if (ps.order >= s.order) problems.push(`${s.key}: prerequisite ${p} comes later`);
      else if (ps.offsetDays > s.offsetDays) problems.push(`${s.key}: prerequisite ${p} is due after it`);
    }
  }
  return problems;
}
