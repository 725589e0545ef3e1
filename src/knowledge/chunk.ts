import type { ChunkDraft } from './chunk-types.js';
import { chunkEnumerated, chunkLegal, countArticles, dominantItemFamily } from './chunk-legal.js';
import { chunkSpeech } from './chunk-speech.js';

export type { ChunkDraft } from './chunk-types.js';

/** Longest chunk kept whole; longer units are split at sentence ends with their locator kept. */
export const MAX_CHUNK_CHARS = 600;
const TARGET_PART_CHARS = 420;
/** Below this many characters of content (locator excluded) a chunk is merged into a neighbour. */
const MIN_CONTENT_CHARS = 12;

export type DocShape = 'legal' | 'list' | 'speech';

export function detectShape(body: string): DocShape {
  if (countArticles(body) >= 3) return 'legal';
  if (dominantItemFamily(body)) return 'list';
  return 'speech';
}

export function chunkDocument(body: string, title: string): { shape: DocShape; chunks: ChunkDraft[] } {
  const shape = detectShape(body);
  const raw =
    shape === 'legal' ? chunkLegal(body, title) : shape === 'list' ? chunkEnumerated(body, title, dominantItemFamily(body)!) : chunkSpeech(body, title);
  return { shape, chunks: splitLong(mergeTiny(raw)) };
}

function contentLength(c: ChunkDraft): number {
  // The article marker or item number is not content: "第四十一条" alone is a heading-only chunk.
  return c.text.replace(/^第[一二三四五六七八九十百零〇两\d]+条/, '').replace(/[\s\p{P}]/gu, '').length;
}

/**
 * Near-empty paragraphs (a salutation, a caption, a heading left alone) join the
 * previous chunk under the same heading, or else the next one. Articles, items and
 * points are units of their own however short; chunks with no content at all go.
 */
export function mergeTiny(chunks: ChunkDraft[]): ChunkDraft[] {
  const out: ChunkDraft[] = [];
  let carry: ChunkDraft | null = null;
  const mergeable = (c: ChunkDraft) => c.kind === 'paragraph' || c.kind === 'preamble';
  const samePath = (a: ChunkDraft, b: ChunkDraft) => a.headingPath.join('\u0000') === b.headingPath.join('\u0000');
  for (const c of chunks) {
    let cur: ChunkDraft = c;
    if (carry) {
      cur = samePath(carry, c) || mergeable(c) ? { ...c, text: `${carry.text}\n${c.text}` } : c;
      if (cur === c) out.push(carry);
      carry = null;
    }
    if (contentLength(cur) === 0) continue;
    if (mergeable(cur) && contentLength(cur) < MIN_CONTENT_CHARS) {
      const prev = out[out.length - 1];
      if (prev && samePath(prev, cur) && prev.kind !== 'article') prev.text = `${prev.text}\n${cur.text}`;
      else carry = cur;
      continue;
    }
    out.push(cur);
  }
  if (carry) out.push(carry);
  return out;
}

/** Splits an over-long unit at sentence ends; every part keeps the unit's locator and gets a part number. */
export function splitLong(chunks: ChunkDraft[]): ChunkDraft[] {
  const out: ChunkDraft[] = [];
  for (const c of chunks) {
    if (c.text.length <= MAX_CHUNK_CHARS) {
      out.push(c);
      continue;
    }
    // Parts end at full stops, so an answer quoting a part never starts mid-sentence; a
    // sentence longer than the limit is cut at semicolons, then commas (hardSplit).
    const sentences = c.text.split(/(?<=[。！？\n])/).filter((s) => s.length > 0);
    const parts: string[] = [];
    let buf = '';
    for (const s of sentences) {
      if (buf && buf.length + s.length > TARGET_PART_CHARS) {
        parts.push(buf);
        buf = '';
      }
      if (s.length > MAX_CHUNK_CHARS) {
        // A single run-on sentence: cut at commas, then hard at the limit.
        for (const piece of hardSplit(s)) {
          if (buf && buf.length + piece.length > TARGET_PART_CHARS) {
            parts.push(buf);
            buf = '';
          }
          buf += piece;
        }
      } else buf += s;
    }
    if (buf.trim()) parts.push(buf);
    parts.forEach((p, i) => out.push({ ...c, text: p.trim(), part: parts.length > 1 ? i + 1 : 0 }));
  }
  return out;
}

function hardSplit(s: string): string[] {
  const pieces = s.split(/(?<=[；;])/).flatMap((c) => (c.length > MAX_CHUNK_CHARS ? c.split(/(?<=[，、：,])/) : [c]));
  const out: string[] = [];
  for (const p of pieces) {
    for (let i = 0; i < p.length; i += MAX_CHUNK_CHARS) out.push(p.slice(i, i + MAX_CHUNK_CHARS));
  }
  return out;
}
