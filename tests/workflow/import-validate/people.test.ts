import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allLines, englishIn, problems, VILLAGES, world, type Cell, type World } from './world.js';

/** People by phone or email (issue 14): identity, normalisation, duplicates and re-import matching. */
let w: World;
beforeEach(() => {
  w = world();
});
afterEach(() => w.close());

const HEAD: Cell[] = ['姓名', '飞书open_id', '手机号', '邮箱', '角色', '县', '乡镇', '负责村社区'];
const person = (name: string, openId: string, phone: Cell, email: string, role = '干部', village = '城西村'): Cell[] => [name, openId, phone, email, role, '沁源县', '沁河镇', village];

describe('who a 人员 row is', () => {
  it('phones only: imported unbound, phones normalised from numbers, spaces, dashes and +86; the outcome counts the unbound', async () => {
    const o = await w.importBook({
      人员: [
        HEAD,
        person('李明', '', 13987654321, ''),
        person('赵丽', '', '150 3456 7890', ''),
        person('陈刚', '', '186-0355-1234', ''),
        person('刘芳', '', '+86 137 0000 1111', ''),
        person('孙七', '', '8613800001111', ''),
        person('周八', '', '', 'Zhou.Ba@Example.CN'),
      ],
      村社区: VILLAGES,
    });
    expect(problems(o)).toEqual([]);
    expect(o.ok && o.unbound).toBe(6);
    const people = w.repos.roster.people();
    expect(people.map((p) => [p.name, p.openId, p.phone, p.email]).sort()).toEqual(
      [
        ['李明', null, '13987654321', null],
        ['赵丽', null, '15034567890', null],
        ['陈刚', null, '18603551234', null],
        ['刘芳', null, '13700001111', null],
        ['孙七', null, '13800001111', null],
        ['周八', null, null, 'zhou.ba@example.cn'],
      ].sort(),
    );
    const lines = allLines(o);
    expect(lines).toContain('6 人尚未绑定飞书账号：服务运行且已配置飞书应用时会按手机号/邮箱自动匹配；可用 npm run cli -- people --unbound 查看');
    expect(englishIn(lines)).toEqual([]);
  });

  it('a bad phone says what it got and what to write; a landline is told apart; no identifier at all is one clear error', async () => {
    const before = w.counts();
    const o = await w.importBook({
      人员: [HEAD, person('李明', '', '1398765432', ''), person('赵丽', '', '0355-7012345', ''), person('陈刚', '', '', ''), person('刘芳', '', '', 'liufang#example')],
      村社区: VILLAGES,
    });
    expect(problems(o)).toEqual([
      '人员 第2行 「手机号」：「1398765432」不是有效手机号：应为 11 位手机号，例如 13912345678（可带空格、横线或 +86）',
      '人员 第3行 「手机号」：「0355-7012345」是固定电话，无法用来找到飞书账号：请填写本人的 11 位手机号，例如 13912345678',
      '人员 第4行 「手机号」：飞书open_id、手机号、邮箱都没有填写：每人至少填一项（一般填本人手机号）',
      '人员 第5行 「邮箱」：「liufang#example」不是有效邮箱，应形如 zhangsan@example.com',
    ]);
    expect(w.counts()).toEqual(before);
    expect(englishIn(problems(o))).toEqual([]);
  });

  it('a duplicated phone, email or open_id names both rows; the same person twice is told to use one row', async () => {
    const before = w.counts();
    const o = await w.importBook({
      人员: [
        HEAD,
        person('李明', '', 13987654321, ''),
        person('赵丽', '', '139 8765 4321', ''),
        person('李明', '', '13987654321', '', '干部', '城东村'),
        person('陈刚', '', 18603551234, 'a@b.cn'),
        person('刘芳', '', 13700001111, 'A@B.cn'),
        person('孙七', 'ou_x1', '', ''),
        person('周八', 'ou_x1', '', ''),
      ],
      村社区: VILLAGES,
    });
    expect(problems(o)).toEqual([
      '人员 第3行 「手机号」：与第2行重复：同一个手机号（139****4321）填给了「李明」和「赵丽」两人，一个手机号只能属于一人，请核对后改正',
      '人员 第4行 「手机号」：与第2行重复（同一人只能有一行，负责多个村用、分隔）',
      '人员 第6行 「邮箱」：与第5行重复：同一个邮箱（a@b.cn）填给了「陈刚」和「刘芳」两人，一个邮箱只能属于一人，请核对后改正',
      '人员 第8行 「飞书open_id」：与第7行重复：同一个飞书open_id填给了「孙七」和「周八」两人，一个飞书open_id只能属于一人，请核对后改正',
    ]);
    expect(w.counts()).toEqual(before);
  });

  it('re-import finds people by open_id, else phone, else email; a later open_id binds; identifiers of two people are refused', async () => {
    expect(problems(await w.importBook({ 人员: [HEAD, person('李明', '', 13987654321, ''), person('赵丽', '', '', 'zhaoli@example.cn'), person('陈刚', 'ou_chen', 18603551234, '')], 村社区: VILLAGES }))).toEqual([]);
    const ids = new Map(w.repos.roster.people().map((p) => [p.name, p.id]));
    // Same people: 李明 now with an open_id (bound), 赵丽 with a phone added, 陈刚 by open_id with a new phone.
    const again = await w.importBook({
      人员: [HEAD, person('李明', 'ou_li', '139-8765-4321', ''), person('赵丽', '', 15034567890, 'ZhaoLi@example.cn', '干部', '城东村'), person('陈刚', 'ou_chen', 18603559999, '')],
      村社区: VILLAGES,
    });
    expect(problems(again)).toEqual([]);
    expect(again.ok && again.counts.people).toEqual({ created: 0, updated: 3, unchanged: 0 });
    expect(again.ok && again.unbound).toBe(1);
    const people = new Map(w.repos.roster.people().map((p) => [p.name, p]));
    expect(people.get('李明')).toMatchObject({ id: ids.get('李明'), openId: 'ou_li', phone: '13987654321' });
    expect(people.get('赵丽')).toMatchObject({ id: ids.get('赵丽'), openId: null, phone: '15034567890', email: 'zhaoli@example.cn' });
    expect(people.get('陈刚')).toMatchObject({ id: ids.get('陈刚'), phone: '18603559999' });

    const before = w.counts();
    const snapshot = JSON.stringify(w.repos.roster.people());
    const bad = await w.importBook({
      人员: [
        HEAD,
        // 李明's open_id with 赵丽's phone: two different people.
        person('李明', 'ou_li', 15034567890, ''),
        // 陈刚's phone under another open_id: it belongs to someone bound to another account.
        person('陈刚', 'ou_other', 18603559999, ''),
      ],
      村社区: VILLAGES,
    });
    expect(problems(bad)).toEqual([
      '人员 第2行 「手机号」：本行的飞书open_id属于已导入的「李明」，手机号（150****7890）却属于已导入的「赵丽」：一人的手机号、邮箱不能与他人相同，请核对后改正',
      '人员 第3行 「手机号」：手机号（186****9999）已属于已导入的「陈刚」，而「陈刚」已绑定另一个飞书账号（与本行的飞书open_id不同）：请核对后改正',
    ]);
    expect(w.counts()).toEqual(before);
    expect(JSON.stringify(w.repos.roster.people())).toBe(snapshot);
  });

  it('two rows that are the same existing person (one by open_id, one by phone) are refused', async () => {
    expect(problems(await w.importBook({ 人员: [HEAD, person('李明', 'ou_li', 13987654321, '')], 村社区: VILLAGES }))).toEqual([]);
    const o = await w.importBook({ 人员: [HEAD, person('李明', 'ou_li', '', ''), person('李明', '', 13987654321, '', '干部', '城东村')], 村社区: VILLAGES });
    expect(problems(o)).toEqual([
      '人员 第3行 「手机号」：与第2行（「李明」）指向已导入的同一人「李明」（手机号相同）：一个人只能有一行，请核对两行的飞书open_id、手机号、邮箱',
    ]);
  });

  it('an existing phone under another name is refused (a mistyped number must not rename someone); by open_id a rename passes', async () => {
    expect(problems(await w.importBook({ 人员: [HEAD, person('李明', 'ou_li', 13987654321, '')], 村社区: VILLAGES }))).toEqual([]);
    const before = JSON.stringify(w.repos.roster.people());
    const o = await w.importBook({ 人员: [HEAD, person('赵丽', '', 13987654321, '')], 村社区: VILLAGES });
    expect(problems(o)).toEqual(['人员 第2行 「手机号」：手机号（139****4321）已属于已导入的「李明」，与本行姓名「赵丽」不同：请核对手机号；如确是同一人改名，请同时填写其飞书open_id']);
    expect(JSON.stringify(w.repos.roster.people())).toBe(before);
    expect(problems(await w.importBook({ 人员: [HEAD, person('李 明', '', 13987654321, '')], 村社区: VILLAGES }))).toEqual([]);
    expect(problems(await w.importBook({ 人员: [HEAD, person('李明亮', 'ou_li', 13987654321, '')], 村社区: VILLAGES }))).toEqual([]);
    expect(w.repos.roster.personByOpenId('ou_li')!.name).toBe('李明亮');
  });

  it('an unbound person can be an interviewer, by name or by phone', async () => {
    const o = await w.importBook({
      人员: [HEAD, person('李明', '', 13987654321, ''), person('赵丽', '', 15034567890, '')],
      村社区: VILLAGES,
      谈话: [
        ['谈话类别', '谈话对象', '村社区', '谈话人', '截止日期'],
        ['选前谈话', '张三', '城西村', '李明', '2026-03-10'],
        ['选前谈话', '王五', '城东村', '150 3456 7890、李明', '2026-03-11'],
      ],
    });
    expect(problems(o)).toEqual([]);
    const li = w.repos.roster.personByPhone('13987654321')!;
    const zhao = w.repos.roster.personByPhone('15034567890')!;
    const talks = w.db.prepare(`SELECT t.subject, GROUP_CONCAT(i.person_id) AS ids FROM wf_talks t JOIN wf_talk_interviewers i ON i.talk_id = t.id GROUP BY t.id ORDER BY t.subject`).all() as { subject: string; ids: string }[];
    expect(talks.map((t) => [t.subject, t.ids.split(',').map(Number).sort()])).toEqual([
      ['张三', [li.id]],
      ['王五', [li.id, zhao.id].sort()],
    ]);
  });

  it('role words and a near miss with a suggestion, 类型 and 县 missing', async () => {
    const o = await w.importBook(
      {
        人员: [['姓名', '手机号', '角色', '乡镇', '负责村社区'], ['李明', 13987654321, '包联干部', '沁河镇', '城西村'], ['赵丽', 15034567890, '包村干布', '沁河镇', '城东村'], ['王建国', 13912345678, '乡镇党委书记', '沁河镇', '']],
        村社区: [['乡镇', '村社区', '选举日'], ['沁河镇', '城西村', '2026-03-15'], ['沁河镇', '城东村', '2026年3月15日'], ['沁河镇', '西关社区', '2026/3/15']],
      },
      { county: '沁源县' },
    );
    expect(problems(o)).toEqual([expect.stringMatching(/^人员 第3行 「角色」：「包村干布」不是有效角色.*您是不是要找：.*包村干部/)]);
    const fixed = await w.importBook(
      {
        人员: [['姓名', '手机号', '角色', '乡镇', '负责村社区'], ['李明', 13987654321, '包联干部', '沁河镇', '城西村'], ['王建国', 13912345678, '乡镇党委书记', '沁河镇', '']],
        村社区: [['乡镇', '村社区', '选举日'], ['沁河镇', '城西村', '2026-03-15'], ['沁河镇', '城东村', '2026年3月15日'], ['沁河镇', '西关社区', '2026/3/15']],
      },
      { county: '沁源县' },
    );
    expect(problems(fixed)).toEqual([]);
    expect(w.repos.roster.villages().map((v) => [v.county, v.name, v.type]).sort()).toEqual([
      ['沁源县', '城东村', '村'],
      ['沁源县', '城西村', '村'],
      ['沁源县', '西关社区', '社区'],
    ]);
    expect(w.repos.roster.people().map((p) => [p.name, p.role]).sort()).toEqual([
      ['李明', '干部'],
      ['王建国', '领导'],
    ]);
  });
});
