import { describe, expect, it } from 'vitest';
import { issueLines, rowList } from '../../../src/workflow/import/report.js';
import type { ImportIssue } from '../../../src/workflow/import/sheets.js';
import { countyFromTitles, dateError, parseImportDate, parseRole, parseVillageType } from '../../../src/workflow/import/values.js';

describe('cell values', () => {
  it('role words real rosters use, and a suggestion for a near miss', () => {
    const cases: [string, string][] = [
      ['管理员', '管理员'], ['换届办', '管理员'],
      ['县领导', '领导'], ['乡镇领导', '领导'], ['乡镇党委书记', '领导'], ['分管领导', '领导'], ['包片领导', '领导'],
      ['包村干部', '干部'], ['包联干部', '干部'], ['驻村干部', '干部'], ['联村干部', '干部'], ['乡镇干部', '干部'], [' 干 部 ', '干部'],
      ['工作组成员', '工作组'], ['指导组', '工作组'], ['驻村工作队', '工作组'], ['工作队', '工作组'],
    ];
    for (const [word, role] of cases) expect(parseRole(word), word).toEqual({ ok: role });
    const miss = parseRole('包村干布');
    expect('error' in miss && miss.error).toMatch(/^「包村干布」不是有效角色，应为 管理员、领导、干部 或 工作组.*您是不是要找：.*包村干部/);
    expect('error' in parseRole('书记') && parseRole('书记')).toBeTruthy();
  });

  it('类型 from the name when blank; a wrong one says what to write', () => {
    expect(parseVillageType('', '南关社区')).toEqual({ ok: '社区' });
    expect(parseVillageType('', '城西村')).toEqual({ ok: '村' });
    expect(parseVillageType('居委会', '城西')).toEqual({ ok: '社区' });
    expect(parseVillageType('镇', '城西村')).toEqual({ error: expect.stringMatching(/^「镇」不是有效类型，应为 村 或 社区/) });
  });

  it('dates: cells, serials, dashes, slashes, dots, 年月日; impossible days refused with the reason', () => {
    expect(parseImportDate('2026-03-15')).toBe('2026-03-15');
    expect(parseImportDate('2026/3/15')).toBe('2026-03-15');
    expect(parseImportDate('2026.3.15')).toBe('2026-03-15');
    expect(parseImportDate('2026年3月15日')).toBe('2026-03-15');
    expect(parseImportDate('2026 年 3 月 15 日')).toBe('2026-03-15');
    expect(parseImportDate('46097')).toBe('2026-03-16');
    expect(parseImportDate('2026年2月30日')).toBeNull();
    expect(parseImportDate('2026-02-29')).toBeNull();
    expect(parseImportDate('3月15日')).toBeNull();
    expect(dateError('2026年2月30日')).toBe('「2026年2月30日」不是有效日期：2026年2月没有30日，请核对后改正');
    expect(dateError('下周')).toMatch(/^「下周」不是有效日期，请写成 2026-11-20/);
  });

  it('the county a title line names, or none when it names none or several', () => {
    expect(countyFromTitles(['沁源县2026年村（社区）“两委”换届包联干部名单'])).toBe('沁源县');
    expect(countyFromTitles(['长治市沁源县2026年村(社区)换届选举日安排表'])).toBe('沁源县');
    expect(countyFromTitles(['附件1：关于潞州区村（社区）换届工作人员名单'])).toBe('潞州区');
    expect(countyFromTitles(['介休市2026年村（社区）换届选举人员名单'])).toBe('介休市');
    expect(countyFromTitles(['全县村社区换届工作人员名单'])).toBeNull();
    expect(countyFromTitles(['沁源县、武乡县包联干部名单'])).toBeNull();
    expect(countyFromTitles(['2026年换届名单', '填报单位：沁源县委组织部'])).toBe('沁源县');
    // A county already in the database wins when the title names it.
    expect(countyFromTitles(['山西省沁源县城关片区名单'], ['沁源县'])).toBe('沁源县');
  });
});

describe('problem lines', () => {
  const at = (row: number | null, column: string | null, reason: string, sheet = '人员'): ImportIssue => ({ sheet, row, column, reason });

  it('row lists: runs as ranges, long lists cut with the count', () => {
    expect(rowList([5])).toBe('第5行');
    expect(rowList([5, 6])).toBe('第5、6行');
    expect(rowList([9, 5, 6, 7, 12])).toBe('第5–7、9、12行');
    expect(rowList(Array.from({ length: 899 }, (_, i) => i + 2))).toBe('第2–900行');
    expect(rowList([1, 3, 5, 7, 9, 11, 13, 15])).toBe('第1、3、5、7、9、11…等 8 行');
  });

  it('the same message on many rows is one line; different messages stay apart', () => {
    const issues = [
      ...Array.from({ length: 1000 }, (_, i) => at(i + 2, '角色', '「书记」不是有效角色')),
      at(7, '手机号', '「123」不是有效手机号'),
    ];
    expect(issueLines(issues)).toEqual(['人员 第2–1001行 「角色」：「书记」不是有效角色', '人员 第7行 「手机号」：「123」不是有效手机号']);
  });

  it('at most 30 lines, then how many more problems', () => {
    const issues = Array.from({ length: 100 }, (_, i) => at(i + 2, '手机号', `「${i}」不是有效手机号`));
    const lines = issueLines(issues);
    expect(lines).toHaveLength(31);
    expect(lines[30]).toBe('另有 70 处问题未列出，请先改正以上问题后重新导入');
  });

  it('a grouped line names the file and tab the way a single one does', () => {
    const i = (row: number): ImportIssue => ({ ...at(row, '角色', '「书记」不是有效角色'), file: '花名册.xlsx', sheetName: 'Sheet1' });
    expect(issueLines([i(5), i(6)])).toEqual(['文件「花名册.xlsx」工作表「Sheet1」（人员）第5、6行 「角色」：「书记」不是有效角色']);
  });
});
