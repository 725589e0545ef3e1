import { extname } from 'node:path';
import { decodeText, looksLikeText } from './decode.js';
import { extractDocxText } from './docx.js';
import { dropHiddenHtml, htmlToText, htmlTitle } from './html.js';
import { DEFAULT_INGEST_LIMITS, IngestLimitError, type IngestLimits } from './ingest-limits.js';
import { stripFormatControls } from './normalize.js';
import { UnreadableFileError } from './unreadable.js';

export { UnreadableFileError } from './unreadable.js';

/** What a file yields before normalisation: its raw text and whatever metadata the format carries. */
export interface ExtractedFile {
  text: string;
  format: SupportedFormat;
  /** Title/author/date from the file's own metadata (docx core properties, PDF info, HTML <title>). */
  meta: { title?: string; author?: string; date?: string };
  encoding?: string;
}

export type SupportedFormat = 'txt' | 'md' | 'html' | 'docx' | 'pdf';
export const SUPPORTED_EXTENSIONS: Record<string, SupportedFormat> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.md': 'md',
  '.markdown': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.docx': 'docx',
  '.pdf': 'pdf',
};

export function formatOf(path: string): SupportedFormat | undefined {
  return SUPPORTED_EXTENSIONS[extname(path).toLowerCase()];
}

/** Text formats: the file is its text, so the text limit applies to the file before it is read. */
export function isTextFormat(format: SupportedFormat): boolean {
  return format === 'txt' || format === 'md' || format === 'html';
}

/** The size limit that applies to a file of this format on disk. */
export function fileLimitFor(format: SupportedFormat, limits: IngestLimits): { kind: 'file' | 'text'; bytes: number } {
  return isTextFormat(format) ? { kind: 'text', bytes: limits.maxTextBytes } : { kind: 'file', bytes: limits.maxFileBytes };
}

/**
 * Bytes → raw text and metadata, within the limits (IngestLimitError names the file and
 * the limit). Metadata strings lose format controls here: they become titles and citations.
 */
export async function extractFile(path: string, bytes: Uint8Array, limits: IngestLimits = DEFAULT_INGEST_LIMITS): Promise<ExtractedFile> {
  const format = formatOf(path);
  if (!format) throw new UnreadableFileError(path, '不支持的文件类型（支持 .txt .md .html .docx .pdf）');
  const cap = fileLimitFor(format, limits);
  if (bytes.length > cap.bytes) throw new IngestLimitError(path, cap.kind, cap.bytes, bytes.length);
  const out = await extractByFormat(path, format, bytes, limits);
  if (!isTextFormat(format) && Buffer.byteLength(out.text) > limits.maxTextBytes) {
    throw new IngestLimitError(path, 'text', limits.maxTextBytes, Buffer.byteLength(out.text));
  }
  for (const k of ['title', 'author', 'date'] as const) {
    const v = out.meta[k];
    if (v !== undefined) out.meta[k] = stripFormatControls(v).trim() || undefined;
  }
  return out;
}

async function extractByFormat(path: string, format: SupportedFormat, bytes: Uint8Array, limits: IngestLimits): Promise<ExtractedFile> {
  switch (format) {
    case 'txt':
    case 'md': {
      const { text, encoding } = decodeText(bytes);
      if (!looksLikeText(text)) throw new UnreadableFileError(path, '内容不是可识别的文本（可能是二进制文件或编码无法识别）');
      return { text: format === 'md' ? markdownToText(text) : text, format, meta: {}, encoding };
    }
    case 'html': {
      const { text: html, encoding } = decodeHtml(bytes);
      const text = htmlToText(html);
      // A saved page whose whole body is hidden (a dialog was open: aria-hidden on the app root) says so.
      if (!text.trim() && htmlToTextVisibleOrNot(html)) {
        throw new UnreadableFileError(path, '网页正文全部处于隐藏状态（hidden、display:none 或 aria-hidden），浏览器中看不到，未导入；请重新保存页面后再导入');
      }
      return { text, format, meta: { title: htmlTitle(html) }, encoding };
    }
    case 'docx': {
      const { text, meta } = await extractDocxText(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
      return { text, format: 'docx', meta };
    }
    case 'pdf':
      return extractPdf(path, bytes);
  }
}

/** Whether the page has text at all once tags, scripts and styles are gone (hidden parts included). */
function htmlToTextVisibleOrNot(html: string): boolean {
  const body = /<body\b[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  return body.replace(/<(script|style|template)\b[\s\S]*?<\/\1>/gi, '').replace(/<!--[\s\S]*?-->/g, '').replace(/<[^>]+>/g, '').trim().length > 0;
}

/** Valid UTF-8 is UTF-8, anything else GB18030 — the same rule as .txt, whatever the page's meta tag claims. */
function decodeHtml(bytes: Uint8Array): { text: string; encoding: string } {
  return decodeText(bytes);
}

/**
 * Markdown → text: keep headings and list text, drop markup that would pollute tokens.
 * Raw HTML in Markdown is HTML: comments and hidden elements go (dropHiddenHtml), other tags lose their markup.
 */
export function markdownToText(md: string): string {
  return dropHiddenHtml(md)
    .replace(/<\/?[a-zA-Z][\w-]*(?:\s[^<>]*)?\/?>/g, '')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/!\[[^\][]*\]\([^()]*\)/g, '')
    .replace(/\[([^\][]*)\]\([^()]*\)/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s*/gm, '')
    .replace(/^\s{0,3}>\s?/gm, '')
    .replace(/^\s*[-*+]\s+/gm, '')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^\s*\|?\s*:?-{3,}.*$/gm, '')
    .replace(/^\s*---+\s*$/gm, '');
}

async function extractPdf(path: string, bytes: Uint8Array): Promise<ExtractedFile> {
  // Loaded only for PDFs: pdf.js is a large module the other formats never need.
  const { extractText, getDocumentProxy, getMeta } = await import('unpdf');
  try {
    // pdf.js takes ownership of the buffer it is given, so pass a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    const { text } = await extractText(pdf, { mergePages: false });
    const pages = Array.isArray(text) ? text : [text];
    const meta: ExtractedFile['meta'] = {};
    try {
      const { info } = await getMeta(pdf);
      const i = info as Record<string, unknown>;
      if (typeof i.Title === 'string' && i.Title.trim()) meta.title = i.Title.trim();
      if (typeof i.Author === 'string' && i.Author.trim()) meta.author = i.Author.trim();
      const d = typeof i.ModDate === 'string' ? i.ModDate : typeof i.CreationDate === 'string' ? i.CreationDate : undefined;
      const m = d ? /(\d{4})(\d{2})(\d{2})/.exec(d) : null;
      if (m) meta.date = `${m[1]}-${m[2]}-${m[3]}`;
    } catch {
      // Metadata is optional.
    }
    await pdf.destroy();
    const joined = pages.join('\n');
    if (joined.trim().length === 0) throw new UnreadableFileError(path, 'PDF 中没有可提取的文字（可能是扫描件，需要先做文字识别）');
    return { text: joined, format: 'pdf', meta };
  } catch (e) {
    if (e instanceof UnreadableFileError) throw e;
    throw new UnreadableFileError(path, 'PDF 文件已损坏或无法解析', e);
  }
}
