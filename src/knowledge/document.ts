import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { chunkDocument, type ChunkDraft, type DocShape } from './chunk.js';
import { extractFile } from './extract.js';
import type { IngestLimits } from './ingest-limits.js';
import { readDocMeta, type DocMeta } from './metadata.js';
import { normalizeChars, normalizeLayout } from './normalize.js';

/** One file turned into what the index stores: identity, metadata and chunks. */
export interface PreparedDocument {
  path: string;
  name: string;
  hash: string;
  format: string;
  encoding: string | null;
  shape: DocShape;
  meta: DocMeta;
  chunks: ChunkDraft[];
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes → normalised, chunked document. Throws UnreadableFileError naming the file. */
export async function prepareDocument(path: string, bytes: Uint8Array, limits?: IngestLimits): Promise<PreparedDocument> {
  const extracted = await extractFile(path, bytes, limits);
  const chars = normalizeChars(extracted.text);
  // Metadata is read before layout repair: datelines like "2021-05-21 发布" are furniture to the chunker.
  const { meta, body } = readDocMeta(chars, basename(path), extracted.meta);
  const text = normalizeLayout(body);
  const { shape, chunks } = chunkDocument(text, meta.title);
  return {
    path,
    name: basename(path),
    hash: contentHash(bytes),
    format: extracted.format,
    encoding: extracted.encoding ?? null,
    shape,
    meta,
    chunks,
  };
}
