import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { contentHash, prepareDocument } from './document.js';
import { UnreadableFileError, formatOf } from './extract.js';
import type { IndexRepo } from './index-repo.js';

export interface IngestReport {
  added: string[];
  updated: string[];
  unchanged: string[];
  /** Files that could not be read; the index keeps whatever it had for them. */
  failed: { path: string; message: string }[];
  /** Files in a folder that are not a supported type (README files included). */
  skipped: string[];
  chunks: number;
  ms: number;
}

/** A folder's README describes the folder, not policy; it is not indexed. */
function isReadme(path: string): boolean {
  return /^readme(\.[a-z]+)?$/i.test(basename(path));
}

/** Supported files under the given paths, recursively, hidden folders skipped, in a stable order. */
export function collectFiles(paths: string[]): { files: string[]; skipped: string[] } {
  const files: string[] = [];
  const skipped: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) (formatOf(p) && !isReadme(p) ? files : skipped).push(p);
    }
  };
  for (const raw of paths) {
    const p = resolve(raw);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UserError(`找不到路径「${raw}」，请检查文件或文件夹是否存在。`, 'not_found');
    }
    if (st.isDirectory()) walk(p);
    else if (formatOf(p)) files.push(p);
    else throw new UserError(`不支持的文件类型「${basename(p)}」：只支持 .txt .md .html .docx .pdf。`);
  }
  return { files: [...new Set(files)], skipped };
}

/**
 * Indexes each file on its own: unchanged content (same SHA-256) is skipped, a changed
 * file replaces its chunks in one transaction, and an unreadable file is reported by
 * name while its previous version, if any, stays in the index.
 */
export async function ingestFiles(
  repo: IndexRepo,
  paths: string[],
  opts: { now: () => number; logger?: Logger; onIndexed?: (docId: number) => Promise<void> },
): Promise<IngestReport> {
  const t0 = performance.now();
  const { files, skipped } = collectFiles(paths);
  const report: IngestReport = { added: [], updated: [], unchanged: [], failed: [], skipped, chunks: 0, ms: 0 };
  for (const file of files) {
    try {
      const bytes = readFileSync(file);
      const existing = repo.docByPath(file);
      if (existing && existing.hash === contentHash(bytes)) {
        report.unchanged.push(file);
        continue;
      }
      const doc = await prepareDocument(file, bytes);
      if (doc.chunks.length === 0) throw new UnreadableFileError(file, '没有可索引的正文内容');
      const row = repo.replaceDocument(doc, opts.now());
      report.chunks += doc.chunks.length;
      (existing ? report.updated : report.added).push(file);
      opts.logger?.info({ file, chunks: doc.chunks.length, title: doc.meta.title, version: doc.meta.version }, 'kb: indexed');
      if (opts.onIndexed) await opts.onIndexed(row.id);
    } catch (e) {
      const message =
        e instanceof UnreadableFileError
          ? e.userMessage
          : `无法读取文件「${basename(file)}」：${e instanceof Error ? e.message : String(e)}。索引未作改动。`;
      report.failed.push({ path: file, message });
      opts.logger?.warn({ file, err: e instanceof Error ? e.message : String(e) }, 'kb: file not indexed');
    }
  }
  report.ms = performance.now() - t0;
  return report;
}
