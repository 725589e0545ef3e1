import { describe, expect, it } from 'vitest';
import { COMMANDS, normalizeInput, parseCommand } from '../../src/handlers/commands.js';

describe('parseCommand', () => {
  it.each([
    ['帮助', '帮助', []],
    ['/帮助', '帮助', []],
    ['／帮助', '帮助', []],
    ['help', '帮助', []],
    ['HELP', '帮助', []],
    ['  完成　城西村　资格审查 ', '完成', ['城西村', '资格审查']],
    ['完成，城西村，资格审查', '完成', ['城西村', '资格审查']],
    ['/进度 城西村 选举 进行中 参选率94%', '进度', ['城西村', '选举', '进行中', '参选率94%']],
    ['进度：城西村', '进度', ['城西村']],
    ['逾期 沁河镇', '逾期', ['沁河镇']],
    ['撤销', '撤销', []],
    ['谈话 张三 完成 11月20日 已签承诺书', '谈话', ['张三', '完成', '11月20日', '已签承诺书']],
  ])('%s → %s %o', (text, name, args) => {
    const c = parseCommand(text);
    expect(c?.name).toBe(name);
    expect(c?.args).toEqual(args);
  });

  it.each(['选民名单要提前多少天公布？', '完成了吗', '我的村什么时候选举', '', '   ', '/', '帮助我看看这个问题'])(
    'treats %j as a question, not a command',
    (text) => {
      expect(parseCommand(text)).toBeNull();
    },
  );

  it('normalises full-width letters, digits and spaces, and drops control characters', () => {
    expect(normalizeInput('进度\u3000城西村\u0007　参选率９４％')).toBe('进度 城西村 参选率94%');
    expect(normalizeInput('\u200b帮助\ufeff')).toBe('帮助');
    // The same invisible characters as names are cleaned of (workflow/names.ts): soft hyphen, bidi controls.
    expect(normalizeInput('完成 城\u00ad西\u202e村 承诺谈话\u2066')).toBe('完成 城西村 承诺谈话');
  });

  it('every command in the table has a unique name and aliases', () => {
    const words = COMMANDS.flatMap((c) => [c.name, ...c.aliases]);
    expect(new Set(words).size).toBe(words.length);
  });
});
