import ExcelJS from 'exceljs';
import { join } from 'node:path';
import type { Db } from '../../../src/store/db.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../../src/store/workflow-repos.js';
import { outcomeLines, readImportFile, runImport, type ImportOutcome } from '../../../src/workflow/import/index.js';
import { openTestDb } from '../../helpers/store.js';
import { tempDir } from '../../helpers/test-runtime.js';

/**
 * A database and real .xlsx files (written by exceljs, read by the real
 * reader) for validator-level import tests.
 */
export type Cell = string | number | Date | null;
export type Book = Record<string, Cell[][]>;

export const NOW = Date.parse('2026-02-01T04:00:00Z');
const TABLES = ['wf_regions', 'wf_people', 'wf_assignments', 'wf_stage_overrides', 'wf_talks', 'wf_talk_interviewers'];

export interface World {
  dir: string;
  db: Db;
  repos: WorkflowRepos;
  /** Writes the workbook (tab name → rows, the first row the header unless `titles` come first) and imports it. */
  importBook(book: Book, opts?: { county?: string; name?: string; now?: number }): Promise<ImportOutcome>;
  /** Row counts of the roster tables, to compare before and after. */
  counts(): Record<string, number>;
  close(): void;
}

export function world(): World {
  const dir = tempDir('hj-import-validate-');
  const db = openTestDb(join(dir, 'huanjie.db'));
  const repos = createWorkflowRepos(db);
  let n = 0;
  return {
    dir,
    db,
    repos,
    async importBook(book, opts = {}) {
      const file = join(dir, opts.name ?? `book${n}.xlsx`);
      await writeBook(file, book);
      const read = await readImportFile(file);
      return runImport(repos, read, { actor: 'ou_admin_test', sourceId: `t${n++}`, fileName: opts.name ?? 'book.xlsx', now: opts.now ?? NOW, county: opts.county ?? null, tz: 'Asia/Shanghai' });
    },
    counts() {
      return Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n]));
    },
    close() {
      db.close();
    },
  };
}

export async function writeBook(file: string, book: Book): Promise<void> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(book)) {
    const ws = wb.addWorksheet(name);
    for (const r of rows) ws.addRow(r);
  }
  await wb.xlsx.writeFile(file);
}

/** Every line a person reads about the outcome (problems or counts, warnings, unbound, notes). */
export function allLines(o: ImportOutcome): string[] {
  const l = outcomeLines(o);
  return [...l.problems, ...l.counts, ...l.warnings, ...(l.unbound ? [l.unbound] : []), ...l.notes];
}

export const problems = (o: ImportOutcome): string[] => outcomeLines(o).problems;

/**
 * Words of four or more Latin letters left after taking out what is not prose
 * (paths, file names and extensions, what the file itself holds quoted in 「」, open_ids and the
 * open_id column name, emails, the CLI command a line names, the names
 * Excel/WPS/LibreOffice): there must be none.
 */
export function englishIn(lines: readonly string[]): string[] {
  return lines
    .map((l) =>
      l
        .replace(/(?:\/[\w.\-+\u4e00-\u9fff]+)+/g, '')
        .replace(/[\w.\-（）()\u4e00-\u9fff]*\.(xlsx|xls|csv)\b/gi, '')
        .replace(/「[^」]*」/g, '')
        .replace(/ou_[\w-]+/g, '')
        .replace(/open_?id/gi, '')
        .replace(/[\w.+-]+@[\w.-]+/g, '')
        .replace(/npm run cli -- [a-z -]+/g, '')
        .replace(/Excel|WPS|LibreOffice/g, ''),
    )
    .filter((l) => /[A-Za-z]{4,}/.test(l));
}

export const VILLAGES: Cell[][] = [
  ['县', '乡镇', '村社区', '类型', '选举日'],
  ['沁源县', '沁河镇', '城西村', '村', '2026-03-15'],
  ['沁源县', '沁河镇', '城东村', '村', '2026-03-15'],
  ['沁源县', '沁河镇', '西关社区', '社区', '2026-03-15'],
  ['沁源县', '郭道镇', '郭道村', '村', '2026-03-16'],
];
