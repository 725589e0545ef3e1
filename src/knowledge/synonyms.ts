/**
 * The domain thesaurus: how cadres say things in chat versus how the documents say
 * them. The vocabulary itself is data (lexicon.tsv, one reviewed entry a line with its
 * reason); this module exposes it in the shapes the segmenter, query analysis and
 * re-ranking use. Question words and chat fillers (below) are grammar, kept in code.
 */
import { compileLexicon, lexicon } from './lexicon.js';

const LEXICON = compileLexicon(lexicon());

/**
 * Words the segmenter must keep whole (loaded into jieba as a user dictionary): the
 * domain terms, and the colloquial words, which must come out of a question as one
 * word to be looked up (送钱, 不干了, 最多 would otherwise be cut 送/钱, 不干/了, 最/多).
 */
export const DOMAIN_TERMS: string[] = [...new Set([...LEXICON.terms, ...LEXICON.colloquial.keys()])];

/**
 * Equivalence groups: any member found in a question also searches for the others.
 * The first entry is the documents' usual wording. Their words are also kept whole by
 * the segmenter, so they hold true synonyms only (提名 ≠ 候选人, 申诉 ≠ 异议).
 */
export const SYNONYM_GROUPS: string[][] = LEXICON.groups;

/**
 * Colloquial words and the legal words they also search for, one way (老丈人 → 岳父,
 * 近姻亲, 近亲属; 近亲属 does not search for 老丈人, and 老丈人 is no synonym of 儿媳).
 * These are everyday words the general dictionary already holds: they are not loaded
 * into the segmenter, which would change how documents are cut.
 */
export const COLLOQUIAL: ReadonlyMap<string, string[]> = LEXICON.colloquial;

/**
 * One-way rewrites applied to the question text before segmentation: vocabulary
 * phrases from the lexicon (longest first), then question-form rules (how a question is
 * asked, never what it is about).
 */
export const PHRASE_REWRITES: [RegExp, string][] = [
  ...LEXICON.rewrites,
  // "within how many days" and "how many people" are the answer asked for, not content.
  [/(多少|几)[天日](之内|以内|内)/g, ' '],
  // 多长时间 asks how long (多久); cut apart it would leave 长时间 (a long time) as content.
  [/多长时间/g, ' 多久 '],
  [/谁来主持|谁主持/g, ' 主持 '],
  [/有个人|有个别人|有人/g, ' 有人 '],
  [/能不能|可不可以|行不行|能否|是否|要不要|会不会|算不算|有没有|是不是|违不违反|需不需要|该不该|用不用/g, ' '],
  [/提前(多少|几)[天日]/g, ' 提前 '],
  // A question numeral binds its classifier (多少人才能开 is 多少人 / 才能 / 开, not 人才;
  // 多少户设一个 is 多少户 / 设, not 户设): cut it off before the segmenter fuses it onward.
  [/(多少|几)个?[人户名位家票次天日年月项条种类]/g, ' $& '],
];

/** Words that carry no content in a question. */
export const QUESTION_STOPWORDS = new Set<string>([
  '吗', '呢', '啊', '吧', '呀', '么', '嘛', '哦', '哈', '的', '了', '是', '要', '能', '会', '可', '还', '都', '就', '也', '又',
  '在', '和', '与', '及', '或', '把', '被', '给', '让', '对', '从', '到', '向', '由', '于', '以', '为', '之', '其',
  '能不能', '可以', '可不可以', '行不行', '能否', '是否', '有没有', '是不是', '算不算', '要不要', '需不需要',
  '怎么', '怎样', '怎么样', '如何', '咋', '咋整', '咋办', '啥', '什么', '哪些', '哪', '哪个', '哪里', '哪儿', '几', '几个',
  '多少', '多久', '多长', '多大', '多少钱', '为什么', '为啥', '谁', '谁来', '何时', '什么时候', '啥时候',
  '我', '我们', '咱', '咱们', '你', '你们', '他', '她', '它', '他们', '她们', '自己', '人家', '有人', '别人',
  '说', '讲', '问', '请问', '一下', '具体', '具体指', '指', '规定', '关于', '那条', '这条', '怎么说', '里', '里面',
  '一般', '必须', '需要', '应该', '应当', '得', '这个', '那个', '这些', '那些', '这样', '那样', '有', '没', '没有', '不',
  '吗?', '呢?', '了吗', '么样', '情况', '问题', '时候', '以后', '之后', '现在', '这次', '那么', '然后', '还是', '或者',
  '正在', '已经', '曾经', '刚', '马上', '还在', '几年', '几天', '几次', '多少天', '多少年', '多少次', '多少人', '几个人', '哪几', '哪几个',
  '意思', '含义', '啥意思', '什么意思', '定义', '概念', '内容',
  '能够', '可能', '才', '才能', '最', '很', '都是', '就是', '一个', '一些', '等', '等等', '上', '下', '中',
  // Chat fillers: greetings, hedges, discourse particles, pro-forms.
  '你好', '您好', '领导', '老师', '麻烦', '谢谢', '请教', '问下', '问一下', '想问', '想问下', '我想问', '请问下', '急', '在线等', '求助',
  '呗', '咧', '嗯', '额', '呃', '哎', '哈哈', '啦', '喽', '嘞', '噢', '哇', '吗吗', '么么',
  '就要', '还能', '还要', '还得', '又要', '那个人', '这种', '那种', '这事', '那事', '这件事', '最后', '到底', '究竟', '反正', '其实',
  '俺', '俺们', '俺家', '咱家', '大伙', '大伙儿', '大家伙', '顺带', '顺便', '到底是',
  '里头', '里边', '上头', '这边', '那边', '当中', '其中', '一样', '同样',
  '一般来说', '之类', '什么的', '啥的', '搞', '弄', '整', '干啥', '行', '行不', '好', '对吗', '对不对', '可以吗', '成不',
  '已经', '又', '再', '一下子', '一直', '总是', '老是', '平时', '比如', '例如', '譬如', '假如', '如果', '要是', '的话', '那么',
]);

let synonymIndex: Map<string, string[]> | null = null;

/**
 * Every term a question word also searches for (excluding itself): the members of each
 * synonym group it belongs to, then the legal words of a colloquial entry and their groups.
 */
export function synonymsOf(term: string): string[] {
  if (!synonymIndex) {
    synonymIndex = new Map();
    for (const group of SYNONYM_GROUPS) {
      for (const t of group) {
        const list = synonymIndex.get(t) ?? [];
        for (const other of group) if (other !== t && !list.includes(other)) list.push(other);
        synonymIndex.set(t, list);
      }
    }
    // A colloquial word means its legal words, in any of their spellings (女的 → 妇女 →
    // 妇女成员): the legal words' groups are added, read before the colloquial entries.
    const groupMates = new Map(synonymIndex);
    for (const [word, legal] of COLLOQUIAL) {
      const list = synonymIndex.get(word) ?? [];
      for (const l of legal) for (const t of [l, ...(groupMates.get(l) ?? [])]) if (t !== word && !list.includes(t)) list.push(t);
      synonymIndex.set(word, list);
    }
  }
  return synonymIndex.get(term) ?? [];
}

/** Every word the lexicon names (terms, synonyms, colloquial words and their legal words): known words. */
export const LEXICON_WORDS: ReadonlySet<string> = new Set<string>([
  ...DOMAIN_TERMS,
  ...SYNONYM_GROUPS.flat(),
  ...[...COLLOQUIAL].flatMap(([w, legal]) => [w, ...legal]),
]);
