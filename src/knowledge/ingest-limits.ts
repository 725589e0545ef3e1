import { basename } from 'node:path';
import { AppError } from '../errors.js';

/**
 * What one file may cost to index. A policy document is a few hundred KB of text: the
 * largest law in force (民法典) is about 0.3 MB, a province's 选举办法 well under 0.1 MB.
 * Beyond these the file is not a policy document, or is a zip bomb, and reading it would
 * take gigabytes (issue 15 measured 3.6 GB for a 200 MB .txt and >5.7 GB for a 1.2 MB
 * .docx inflating to 324 MB). Indexing costs ~15 MB of RSS per MB of text and holds the
 * event loop ~1.5 s per MB (one transaction); with the defaults the service (~265 MB
 * with the pack) peaked at 286 MB on a file at the text limit (320 MB at 5 MB).
 */
export interface IngestLimits {
  /** Any file on disk (a .pdf or .docx with pictures is mostly not text). KB_MAX_FILE_MB. */
  maxFileBytes: number;
  /** A text file (.txt .md .html) on disk, and the text extracted from any file. KB_MAX_TEXT_MB. */
  maxTextBytes: number;
  /** What a .docx's XML parts inflate to, all together. KB_MAX_UNZIPPED_MB. */
  maxUnzippedBytes: number;
}

const MB = 1024 * 1024;

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxFileBytes: 20 * MB,
  maxTextBytes: 2 * MB,
  maxUnzippedBytes: 50 * MB,
};

export function limitsFromMb(mb: { file?: number; text?: number; unzipped?: number }): IngestLimits {
  return {
    maxFileBytes: (mb.file ?? DEFAULT_INGEST_LIMITS.maxFileBytes / MB) * MB,
    maxTextBytes: (mb.text ?? DEFAULT_INGEST_LIMITS.maxTextBytes / MB) * MB,
    maxUnzippedBytes: (mb.unzipped ?? DEFAULT_INGEST_LIMITS.maxUnzippedBytes / MB) * MB,
  };
}

/** Sizes as people read them: 1.2 MB, 324 MB, 800 KB. */
export function formatSize(bytes: number): string {
  if (bytes >= MB) {
    const v = bytes / MB;
    return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} MB`;
  }
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export type LimitKind = 'file' | 'text' | 'unzipped' | 'ratio' | 'entries' | 'zip64';

const VARIABLE: Record<LimitKind, string> = {
  file: 'KB_MAX_FILE_MB',
  text: 'KB_MAX_TEXT_MB',
  unzipped: 'KB_MAX_UNZIPPED_MB',
  ratio: 'KB_MAX_UNZIPPED_MB',
  entries: 'KB_MAX_UNZIPPED_MB',
  zip64: 'KB_MAX_UNZIPPED_MB',
};

/**
 * A file refused for its size, before or while it is read: the message names the file,
 * what was over and the limit (and the variable that sets it). The index is not changed,
 * so a previous version of the file stays searchable.
 */
export class IngestLimitError extends AppError {
  constructor(
    public readonly file: string,
    public readonly kind: LimitKind,
    /** The limit in bytes (for 'ratio': the ratio; for 'entries': the count). */
    public readonly limit: number,
    /** What was measured, when known (bytes, or the ratio / count). */
    public readonly actual?: number,
  ) {
    const name = `「${basename(file)}」`;
    const over = actual !== undefined ? `（${kind === 'ratio' ? `${Math.round(actual)} 倍` : kind === 'entries' ? `${actual} 个` : formatSize(actual)}）` : '';
    const what: Record<LimitKind, string> = {
      file: `文件${name}大小${over}超过上限 ${formatSize(limit)}`,
      text: `文件${name}的正文${over}超过上限 ${formatSize(limit)}，不像是一份政策文件`,
      unzipped: `文件${name}解压后${over}超过上限 ${formatSize(limit)}，疑似“压缩炸弹”或含有大量与正文无关的内容`,
      ratio: `文件${name}的压缩比${over}异常（上限 ${limit} 倍），疑似“压缩炸弹”`,
      entries: `文件${name}包含的部件过多${over}，上限 ${limit} 个，不像是 Word 文档`,
      zip64: `文件${name}声明的解压大小超过 4 GB，疑似“压缩炸弹”`,
    };
    super('validation', `${what[kind]}，已拒绝导入（上限可用 ${VARIABLE[kind]} 调整）。索引未作改动。`, {
      detail: `${file}: ${kind} over limit ${limit}${actual !== undefined ? ` (${actual})` : ''}`,
    });
    this.name = 'IngestLimitError';
  }
}
