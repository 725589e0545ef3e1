import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AppError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { contentHash, prepareDocument } from './document.js';
import { UnreadableFileError, fileLimitFor, formatOf } from './extract.js';
import type { IndexRepo } from './index-repo.js';
import { DEFAULT_INGEST_LIMITS, IngestLimitError, type IngestLimits } from './ingest-limits.js';

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
    else if (!st.isFile()) throw new UserError(`「${basename(p)}」不是普通文件（可能是设备或管道），无法导入。`);
    else if (formatOf(p)) files.push(p);
    else throw new UserError(`不支持的文件类型「${basename(p)}」：只支持 .txt .md .html .docx .pdf。`);
  }
  return { files: [...new Set(files)], skipped };
}

/** What a run of ingestFiles reports as it goes (the service's /readyz view). */
export interface IngestProgress {
  /** All files of the run are known, before any is read. */
  onFiles?(files: string[]): void;
  /** One file is done: indexed, unchanged, or failed with its message. */
  onFile?(file: string, outcome: { failed?: string }): void;
  /** The run is over (also when it stopped early or threw): files not reached are no longer pending. */
  onEnd?(): void;
}

/**
 * Reads a file whose size is within `limit`, refusing before reading anything when it
 * is over, and reading at most limit + 1 bytes whatever the file does meanwhile (grows,
 * or is not what stat said).
 */
export function readBounded(file: string, limit: { kind: 'file' | 'text'; bytes: number }): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > limit.bytes) throw new IngestLimitError(file, limit.kind, limit.bytes, size);
    const buf = Buffer.allocUnsafe(Math.min(size, limit.bytes) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > limit.bytes) throw new IngestLimitError(file, limit.kind, limit.bytes);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Lets the event loop serve requests between two files (indexing runs in the service's process). */
const breathe = () => new Promise<void>((r) => setImmediate(r));

/**
 * Indexes each file on its own: unchanged content (same SHA-256) is skipped, a changed
 * file replaces its chunks in one transaction, and an unreadable or oversized file is
 * reported by name while its previous version, if any, stays in the index. Files are
 * read within the limits (ingest-limits.ts); between two files the event loop runs,
 * and `signal` stops the run there.
 */
export async function ingestFiles(
  repo: IndexRepo,
  paths: string[],
  opts: {
    now: () => number;
    logger?: Logger;
    onIndexed?: (docId: number) => Promise<void>;
    limits?: IngestLimits;
    progress?: IngestProgress;
    signal?: AbortSignal;
  },
): Promise<IngestReport> {
  const t0 = performance.now();
  const limits = opts.limits ?? DEFAULT_INGEST_LIMITS;
  const { files, skipped } = collectFiles(paths);
  opts.progress?.onFiles?.(files);
  try {
    return await ingestEach(repo, files, skipped, limits, opts, t0);
  } finally {
    opts.progress?.onEnd?.();
  }
}

async function ingestEach(
  repo: IndexRepo,
  files: string[],
  skipped: string[],
  limits: IngestLimits,
  opts: Parameters<typeof ingestFiles>[2],
  t0: number,
): Promise<IngestReport> {
  const report: IngestReport = { added: [], updated: [], unchanged: [], failed: [], skipped, chunks: 0, ms: 0 };
  for (const [i, file] of files.entries()) {
    if (opts.signal?.aborted) break;
    if (i > 0) await breathe();
    try {
      const bytes = readBounded(file, fileLimitFor(formatOf(file)!, limits));
      const existing = repo.docByPath(file);
      if (existing && existing.hash === contentHash(bytes)) {
        report.unchanged.push(file);
        opts.progress?.onFile?.(file, {});
        continue;
      }
      const doc = await prepareDocument(file, bytes, limits);
      if (doc.chunks.length === 0) throw new UnreadableFileError(file, '没有可索引的正文内容');
      const row = repo.replaceDocument(doc, opts.now());
      report.chunks += doc.chunks.length;
      (existing ? report.updated : report.added).push(file);
      opts.logger?.info({ file, chunks: doc.chunks.length, title: doc.meta.title, version: doc.meta.version }, 'kb: indexed');
      opts.progress?.onFile?.(file, {});
      if (opts.onIndexed) await opts.onIndexed(row.id);
    } catch (e) {
      const message =
        e instanceof AppError && (e instanceof UnreadableFileError || e instanceof IngestLimitError)
          ? e.userMessage
          : `无法读取文件「${basename(file)}」：${readableReason(e)}。索引未作改动。`;
      report.failed.push({ path: file, message });
      opts.progress?.onFile?.(file, { failed: message });
      opts.logger?.warn({ file, err: e instanceof Error ? e.message : String(e) }, 'kb: file not indexed');
    }
  }
  report.ms = performance.now() - t0;
  return report;
}

/** A reason a person can read: the error's Chinese message when it has one, else a plain category. */
function readableReason(e: unknown): string {
  if (e instanceof AppError) return e.userMessage;
  const code = (e as { code?: string } | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return '没有读取权限';
  if (code === 'ENOENT') return '文件已不存在';
  if (code === 'EISDIR') return '这是一个文件夹';
  if (e instanceof RangeError) return '文件内容过大或结构异常';
  return '文件内容无法处理';
}
