import type { ChunkRow } from './index-repo.js';

export interface Citation {
  doc: string;
  title: string;
  version: string | null;
  locator: string;
  text: string;
}

/** Longest quote kept in a citation; longer passages end with …. */
export const MAX_QUOTE_CHARS = 700;

export function displayLocator(c: Pick<ChunkRow, 'locator' | 'part'>): string {
  return c.part > 0 ? `${c.locator}（第${c.part}部分）` : c.locator;
}

export function citationOf(c: ChunkRow): Citation {
  const text = c.text.length > MAX_QUOTE_CHARS ? c.text.slice(0, MAX_QUOTE_CHARS - 1) + '…' : c.text;
  return { doc: c.doc_name, title: c.doc_title, version: c.doc_version, locator: displayLocator(c), text };
}
