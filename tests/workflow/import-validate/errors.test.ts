import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allLines, englishIn, NOW, problems, VILLAGES, world, type Cell, type World } from './world.js';

/** Errors a person can act on (issue 14): one line per mistake, no cascades, warnings that do not stop the import. */
let w: World;
beforeEach(() => {
  w = world();
});
afterEach(() => w.close());

const HEAD: Cell[] = ['姓名', '手机号', '角色', '县', '乡镇', '负责村社区'];
const many = (n: number, f: (i: number) => Cell[]) => Array.from({ length: n }, (_, i) => f(i));
const refusedAudit = () => w.db.prepare(`SELECT detail FROM audit_log WHERE action = 'import.refused' ORDER BY id`).all() as { detail: string }[];

describe('no cascades, grouped lines', () => {
  it('a 1,000-row file with one mistake repeated on every row gives one line; nothing changes', async () => {
    const before = w.counts();
    const o = await w.importBook({ 人员: [HEAD, ...many(1000, (i) => [`干部${i}`, 13900000000 + i, '书记', '沁源县', '沁河镇', '城西村'])], 村社区: VILLAGES });
    expect(o.ok).toBe(false);
    expect(!o.ok && o.issues).toHaveLength(1000);
    expect(problems(o)).toEqual([expect.stringMatching(/^人员 第2–1001行 「角色」：「书记」不是有效角色，应为 管理员、领导、干部 或 工作组/)]);
    expect(w.counts()).toEqual(before);
    expect(refusedAudit()).toEqual([{ detail: expect.stringMatching(/^1000 处问题：人员 第2–1001行 「角色」/) }]);
  });

  it('a 1,000-row file with one bad phone near the end gives that one line', async () => {
    const rows = many(1000, (i) => [`干部${i}`, 13900000000 + i, '干部', '沁源县', '沁河镇', '城西村']);
    rows[990]![1] = '1390000099';
    const o = await w.importBook({ 人员: [HEAD, ...rows], 村社区: VILLAGES });
    expect(problems(o)).toEqual(['人员 第992行 「手机号」：「1390000099」不是有效手机号：应为 11 位手机号，例如 13912345678（可带空格、横线或 +86）']);
  });

  it('many different mistakes: at most 30 lines, then how many more', async () => {
    const o = await w.importBook({ 人员: [HEAD, ...many(100, (i) => [`干部${i}`, `12${i}`, '干部', '沁源县', '沁河镇', '城西村'])], 村社区: VILLAGES });
    const lines = problems(o);
    expect(lines).toHaveLength(31);
    expect(lines[30]).toBe('另有 70 处问题未列出，请先改正以上问题后重新导入');
  });

  it('a missing column is one line, not one per row; neither is the sheet checked row by row', async () => {
    const o = await w.importBook({ 人员: [['姓名', '手机号', '县', '乡镇', '负责村社区'], ...many(500, (i) => [`干部${i}`, 'bad', '沁源县', '沁河镇', '城西村'])], 村社区: VILLAGES });
    expect(problems(o)).toEqual([expect.stringMatching(/「角色」.*缺少/)]);
  });

  it('a sheet the reader could not use is not reported again by the sheets that refer to it', async () => {
    const o = await w.importBook({
      人员: [['姓名', '手机号', '县', '乡镇', '负责村社区'], ['李明', 13987654321, '沁源县', '沁河镇', '城西村']],
      村社区: [['县', '乡镇', '村社区', '类型'], ['沁源县', '沁河镇', '城西村', '村']],
      谈话: [['谈话类别', '谈话对象', '村社区', '谈话人', '截止日期'], ['选前谈话', '张三', '城西村', '李明', '2026-03-10']],
    });
    const lines = problems(o);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/角色/);
    expect(lines.join('\n')).toMatch(/选举日/);
    expect(lines.join('\n')).not.toMatch(/谈话/);
  });

  it('a village whose row failed is not reported again by the people, deadlines and talks naming it', async () => {
    const o = await w.importBook({
      人员: [HEAD, ...many(50, (i) => [`干部${i}`, 13900000000 + i, '干部', '沁源县', '沁河镇', '城西村'])],
      村社区: [...VILLAGES.slice(0, 1), ['沁源县', '沁河镇', '城西村', '村', '2026-13-45'], ...VILLAGES.slice(2)],
      节点: [['村社区', '阶段', '截止日期'], ['城西村', '选民名单公布', '2026-03-05']],
      谈话: [['谈话类别', '谈话对象', '村社区', '谈话人', '截止日期'], ['选前谈话', '张三', '城西村', '干部1', '2026-03-10']],
    });
    expect(problems(o)).toEqual(['村社区 第2行 「选举日」：「2026-13-45」不是有效日期：没有13月，请核对后改正']);
  });

  it('a person whose row failed is not reported again as an unknown interviewer', async () => {
    const o = await w.importBook({
      人员: [HEAD, ['李明', '139', '干部', '沁源县', '沁河镇', '城西村']],
      村社区: VILLAGES,
      谈话: [['谈话类别', '谈话对象', '村社区', '谈话人', '截止日期'], ['选前谈话', '张三', '城西村', '李明', '2026-03-10']],
    });
    expect(problems(o)).toEqual([expect.stringMatching(/^人员 第2行 「手机号」：「139」不是有效手机号/)]);
  });

  it('an unknown village gets a suggestion, once per name however many rows name it', async () => {
    const o = await w.importBook({ 人员: [HEAD, ...many(300, (i) => [`干部${i}`, 13900000000 + i, '干部', '沁源县', '沁河镇', '城西屯'])], 村社区: VILLAGES });
    expect(problems(o)).toEqual(['人员 第2–301行 「负责村社区」：「城西屯」不在沁河镇的村社区名单中（村社区表或已导入的数据）。您是不是要找：城西村？']);
  });

  it('wrong types: numbers, dates and booleans where text is expected are read as text and checked as such', async () => {
    const o = await w.importBook({
      人员: [HEAD, [12345, 13900000001, '干部', '沁源县', '沁河镇', '城西村'], ['赵丽', new Date(Date.UTC(2026, 2, 1)), '干部', '沁源县', '沁河镇', '城西村'], ['陈刚', 13900000003, 7, '沁源县', '沁河镇', '城西村']],
      村社区: [...VILLAGES, ['沁源县', '沁河镇', '南关社区', '社区', '下周六']],
    });
    const lines = problems(o);
    expect(lines).toEqual([
      expect.stringMatching(/^人员 第3行 「手机号」：「2026-03-01」不是有效手机号/),
      expect.stringMatching(/^人员 第4行 「角色」：「7」不是有效角色/),
      expect.stringMatching(/^村社区 第6行 「选举日」：「下周六」不是有效日期/),
    ]);
    expect(englishIn(lines)).toEqual([]);
  });
});

describe('the county', () => {
  const PEOPLE: Cell[][] = [['姓名', '手机号', '角色', '乡镇', '负责村社区'], ['李明', 13987654321, '干部', '沁河镇', '城西村']];
  const VILLAGES_NO_COUNTY: Cell[][] = [['乡镇', '村社区', '选举日'], ['沁河镇', '城西村', '2026-03-15']];

  it('no 县 column and no title: one error saying what to do; --county fixes it', async () => {
    const o = await w.importBook({ 人员: PEOPLE, 村社区: VILLAGES_NO_COUNTY });
    expect(problems(o)).toEqual([expect.stringMatching(/「县」：不知道这些行属于哪个县.*请加一列「县」.*--county 沁源县$/)]);
    const ok = await w.importBook({ 人员: PEOPLE, 村社区: VILLAGES_NO_COUNTY }, { county: '沁源县' });
    expect(problems(ok)).toEqual([]);
    expect(w.repos.roster.villages()[0]).toMatchObject({ county: '沁源县', township: '沁河镇', name: '城西村' });
  });

  it('from a title line naming one county', async () => {
    const o = await w.importBook({ 人员: [['沁源县2026年村（社区）换届包联干部名单'], ...PEOPLE], 村社区: [['沁源县2026年村（社区）换届选举日安排表'], ...VILLAGES_NO_COUNTY] });
    expect(problems(o)).toEqual([]);
    expect(w.repos.roster.people()[0]).toMatchObject({ name: '李明', phone: '13987654321' });
    expect(w.repos.roster.counties().map((c) => c.name)).toEqual(['沁源县']);
  });

  it('a title naming two counties is not guessed from', async () => {
    const o = await w.importBook({ 人员: [['沁源县、武乡县包联干部名单'], ...PEOPLE], 村社区: VILLAGES_NO_COUNTY });
    expect(problems(o)).toEqual([expect.stringMatching(/不知道这些行属于哪个县/)]);
  });
});

describe('warnings', () => {
  it('an election day in the past or more than a year ahead: imported, warned, recorded', async () => {
    const villages: Cell[][] = [VILLAGES[0]!, ['沁源县', '沁河镇', '城西村', '村', '2026-01-31'], ['沁源县', '沁河镇', '城东村', '村', '2027-03-01'], ['沁源县', '沁河镇', '西关社区', '社区', '2026-03-15']];
    const o = await w.importBook({ 村社区: villages }, { now: NOW });
    expect(o.ok).toBe(true);
    const lines = allLines(o);
    expect(lines).toContain('注意：村社区 第2行 「选举日」：选举日早于今天（2026-02-01）：如是笔误请改正后重新导入');
    expect(lines).toContain('注意：村社区 第3行 「选举日」：选举日在一年以后：请确认年份是否写错');
    expect(lines.filter((l) => l.startsWith('注意'))).toHaveLength(2);
    expect(w.repos.roster.villages()).toHaveLength(3);
    const audit = w.db.prepare(`SELECT detail FROM audit_log WHERE action = 'import.warnings'`).all() as { detail: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toContain('选举日早于今天');
    // "Today" is the campaign's day (Asia/Shanghai): 2026-02-01 04:00 UTC is already 12:00 there.
    const edge = await w.importBook({ 村社区: [VILLAGES[0]!, ['沁源县', '郭道镇', '郭道村', '村', '2026-02-01']] }, { now: Date.parse('2026-01-31T17:00:00Z') });
    expect(edge.ok && edge.warnings).toEqual([]);
  });
});
