import { describe, expect, it } from 'vitest';
import type { Concept } from '../../src/knowledge/query.js';
import type { Passage } from '../../src/knowledge/retrieve.js';
import { askingClauses } from '../../src/knowledge/retrieve.js';
import { ABSTAIN_COVERAGE, RESCUE_MARGIN, decideAbstention } from '../../src/knowledge/abstain.js';
import { askedUnit, decidingPhrase, kindsInOrder, questionKinds } from '../../src/knowledge/question-type.js';
import { completeSentences, sentencesOf } from '../../src/knowledge/sentences.js';

/** Decline decision (issue 15, item 3), question kinds and whole-sentence answers (item 5). */

const concept = (word: string, weight = 1): Concept => ({ word, alts: [{ token: word, parts: [], credit: 1, via: 'word' }], weight });
let nextId = 1;
function passage(o: { coverage: number; score: number; matched: string[]; text?: string; sentence?: number; locator?: string; ownRegion?: boolean }): Passage {
  const id = nextId++;
  return {
    chunk: { id, doc_id: id, locator: o.locator ?? `第${id}条`, text: o.text ?? '村民委员会应当公布。' },
    score: o.score,
    coverage: o.coverage,
    sentence: o.sentence ?? o.coverage,
    matched: o.matched,
    ranks: {},
    channelScores: {},
    superseded: false,
    ownRegion: o.ownRegion,
  } as unknown as Passage;
}

describe('question kinds', () => {
  it('reads count, time, who and may from the question words', () => {
    expect(questionKinds('村委会最少几个人')).toEqual(['count']);
    expect(questionKinds('选民名单提前几天公布')).toEqual(['time']);
    expect(questionKinds('罢免以后几个月能重新参选')).toEqual(['time']);
    expect(questionKinds('选举由谁主持')).toEqual(['who']);
    expect(questionKinds('村主任能不能兼任会计')).toEqual(['may']);
    // 那几个人 points at people named before: no count asked.
    expect(questionKinds('原来那几个人还能再选进去吗')).toEqual(['may']);
    expect(kindsInOrder('要多少人联名，多少天内组织投票')).toEqual(['count', 'time']);
  });

  it('finds the deciding number, date or actor of a sentence', () => {
    expect(decidingPhrase('time', '村民名单应当在选举日的二十日前由村民选举委员会公布。')).toBe('选举日的二十日前');
    expect(decidingPhrase('count', '村民委员会由主任、副主任和委员共三至七人组成。')).toBe('三至七人');
    expect(decidingPhrase('who', '村民选举委员会不依法组织的，由乡镇人民政府代其依法组织选举。')).toBe('乡镇人民政府');
    expect(askedUnit('到多少户的代表才算数')).toBe('户');
    expect(decidingPhrase('count', '有本村十八周岁以上村民的过半数，或者本村三分之二以上的户的代表参加', '户')).toBe('三分之二以上的户的代表');
    expect(decidingPhrase('may', '不得担任监票人。')).toBeNull();
  });

  it('splits a question asking two things into its asking clauses', () => {
    expect(askingClauses('正式候选人名单啥时候贴出来？要是候选人不想干了最晚哪天说')).toEqual(['正式候选人名单啥时候贴出来', '要是候选人不想干了最晚哪天说']);
    expect(askingClauses('村委会一届干几年')).toHaveLength(1);
  });
});

describe('decline decision', () => {
  const cs = [concept('委托'), concept('投票'), concept('近亲属')];

  it('answers above the coverage bar, declines below it without a clear winner', () => {
    expect(decideAbstention(3, [passage({ coverage: ABSTAIN_COVERAGE + 0.05, score: 0.6, matched: ['委托', '投票'] })], undefined, cs).abstain).toBe(false);
    const weak = [passage({ coverage: 0.38, score: 0.5, matched: ['委托', '投票'] }), passage({ coverage: 0.37, score: 0.49, matched: ['投票'] })];
    expect(decideAbstention(3, weak, undefined, cs)).toMatchObject({ abstain: true, reason: 'weak_evidence' });
  });

  it('keeps a clear winner below the bar: rank 1 stands out, its words in one sentence, two words matched', () => {
    const clear = [passage({ coverage: 0.38, score: 0.5 + RESCUE_MARGIN, matched: ['委托', '投票'] }), passage({ coverage: 0.3, score: 0.49, matched: ['投票'] })];
    expect(decideAbstention(3, clear, undefined, cs).abstain).toBe(false);
    // Words scattered over the passage (best sentence far below its coverage): declined.
    const scattered = [passage({ coverage: 0.38, score: 0.6, sentence: 0.2, matched: ['委托', '投票'] }), passage({ coverage: 0.3, score: 0.49, matched: ['投票'] })];
    expect(decideAbstention(3, scattered, undefined, cs).abstain).toBe(true);
  });

  it('needs less coverage when the named region’s own rule ranks first', () => {
    const own = [passage({ coverage: 0.35, score: 0.5, matched: ['委托', '投票'], ownRegion: true }), passage({ coverage: 0.34, score: 0.49, matched: ['投票'] })];
    expect(decideAbstention(3, own, undefined, cs).abstain).toBe(false);
    own[0]!.ownRegion = false;
    expect(decideAbstention(3, own, undefined, cs).abstain).toBe(true);
  });

  it('declines a passage sharing one keyword with a question of three or more words', () => {
    const one = [passage({ coverage: 0.5, score: 0.6, matched: ['近亲属'] })];
    expect(decideAbstention(3, one, undefined, cs)).toMatchObject({ abstain: true, reason: 'one_keyword' });
  });

  it('declines a count, time or who question when no top passage states such a fact', () => {
    const noNumber = [passage({ coverage: 0.8, score: 0.7, matched: ['委托', '投票'], text: '选民可以委托近亲属投票。' })];
    expect(decideAbstention(3, noNumber, undefined, cs, '委托投票最多能委托几个人')).toMatchObject({ abstain: true, reason: 'wrong_kind' });
    const withNumber = [passage({ coverage: 0.8, score: 0.7, matched: ['委托', '投票'], text: '每一选民接受委托投票不得超过三人。' })];
    expect(decideAbstention(3, withNumber, undefined, cs, '委托投票最多能委托几个人').abstain).toBe(false);
  });

  it('answers 最晚哪天 with a day relative to the election, not only a calendar date', () => {
    const date: Concept = { word: '#日期', alts: [], weight: 1, answerType: { name: '日期', pattern: /\d+月\d+日/ } };
    const rel = [passage({ coverage: 0.8, score: 0.7, matched: ['委托', '投票'], text: '应当在选举日的三日前书面提出。' })];
    expect(decideAbstention(3, rel, undefined, [...cs, date], '退出最晚哪天说').abstain).toBe(false);
    expect(decideAbstention(3, rel, undefined, [...cs, date], '投票日定在几月几号')).toMatchObject({ abstain: true, reason: 'no_such_fact' });
  });
});

describe('whole sentences', () => {
  it('ends sentences at full stops, not at the semicolons joining one rule', () => {
    expect(sentencesOf('第九条 成员被提名为候选人的，应当退出；不退出的，由村民会议决定。其他事项另定。')).toEqual([
      '成员被提名为候选人的，应当退出；不退出的，由村民会议决定。',
      '其他事项另定。',
    ]);
  });

  it('shortens an over-long sentence to whole clauses around the one covering the question', () => {
    const s = '甲'.repeat(30) + '；选民名单应当在选举日的二十日前公布；' + '乙'.repeat(30) + '。';
    const out = completeSentences(s, 50, (c) => (c.includes('选民名单') ? 1 : 0));
    expect(out).toContain('选民名单应当在选举日的二十日前公布');
    expect(out.length).toBeLessThanOrEqual(50 + 4);
    expect(out.replace(/……/g, '')).not.toMatch(/^[^；]*甲[^；]*$/);
  });
});

describe('money asked', () => {
  it('declines a question asking a sum when no top passage states one', () => {
    expect(questionKinds('选举那天给来投票的村民发多少误工费')).toContain('money');
    const cs = [concept('误工'), concept('选举'), concept('村民')];
    const noSum = [passage({ coverage: 0.6, score: 0.6, matched: ['误工', '选举'], text: '村民委员会成员给予适当误工补贴。' })];
    expect(decideAbstention(3, noSum, undefined, cs, '选举那天给来投票的村民发多少误工费')).toMatchObject({ abstain: true, reason: 'wrong_kind' });
  });
});
