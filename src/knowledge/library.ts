import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { IngestReport } from './ingest.js';

/**
 * What the policy library is made of, in one place, so that the service, the terminal
 * chat, the console and every `kb` command answer from the same documents:
 *   1. the project's own 换届工作指引 (`knowledge/` in the checkout, always);
 *   2. the operator's KNOWLEDGE_DIR (when it is another folder);
 *   3. whatever `kb ingest` stored earlier (already in the database).
 * The first two are re-read (unchanged files are skipped by hash) before a library is used.
 */
export const BUNDLED_KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge/', import.meta.url)).replace(/\/$/, '');

/** Said in chat, CLI and console when the library holds no passage at all — never “no basis found”. */
export const EMPTY_LIBRARY_ANSWER =
  '知识库里还没有任何文件，暂时无法回答政策问题。请管理员用 kb ingest 导入政策文件，或把文件放进 KNOWLEDGE_DIR 指定的文件夹后重启服务。';

export interface LibraryOptions {
  /** Include the bundled pack (default true; `kb … --no-pack` measures without it). */
  bundled?: boolean;
}

export interface LibraryPaths {
  /** Folders to index, in order, each existing. */
  paths: string[];
  /** Folders named by the configuration that do not exist (reported, not fatal). */
  missing: string[];
}

/** The folders that make the library for this configuration. */
export function libraryPaths(config: Pick<Config, 'knowledgeDir'>, opts: LibraryOptions = {}): LibraryPaths {
  const bundled = opts.bundled ?? true;
  const wanted: string[] = [];
  if (bundled) wanted.push(BUNDLED_KNOWLEDGE_DIR);
  const own = resolve(config.knowledgeDir);
  // The default KNOWLEDGE_DIR (./knowledge run from the checkout) is the pack itself.
  if (own !== BUNDLED_KNOWLEDGE_DIR) wanted.push(own);
  const paths: string[] = [];
  const missing: string[] = [];
  for (const p of wanted) (existsSync(p) ? paths : missing).push(p);
  return { paths, missing };
}

/** Indexes the library's folders into `kb` (the service's ingestPaths), logging folders that are missing. */
export async function loadLibrary(
  kb: { ingestPaths(paths: string[]): Promise<IngestReport> },
  config: Pick<Config, 'knowledgeDir'>,
  logger: Logger,
  opts: LibraryOptions = {},
): Promise<IngestReport> {
  const { paths, missing } = libraryPaths(config, opts);
  for (const p of missing) logger.warn({ path: p }, 'knowledge folder not found; skipped');
  return kb.ingestPaths(paths);
}
