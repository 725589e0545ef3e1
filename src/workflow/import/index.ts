import type { WorkflowRepos } from '../../store/workflow-repos.js';
import { applyImport, type ImportCounts } from './apply.js';
import type { ReadResult } from './read.js';
import { formatIssue, type ImportIssue } from './sheets.js';
import { validateImport } from './validate.js';

export { readImportBytes, readImportFile } from './read.js';
export { writeTemplate } from './template.js';
export { formatIssue, SHEETS, type ImportIssue } from './sheets.js';
export type { ImportCounts } from './apply.js';

/** The answer to an import: what was applied, or every problem found (and nothing applied). */
export type ImportOutcome = { ok: true; counts: ImportCounts; fileName: string } | { ok: false; issues: ImportIssue[]; fileName: string };

/**
 * Validates and, only when everything is valid, applies. `sourceId` makes it
 * idempotent: the chat message (or CLI run) that carried the file is imported
 * once; a re-run answers with the recorded outcome.
 */
export function runImport(repos: WorkflowRepos, read: ReadResult, opts: { actor: string; sourceId: string; fileName: string; now: number }): ImportOutcome {
  const prev = repos.imports.bySource(opts.sourceId);
  if (prev) return JSON.parse(prev.result) as ImportOutcome;
  const { plan, issues } = validateImport(read.sheets, repos);
  const all = [...read.issues, ...issues].sort((a, b) => sheetOrder(a.sheet) - sheetOrder(b.sheet) || (a.row ?? 0) - (b.row ?? 0));
  if (!all.length) {
    // The record is written in the import's own transaction (see applyImport).
    const counts = applyImport(repos, plan, opts.actor, opts.now, opts.fileName, (c) =>
      repos.imports.insert(opts.sourceId, opts.actor, opts.now, opts.fileName, true, { ok: true, counts: c, fileName: opts.fileName }),
    );
    return { ok: true, counts, fileName: opts.fileName };
  }
  const outcome: ImportOutcome = { ok: false, issues: all, fileName: opts.fileName };
  repos.audit.record({ at: opts.now, actor: opts.actor, action: 'import.refused', target: `file:${opts.fileName}`, detail: `${all.length} problems; first: ${formatIssue(all[0]!)}` });
  // Large error lists are kept to the first few hundred in the record; the caller already has them all.
  repos.imports.insert(opts.sourceId, opts.actor, opts.now, opts.fileName, false, { ...outcome, issues: outcome.issues.slice(0, 300) });
  return outcome;
}

const ORDER = ['人员', '村社区', '节点', '谈话'];
const sheetOrder = (s: string) => {
  const i = ORDER.indexOf(s);
  return i < 0 ? 99 : i;
};

/** Counts as one Chinese line per sheet. */
export function describeCounts(c: ImportCounts): string[] {
  const f = (x: { created: number; updated: number; unchanged: number }) => `新增 ${x.created}，更新 ${x.updated}，未变 ${x.unchanged}`;
  return [`村社区：${f(c.villages)}`, `人员：${f(c.people)}`, `节点截止日期：${f(c.overrides)}`, `谈话：${f(c.talks)}`, `新建县/乡镇：${c.regions.created}`];
}
