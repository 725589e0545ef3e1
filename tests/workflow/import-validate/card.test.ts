import { describe, expect, it } from 'vitest';
import { outcomeCard } from '../../../src/handlers/workflow/file-import.js';
import { outcomeLines, type ImportOutcome } from '../../../src/workflow/import/index.js';
import { englishIn } from './world.js';

/** The chat card shows the same lines as the CLI: grouped problems, warnings, the unbound count, the reader's notes. */
const text = (o: ImportOutcome) => JSON.stringify(outcomeCard(o));
const counts = { regions: { created: 1 }, villages: { created: 2, updated: 0, unchanged: 0 }, people: { created: 3, updated: 0, unchanged: 0 }, overrides: { created: 0, updated: 0, unchanged: 0 }, talks: { created: 0, updated: 0, unchanged: 0 } };

describe('the chat import card', () => {
  it('refused: every outcome line, the notes once', () => {
    const issues = Array.from({ length: 40 }, (_, i) => ({ sheet: '人员', row: i + 2, column: '手机号', reason: `「${i}」不是有效手机号` }));
    const o: ImportOutcome = { ok: false, fileName: '花名册.xls', issues, lines: outcomeLines({ ok: false, fileName: 'x', issues }).problems, notes: ['工作表「Sheet1」：以下列未使用，已忽略：序号'] };
    const t = text(o);
    expect(t).toContain('导入未通过：40 处问题');
    expect(t).toContain('人员 第2行 「手机号」：「0」不是有效手机号');
    expect(t).toContain('另有 10 处问题未列出');
    expect(t).not.toContain('「35」');
    expect(t.split('提示：工作表「Sheet1」').length).toBe(2);
  });

  it('applied: counts, warnings, the unbound line; a record from before issue 14 still renders', () => {
    const o: ImportOutcome = { ok: true, fileName: '花名册.xlsx', counts, warnings: ['村社区 第2行 「选举日」：选举日早于今天（2026-02-01）：如是笔误请改正后重新导入'], notes: [], unbound: 3 };
    const t = text(o);
    expect(t).toContain('人员：新增 3');
    expect(t).toContain('注意：村社区 第2行');
    expect(t).toContain('3 人尚未绑定飞书账号');
    expect(t).toContain('"template":"orange"');
    const old = text({ ok: true, fileName: 'a.xlsx', counts });
    expect(old).toContain('"template":"green"');
    expect(old).not.toContain('尚未绑定');
    const oldRefused = text({ ok: false, fileName: 'a.xlsx', issues: [{ sheet: '人员', row: 3, column: '角色', reason: '「书记」不是有效角色' }] });
    expect(oldRefused).toContain('人员 第3行 「角色」：「书记」不是有效角色');
    const l = outcomeLines(o);
    expect(englishIn([...l.counts, ...l.warnings, l.unbound!])).toEqual([]);
  });
});
