import { describe, expect, it } from 'vitest';
import { HOMOPHONES, SMALL_TALK_WORDS } from '../../src/handlers/chat-words.js';
import type { CommandWords } from '../../src/handlers/command-router.js';
import { looksLikeQuestion, suggestCommand, suggestSpacing } from '../../src/handlers/command-suggest.js';
import { COMMANDS, parseCommand } from '../../src/handlers/commands.js';
import { classifySmallTalk } from '../../src/handlers/small-talk.js';

/** The parts on their own; tests/handlers/small-talk-intake.test.ts runs them through the real intake. */
const words: CommandWords = {
  villages: () => ['城西村', '城东村', '南关社区', '王家庄村'],
  townships: () => ['沁河镇', '郭道镇'],
  talkSubjects: () => ['张三', '候选人城西0'],
  today: () => '2026-11-05',
};
const none: CommandWords = { villages: () => [], townships: () => [], talkSubjects: () => [], today: () => '2026-11-05' };

describe('suggestCommand', () => {
  it.each([
    ['完成城西村承诺谈话', '完成 城西村 承诺谈话'],
    ['完成王家庄承诺谈话', '完成 王家庄 承诺谈话'],
    ['／完成城西村资格审查', '完成 城西村 资格审查'],
    ['完成城西村审计 11月1日', '完成 城西村 审计 11月1日'],
    ['进度南关社区', '进度 南关社区'],
    ['进度沁河镇', '进度 沁河镇'],
    ['进度城西村选举进行中参选率94%', '进度 城西村 选举 进行中 参选率94%'],
    ['谈话张三选前谈话完成未签承诺书', '谈话 张三 选前谈话 完成 未签承诺书'],
    ['风险城西村拉票严重有人送礼', '风险 城西村 拉票 严重 有人送礼'],
    ['结构城西村 女性=1', '结构 城西村 女性=1'],
    ['进渡 城西村', '进度 城西村'],
    ['近度 城西村', '进度 城西村'],
    ['进展 城西村', '进度 城西村'],
    ['進渡 城西村', '进度 城西村'],
    ['帮主', '帮助'],
    ['幫主', '帮助'],
    ['撤消', '撤销'],
    ['日抱', '日报'],
    ['我得', '我的'],
    ['谈化', '谈话'],
    ['hepl', 'help'],
    ['城西村进度', '进度 城西村'],
    ['城西村完成审计', '完成 城西村 审计'],
    ['城西村 完成 审计 11月1日', '完成 城西村 审计 11月1日'],
    ['沁河镇进度', '进度 沁河镇'],
    ['张三谈话完成', '谈话 张三 完成'],
    ['ｈｅｐｌ', 'help'],
    ['完成城西村承諾談話', '完成 城西村 承诺谈话'],
  ])('%j → %j', (text, command) => {
    expect(suggestCommand(text, words)?.command).toBe(command);
  });

  it('tells a missing space from a mistyped word and a name written first', () => {
    expect(suggestCommand('城西村完成审计', words)).toEqual({ command: '完成 城西村 审计', kind: 'order', typed: '完成', word: '完成' });
    expect(suggestCommand('完成城西村审计', words)).toEqual({ command: '完成 城西村 审计', kind: 'spacing', typed: '完成', word: '完成' });
    expect(suggestCommand('进渡 城西村', words)).toEqual({ command: '进度 城西村', kind: 'typo', typed: '进渡', word: '进度' });
  });

  it.each([
    '完成选民登记要多少天？',
    '完成选民登记要多少天',
    '完成城西村的选举',
    '完成城西村承诺谈话了吗',
    '进度城西村怎么样',
    '进度城西村选举',
    '帮助我看看这个问题',
    '我们 城西村',
    '完美',
    '进行 城西村 选举',
    '结果怎么样',
    '文体 活动 很多',
    '我的村什么时候选举',
    '撤销登记',
    '进渡 某某村',
    '城西村',
    '城西村完成了',
    '城西村的进度',
    '城西村进度怎么样',
    '城西村 完成',
    '完成 城西村 审计',
    '',
  ])('%j is not a near-command', (text) => {
    expect(suggestCommand(text, words)).toBeNull();
  });

  it('without a roster, glued text is not split, but the word alone still is', () => {
    expect(suggestCommand('完成城西村承诺谈话', none)).toBeNull();
    expect(suggestCommand('帮主', none)?.command).toBe('帮助');
  });

  it('a suggestion is always a command the parser reads', () => {
    for (const t of ['完成城西村承诺谈话', '进渡 城西村', '帮主', '谈话张三完成', '逾期郭道镇']) {
      const s = suggestCommand(t, words);
      expect(s, t).not.toBeNull();
      expect(parseCommand(s!.command), t).not.toBeNull();
    }
  });

  it('a command refused as typed is split when the split reads; one read as typed is left alone', () => {
    const fix = (t: string) => suggestSpacing(parseCommand(t)!, words)?.command ?? null;
    expect(fix('完成 城西村承诺谈话')).toBe('完成 城西村 承诺谈话');
    expect(fix('完成　城西村承諾談話')).toBe('完成 城西村 承诺谈话');
    expect(fix('进度 城西村选举 进行中')).toBe('进度 城西村 选举 进行中');
    expect(fix('完成 城西村')).toBeNull();
    expect(fix('完成 城西村 审计')).toBeNull();
    expect(fix('完成 城西村 审记')).toBeNull();
    expect(fix('进度 城西村审计')).toBeNull();
    expect(fix('风险 城西村信访有人闹事')).toBeNull();
    expect(fix('帮助')).toBeNull();
  });

  it('a long text is not read at all', () => {
    expect(suggestCommand('完成城西村' + '审计'.repeat(200_000), words)).toBeNull();
  });

  it('every character of a Chinese command word has a reading in the homophone table', () => {
    const known = new Set(Object.values(HOMOPHONES).join(''));
    const chars = COMMANDS.flatMap((c) => [c.name, ...c.aliases]).filter((w) => /^\p{Script=Han}+$/u.test(w)).flatMap((w) => [...w]);
    expect(chars.filter((c) => !known.has(c))).toEqual([]);
  });

  it('question marks and question words make a question', () => {
    expect(looksLikeQuestion('完成选民登记要多少天')).toBe(true);
    expect(looksLikeQuestion('进度?')).toBe(true);
    expect(looksLikeQuestion('完成 城西村 审计')).toBe(false);
  });
});

describe('classifySmallTalk', () => {
  it('every listed word is small talk on its own, and in Traditional or full width', () => {
    for (const list of Object.values(SMALL_TALK_WORDS)) for (const w of list) expect(classifySmallTalk(w), w).not.toBeNull();
    expect(classifySmallTalk('謝謝')).toBe('thanks');
    expect(classifySmallTalk('ＨＥＬＬＯ')).toBe('greeting');
    expect(classifySmallTalk('早安！！')).toBe('greeting');
  });

  it.each([
    ['👍👍', 'emoji'],
    ['👨‍👩‍👧', 'emoji'],
    ['[赞][赞]', 'emoji'],
    ['～～', 'emoji'],
    ['好的，谢谢领导', 'thanks'],
    ['收到收到', 'ack'],
    ['哈哈哈哈', 'laugh'],
    ['x', 'single'],
    ['？', 'emoji'],
    ['换届助手', 'greeting'],
    ['您好领导', 'greeting'],
  ])('%j → %s', (text, kind) => {
    expect(classifySmallTalk(text)).toBe(kind);
  });

  it.each(['回答', '选民名单要提前多少天公布', '您好，候选人需要什么条件？', '不好', '可以吗', '谢谢，另外问一下补选怎么办', '好的'.repeat(20), '   '])('%j is not small talk', (text) => {
    expect(classifySmallTalk(text)).toBeNull();
  });
});
