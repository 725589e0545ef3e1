import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseRiskCommand, parseStageCommand, parseStructureCommand, parseTalkCommand } from '../../src/handlers/workflow/grammar.js';
import { addDays, parseChineseDate, todayIn } from '../../src/workflow/dates.js';
import { matchName } from '../../src/workflow/names.js';
import { deadlineFor } from '../../src/workflow/plan.js';
import { mustCheckReasons } from '../../src/workflow/risks.js';
import { checkTemplate, stageByKey, STAGE_TEMPLATES, stagesFor } from '../../src/workflow/stage-templates.js';
import { complianceOf, DEFAULT_TARGETS } from '../../src/workflow/structure.js';
import { findTalkCategory } from '../../src/workflow/talks.js';

const TODAY = '2026-11-05';

describe('dates in the campaign time zone', () => {
  it('today comes from the clock in Asia/Shanghai, not UTC', () => {
    expect(todayIn('Asia/Shanghai', Date.parse('2026-11-04T16:30:00Z'))).toBe('2026-11-05');
    expect(todayIn('UTC', Date.parse('2026-11-04T16:30:00Z'))).toBe('2026-11-04');
  });
  it.each([
    ['2026-11-20', '2026-11-20'],
    ['2026/11/2', '2026-11-02'],
    ['2026.11.02', '2026-11-02'],
    ['2026年11月2日', '2026-11-02'],
    ['11月2日', '2026-11-02'],
    ['11月2号', '2026-11-02'],
    ['11/2', '2026-11-02'],
    ['今天', '2026-11-05'],
    ['昨天', '2026-11-04'],
    ['前天', '2026-11-03'],
    ['3天前', '2026-11-02'],
    ['明天', '2026-11-06'],
    ['12月30日', '2026-12-30'], // ahead this year: refused later as a future date
    ['6月1日', '2026-06-01'],
    ['2月30日', 'invalid'],
    ['2026-13-01', 'invalid'],
    ['参选率94%', null],
    ['城西村', null],
  ])('%s → %s', (text, want) => {
    expect(parseChineseDate(text, TODAY)).toBe(want);
  });
  it('a date without a year in January means last December', () => {
    expect(parseChineseDate('12月30日', '2027-01-03')).toBe('2026-12-30');
    expect(addDays('2026-11-28', -20)).toBe('2026-11-08');
  });
});

describe('forgiving names', () => {
  const villages = ['城西村', '城东村', '南关社区', '城西社区'].map((n) => ({ value: n, label: n, names: [n] }));
  it.each([
    ['城西村', 'found', '城西村'],
    ['城东', 'found', '城东村'],
    ['南关', 'found', '南关社区'],
    ['城西', 'ambiguous', undefined],
    ['城北村', 'none', undefined],
  ])('%s → %s', (q, kind, value) => {
    const r = matchName(q, villages);
    expect(r.kind).toBe(kind);
    if (r.kind === 'found') expect(r.value).toBe(value);
  });
  it('a typo gets suggestions', () => {
    const r = matchName('城西屯', villages);
    expect(r.kind === 'none' && r.suggestions).toContain('城西村');
  });
});

describe('stage templates as data', () => {
  it('are consistent: known prerequisites that come earlier and are due earlier, unique words', () => {
    for (const t of Object.values(STAGE_TEMPLATES)) expect(checkTemplate(t)).toEqual([]);
  });
  it('cite the law where it sets the timing', () => {
    const v = stageByKey('村', 'voter_list')!;
    expect(v.offsetDays).toBe(-20);
    expect(v.rule).toMatch(/第十四条.*二十日前/);
    expect(stageByKey('村', 'objections')!.offsetDays).toBe(-12);
    expect(stageByKey('村', 'handover')!.rule).toMatch(/第二十条.*十日内/);
    expect(stageByKey('村', 'audit')!.rule).toMatch(/第三十五条/);
    expect(stageByKey('村', 'committee_election')!.prerequisites).toContain('audit');
    expect(stageByKey('社区', 'committee_election')!.name).toBe('居委会选举');
  });
  it('a 20-day rule is checked: the voter list is due 20 days before the election, an override wins', () => {
    const v = stageByKey('村', 'voter_list')!;
    expect(deadlineFor({ electionDay: '2026-11-28' }, v).deadline).toBe('2026-11-08');
    expect(deadlineFor({ electionDay: '2026-11-28' }, v, new Map([['voter_list', '2026-11-06']]))).toEqual({ deadline: '2026-11-06', source: 'override' });
    expect(deadlineFor({ electionDay: null }, v).deadline).toBeNull();
  });
  it('stage aliases resolve (选举 → 村委会选举 / 居委会选举)', () => {
    const names = (t: '村' | '社区') => stagesFor(t).map((s) => [s.name, ...s.aliases]);
    expect(names('村').find((n) => n.includes('选举'))![0]).toBe('村委会选举');
    expect(names('社区').find((n) => n.includes('选举'))![0]).toBe('居委会选举');
  });
});

describe('grammar', () => {
  it('进度/完成 forms', () => {
    expect(parseStageCommand('进度', [], TODAY)).toEqual({ kind: 'overview' });
    expect(parseStageCommand('进度', ['城西村'], TODAY)).toEqual({ kind: 'query', target: '城西村' });
    expect(parseStageCommand('进度', ['城西村', '选举', '进行中', '参选率94%'], TODAY)).toEqual({ kind: 'record', village: '城西村', stage: '选举', status: '进行中', note: '参选率94%' });
    expect(parseStageCommand('完成', ['城西村', '资格审查', '11月1日', '已联审'], TODAY)).toEqual({ kind: 'record', village: '城西村', stage: '资格审查', status: '已完成', date: '2026-11-01', note: '已联审' });
    expect(() => parseStageCommand('进度', ['城西村', '选举'], TODAY)).toThrow(UserError);
  });
  it('谈话 forms', () => {
    const isCat = (w: string) => findTalkCategory(w) !== undefined;
    expect(parseTalkCommand(['张三', '完成', '11月20日', '已签承诺书'], '2026-11-25', isCat)).toEqual({ kind: 'record', subject: '张三', status: '已谈', date: '2026-11-20', signed: true });
    expect(parseTalkCommand(['张三', '任前谈话', '已谈', '表态积极'], TODAY, isCat)).toMatchObject({ category: '任前谈话', note: '表态积极' });
    expect(parseTalkCommand([], TODAY, isCat)).toEqual({ kind: 'list' });
  });
  it('风险 forms', () => {
    const isCat = (w: string) => ['信访', '宗族'].includes(w);
    expect(parseRiskCommand(['城西村', '信访', '有群众反映拉票'], isCat)).toEqual({ kind: 'open', village: '城西村', category: '信访', mustCheck: false, description: '有群众反映拉票' });
    expect(parseRiskCommand(['跟进', '#12', '已约谈'], isCat)).toEqual({ kind: 'followup', id: 12, note: '已约谈' });
    expect(parseRiskCommand(['销号', 'R12'], isCat)).toEqual({ kind: 'close', id: 12, note: '' });
  });
  it('结构 forms', () => {
    expect(parseStructureCommand(['城西村', '一肩挑=是', '大学生=1', '35岁以下=1', '女性=1', '党员比例=60%'])).toEqual({
      kind: 'record',
      village: '城西村',
      input: { oneShoulder: true, graduates: 1, under35: 1, women: 1, partyRatio: 0.6 },
    });
    expect(parseStructureCommand(['城西村', '妇女：2人', '党员占比=3/5'])).toMatchObject({ input: { women: 2, partyRatio: 0.6 } });
  });
});

describe('四必查 and targets', () => {
  it.each([
    ['信访', '有群众反映拉票', ['拉票贿选']],
    ['信访', '收到署名举报信一封', ['署名举报']],
    ['其他', '线索清楚，内容具体', ['线索具体']],
    ['信访', '群众反映强烈，要求查处', ['群众反映强烈']],
    ['拉票贿选', '疑似', ['拉票贿选']],
    ['群众矛盾', '邻里纠纷', []],
  ])('%s %s → %j', (cat, desc, want) => {
    expect(mustCheckReasons(cat, desc, false)).toEqual(want);
  });
  it('structure compliance against the seed targets (4个100%, 1个50%: strictly above half)', () => {
    const row = { village_id: 1, one_shoulder: 1 as const, graduates: 1, under35: 1, women: 1, party_ratio: 0.6, updated_by: 'x', updated_at: 0 };
    expect(complianceOf(row, DEFAULT_TARGETS).all).toBe(true);
    expect(complianceOf({ ...row, party_ratio: 0.5 }, DEFAULT_TARGETS).partyRatio).toBe(false);
    expect(complianceOf({ ...row, one_shoulder: 0 }, DEFAULT_TARGETS).all).toBe(false);
    expect(complianceOf({ ...row, women: null }, DEFAULT_TARGETS).all).toBeNull();
    expect(complianceOf({ ...row, graduates: 0 }, { ...DEFAULT_TARGETS, graduatesMin: 0 }).graduates).toBe(true);
  });
});
