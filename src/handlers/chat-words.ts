/**
 * The word lists of the chat intake, as data in one place: what counts as
 * small talk (greetings, thanks, acknowledgements…), what marks a text as a
 * question, and the homophones used to recognise a mistyped command word.
 * Every entry is ordinary chat Chinese/English, not wording taken from a test
 * or an evaluation question. Entries are compared after NFKC, Traditional →
 * Simplified, lower case, and with spaces, punctuation and emoji removed
 * (so "Thank you!" is "thankyou", "謝謝～" is "谢谢").
 */

export type SmallTalkKind = 'greeting' | 'thanks' | 'ack' | 'bye' | 'laugh';

/** Whole messages (possibly repeated, possibly with FILLERS around them) that are not questions. */
export const SMALL_TALK_WORDS: Readonly<Record<SmallTalkKind, readonly string[]>> = {
  greeting: [
    '你好', '您好', '你们好', '大家好', '在吗', '在不在', '在么', '在嘛', '在',
    '早', '早上好', '早安', '上午好', '中午好', '下午好', '晚上好', '晚安', '哈喽', '嗨', '喂',
    'hi', 'hello', 'hey', 'hallo', 'helo', 'good morning', 'morning', 'good afternoon', 'good evening',
  ],
  thanks: [
    '谢谢', '谢了', '多谢', '感谢', '非常感谢', '十分感谢', '太感谢了', '谢谢啦', '辛苦了', '辛苦', '辛苦辛苦', '麻烦了', '费心了', '劳驾',
    '谢', '3q', 'thanks', 'thank you', 'thx', 'ty', 'thank u',
  ],
  ack: [
    '好', '好的', '好滴', '好嘞', '好吧', '行', '行的', '可以', '可以了', '没问题', '收到', '已收到', '收到了', '明白', '明白了', '知道了', '懂了', '了解', '了解了',
    '晓得了', '清楚了', '嗯', '嗯嗯', '哦', '噢', '对', '对的', '是的', '是', '棒', '很好', '不错', '赞', '厉害', '牛', '好用', '有用',
    'ok', 'okay', 'okk', 'okok', 'yes', 'yep', 'good', 'great', 'nice', 'cool', 'got it', 'roger', 'fine',
  ],
  bye: ['再见', '拜拜', '回见', '下次见', '先这样', '没事了', '没有了', '不用了', 'bye', 'byebye', 'goodbye', 'see you'],
  laugh: ['哈哈', '呵呵', '嘿嘿', '嘻嘻', '哈', 'haha', 'lol'],
};

/** Particles and words that may surround small talk ("谢谢啦", "谢谢你的回答"). */
export const SMALL_TALK_FILLERS: readonly string[] = [
  '啊', '呀', '啦', '嘛', '哦', '噢', '喔', '呢', '了', '哈', '哟', '呐', '嗯', '哇', '咯', '滴',
  '非常', '真是', '真的', '太', '很', '的', '回答', '解答', '帮助', '帮忙', '指导', '支持',
];

/** Forms of address: around small talk ("您好领导"), or alone (calling the bot: "助手", "老师"). */
export const SMALL_TALK_ADDRESSES: readonly string[] = [
  '你', '您', '你们', '大家', '各位', '老师', '领导', '同志', '助手', '小助手', '换届助手', '机器人', '机器人助手',
];

/** The longest message (after removing punctuation and spaces) that may still be small talk. */
export const SMALL_TALK_MAX_CHARS = 16;

/**
 * Words that make a message a question (then it goes to the policy Q&A, never to
 * a command suggestion). Question marks are checked separately.
 */
export const QUESTION_WORDS: readonly string[] = [
  '什么', '怎么', '怎样', '如何', '多少', '多久', '多长', '多大', '几个', '几天', '几日', '几月', '几号', '几人', '几名', '几次', '几年', '第几',
  '哪', '谁', '为何', '为什么', '是否', '能否', '可否', '能不能', '可不可以', '可以吗', '要不要', '是不是', '有没有', '会不会', '该不该', '行不行',
  '请问', '咨询', '吗', '呢', '咋', '何时', '何种', '有哪些', '需要', '应该', '规定', '要求',
];

/**
 * Characters by their reading (toneless pinyin), for the characters of the
 * command words: a cadre typing with a pinyin IME picks a neighbour of the
 * right character (进渡 for 进度, 帮主 for 帮助). Only readings of command-word
 * characters are listed; each group lists common characters of that reading.
 */
export const HOMOPHONES: Readonly<Record<string, string>> = {
  bang: '帮邦棒榜绑傍磅膀梆',
  zhu: '助主住注著柱祝驻筑铸猪朱珠株诸蛛竹逐烛煮嘱',
  cai: '菜才材财采彩踩睬猜裁蔡',
  dan: '单但担胆蛋淡弹丹耽旦诞',
  yong: '用永勇涌拥泳咏庸佣踊',
  fa: '法发罚乏伐阀筏',
  jin: '进近今金尽紧仅斤劲禁津筋锦晋浸谨巾',
  du: '度渡读都毒独堵赌杜肚妒镀督睹',
  wan: '完万晚碗玩湾弯挽婉顽丸腕宛',
  cheng: '成城程诚称乘承呈撑秤惩澄橙逞',
  wo: '我握窝沃卧蜗涡',
  de: '的得德地',
  ren: '任人认仁忍刃韧',
  wu: '务物无五午武舞雾误悟屋污吴乌伍捂勿',
  tan: '谈谭坛叹探炭摊滩贪潭坦毯碳',
  hua: '话化花华画划滑哗',
  feng: '风丰封峰锋疯蜂枫烽冯逢缝奉凤讽',
  xian: '险先现线县限鲜显闲献宪陷仙掀弦咸嫌贤衔馅羡纤',
  wen: '问文闻温稳吻纹蚊紊瘟',
  ti: '题提体替梯踢蹄剃啼屉',
  jie: '结接街节界解姐借介届洁杰截揭劫戒皆阶诫捷',
  gou: '构够购沟狗钩勾苟垢',
  ri: '日',
  bao: '报保包宝饱抱暴爆豹堡胞',
  yu: '逾于与予余鱼语雨遇预玉域欲愈誉育狱浴寓裕豫渝娱愉榆虞宇羽御郁喻淤',
  qi: '期其起气七妻齐奇骑旗棋企启器汽弃泣契砌漆欺戚歧祈乞岂',
  dao: '导到道倒岛刀稻盗悼蹈捣祷',
  chu: '出处初除础储厨触楚畜锄橱',
  che: '撤车彻扯澈',
  xiao: '销小笑效校消晓肖宵萧孝啸霄硝潇削箫',
};
