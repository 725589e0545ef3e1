import type { WorkflowRepos } from '../../store/workflow-repos.js';
import { todayIn } from '../dates.js';
import { applyImport, type ImportCounts } from './apply.js';
import type { ReadResult } from './read.js';
import { issueLines, sortIssues } from './report.js';
import { changeLines, changesToken, hasChanges, missingLines, rosterChanges, type RosterChanges } from './roster-changes.js';
import type { ImportIssue } from './sheets.js';
import { validateImport } from './validate.js';

export { readImportBytes, readImportFile } from './read.js';
export { writeTemplate } from './template.js';
export { formatIssue, SHEETS, type ImportIssue } from './sheets.js';
export { issueLines } from './report.js';
export type { ImportCounts } from './apply.js';
export type { RosterChanges } from './roster-changes.js';

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
  | { ok: false; issues: ImportIssue[]; fileName: string; lines?: string[]; notes?: string[]; confirm?: undefined }
  | ImportPreview;

/**
 * A valid file that drops people or renames villages (issue 17): nothing is
 * applied; `lines` list the removals and renames, `warnings` the rest. The
 * same file imported again with `confirm: token` applies it — if what it
 * changes is still what was shown; otherwise a new preview is answered.
 * Not recorded in wf_imports (the confirmation is the import), only audited.
 */
export interface ImportPreview {
  ok: false;
  confirm: { token: string; changes: RosterChanges };
  issues: [];
  fileName: string;
  lines: string[];
  warnings: string[];
  notes?: string[];
}

export function isPreview(o: ImportOutcome): o is ImportPreview {
  return !o.ok && o.confirm !== undefined;
}

export interface ImportOptions {
  actor: string;
  sourceId: string;
  fileName: string;
  now: number;
  /** The county of rows that name none (CLI --county). */
  county?: string | null;
  /** Time zone of "today" for election-day warnings. */
  tz?: string;
  /** The token of the preview the admin confirmed: removals and renames are applied only with it. */
  confirm?: string;
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
  const hasSheet = (n: string) => read.sheets.some((s) => s.name === n);
  const roster = issues.length || read.issues.length ? null : rosterChanges(plan, repos.roster, { people: hasSheet('人员'), villages: hasSheet('村社区') });
  const all = sortIssues([...read.issues, ...issues, ...(roster?.issues ?? [])]);
  const notes = [...new Set(read.notes ?? [])];
  if (!all.length) {
    const changes = roster!.changes;
    const warningLines = [...issueLines(sortIssues(warnings)), ...missingLines(changes)];
    const token = changesToken(changes);
    if (hasChanges(changes) && opts.confirm !== token) {
      const preview: ImportPreview = { ok: false, confirm: { token, changes }, issues: [], fileName: opts.fileName, lines: changeLines(changes), warnings: warningLines, notes };
      repos.audit.record({ at: opts.now, actor: opts.actor, action: 'import.preview', target: `file:${opts.fileName}`, detail: preview.lines.slice(0, 20).join('\n') });
      return preview;
    }
    let recorded: ImportOutcome | undefined;
    // The record is written in the import's own transaction (see applyImport).
    const counts = applyImport(repos, plan, opts.actor, opts.now, opts.fileName, (c) => {
      const outcome: ImportOutcome = { ok: true, counts: c, fileName: opts.fileName, warnings: warningLines, notes, unbound: repos.roster.unboundCount() };
      if (warningLines.length) {
        repos.audit.record({ at: opts.now, actor: opts.actor, action: 'import.warnings', target: `file:${opts.fileName}`, detail: warningLines.join('\n') });
      }
      repos.imports.insert(opts.sourceId, opts.actor, opts.now, opts.fileName, true, outcome);
      recorded = outcome;
    }, changes);
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
  const r = c.roster;
  const changed = r && (r.removed || r.renamed) ? [`移出花名册：${r.removed} 人（取消待发消息 ${r.cancelledMessages} 条）；村社区改名：${r.renamed} 个`] : [];
  return [`村社区：${f(c.villages)}`, `人员：${f(c.people)}`, `节点截止日期：${f(c.overrides)}`, `谈话：${f(c.talks)}`, `新建县/乡镇：${c.regions.created}`, ...changed];
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
  if (isPreview(o)) return { problems: [], counts: o.lines, warnings: o.warnings.map((w) => `注意：${w}`), unbound: null, notes };
  if (!o.ok) return { problems: o.lines ?? issueLines(o.issues), counts: [], warnings: [], unbound: null, notes };
  return { problems: [], counts: describeCounts(o.counts), warnings: (o.warnings ?? []).map((w) => `注意：${w}`), unbound: unboundLine(o.unbound ?? 0), notes };
}
