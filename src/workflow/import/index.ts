import type { WorkflowRepos } from '../../store/workflow-repos.js';
import { todayIn } from '../dates.js';
import { applyImport, type ImportCounts } from './apply.js';
import type { ReadResult } from './read.js';
import { issueLines, sortIssues } from './report.js';
import type { ImportIssue } from './sheets.js';
import { validateImport } from './validate.js';

export { readImportBytes, readImportFile } from './read.js';
export { writeTemplate } from './template.js';
export { formatIssue, SHEETS, type ImportIssue } from './sheets.js';
export { issueLines } from './report.js';
export type { ImportCounts } from './apply.js';

/**
 * The answer to an import: what was applied (with warnings and how many
 * people are not yet bound to Lark), or every problem found (and nothing
 * applied). `lines` are what a person reads (grouped, at most 30 and a
 * count); `notes` are the reader's remarks (columns ignored and the like).
 * Records written before issue 14 lack lines/notes/warnings: outcomeLines
 * copes.
 */
export type ImportOutcome =
  | { ok: true; counts: ImportCounts; fileName: string; warnings?: string[]; notes?: string[]; unbound?: number }
  | { ok: false; issues: ImportIssue[]; fileName: string; lines?: string[]; notes?: string[] };

export interface ImportOptions {
  actor: string;
  sourceId: string;
  fileName: string;
  now: number;
  /** The county of rows that name none (CLI --county). */
  county?: string | null;
  /** Time zone of "today" for election-day warnings. */
  tz?: string;
}

/** What the reader hands over; notes and titles are optional for readers and tests that build sheets by hand. */
type ReadInput = ReadResult & { notes?: string[]; titles?: string[] };

/**
 * Validates and, only when everything is valid, applies. `sourceId` makes it
 * idempotent: the chat message (or CLI run) that carried the file is imported
 * once; a re-run answers with the recorded outcome.
 */
export function runImport(repos: WorkflowRepos, read: ReadInput, opts: ImportOptions): ImportOutcome {
  const prev = repos.imports.bySource(opts.sourceId);
  if (prev) return JSON.parse(prev.result) as ImportOutcome;
  const today = todayIn(opts.tz ?? 'Asia/Shanghai', opts.now);
  const { plan, issues, warnings } = validateImport(read.sheets, repos, { county: opts.county ?? null, titles: read.titles ?? [], today, readIssues: read.issues });
  const all = sortIssues([...read.issues, ...issues]);
  const notes = [...new Set(read.notes ?? [])];
  if (!all.length) {
    const warningLines = issueLines(sortIssues(warnings));
    let recorded: ImportOutcome | undefined;
    // The record is written in the import's own transaction (see applyImport).
    const counts = applyImport(repos, plan, opts.actor, opts.now, opts.fileName, (c) => {
      const outcome: ImportOutcome = { ok: true, counts: c, fileName: opts.fileName, warnings: warningLines, notes, unbound: repos.roster.unboundCount() };
      if (warningLines.length) {
        repos.audit.record({ at: opts.now, actor: opts.actor, action: 'import.warnings', target: `file:${opts.fileName}`, detail: warningLines.join('\n') });
      }
      repos.imports.insert(opts.sourceId, opts.actor, opts.now, opts.fileName, true, outcome);
      recorded = outcome;
    });
    return recorded ?? { ok: true, counts, fileName: opts.fileName, warnings: warningLines, notes, unbound: repos.roster.unboundCount() };
  }
  const lines = issueLines(all);
  const outcome: ImportOutcome = { ok: false, issues: all, fileName: opts.fileName, lines, notes };
  repos.audit.record({ at: opts.now, actor: opts.actor, action: 'import.refused', target: `file:${opts.fileName}`, detail: `${all.length} 处问题：${lines.slice(0, 5).join('；')}` });
  // Large error lists are kept to the first few hundred in the record; the caller already has them all.
  repos.imports.insert(opts.sourceId, opts.actor, opts.now, opts.fileName, false, { ...outcome, issues: outcome.issues.slice(0, 300) });
  return outcome;
}
/** Counts as one Chinese line per sheet. */
export function describeCounts(c: ImportCounts): string[] {
  const f = (x: { created: number; updated: number; unchanged: number }) => `新增 ${x.created}，更新 ${x.updated}，未变 ${x.unchanged}`;
  return [`村社区：${f(c.villages)}`, `人员：${f(c.people)}`, `节点截止日期：${f(c.overrides)}`, `谈话：${f(c.talks)}`, `新建县/乡镇：${c.regions.created}`];
}

/** The line about people not yet bound to a Lark account, or null when everyone is. */
export function unboundLine(n: number): string | null {
  if (!n) return null;
  return `${n} 人尚未绑定飞书账号：服务运行且已配置飞书应用时会按手机号/邮箱自动匹配；可用 npm run cli -- people --unbound 查看`;
}

/**
 * Everything a person reads about an outcome, in sections: the problems (or
 * the counts), then warnings, the unbound line and the reader's notes.
 */
export function outcomeLines(o: ImportOutcome): { problems: string[]; counts: string[]; warnings: string[]; unbound: string | null; notes: string[] } {
  const notes = (o.notes ?? []).map((n) => `提示：${n}`);
  if (!o.ok) return { problems: o.lines ?? issueLines(o.issues), counts: [], warnings: [], unbound: null, notes };
  return { problems: [], counts: describeCounts(o.counts), warnings: (o.warnings ?? []).map((w) => `注意：${w}`), unbound: unboundLine(o.unbound ?? 0), notes };
}
