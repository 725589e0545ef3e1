import { extname, basename } from 'node:path';
import mammoth from 'mammoth';
import JSZip from 'jszip';
import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { AppError } from '../errors.js';
import { decodeText, looksLikeText } from './decode.js';
import { htmlToText, htmlTitle } from './html.js';

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

/** A file that could not be read; the message names it, in Chinese, for the admin. */
export class UnreadableFileError extends AppError {
  constructor(public readonly file: string, reason: string, cause?: unknown) {
    super('validation', `无法读取文件「${basename(file)}」：${reason}。索引未作改动。`, { cause, detail: `${file}: ${reason}` });
    this.name = 'UnreadableFileError';
  }
}

export async function extractFile(path: string, bytes: Uint8Array): Promise<ExtractedFile> {
  const format = formatOf(path);
  if (!format) throw new UnreadableFileError(path, '不支持的文件类型（支持 .txt .md .html .docx .pdf）');
  switch (format) {
    case 'txt':
    case 'md': {
      const { text, encoding } = decodeText(bytes);
      if (!looksLikeText(text)) throw new UnreadableFileError(path, '内容不是可识别的文本（可能是二进制文件或编码无法识别）');
      return { text: format === 'md' ? markdownToText(text) : text, format, meta: {}, encoding };
    }
    case 'html': {
      const { text: html, encoding } = decodeHtml(bytes);
      return { text: htmlToText(html), format, meta: { title: htmlTitle(html) }, encoding };
    }
    case 'docx':
      return extractDocx(path, bytes);
    case 'pdf':
      return extractPdf(path, bytes);
  }
}

/** Valid UTF-8 is UTF-8, anything else GB18030 — the same rule as .txt, whatever the page's meta tag claims. */
function decodeHtml(bytes: Uint8Array): { text: string; encoding: string } {
  return decodeText(bytes);
}

/** Markdown → text: keep headings and list text, drop markup that would pollute tokens. */
export function markdownToText(md: string): string {
  return md
    .replace(/```[\s\S]*?```/g, '')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s*/gm, '')
    .replace(/^\s{0,3}>\s?/gm, '')
    .replace(/^\s*[-*+]\s+/gm, '')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^\s*\|?\s*:?-{3,}.*$/gm, '')
    .replace(/^\s*---+\s*$/gm, '');
}

async function extractDocx(path: string, bytes: Uint8Array): Promise<ExtractedFile> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text: string;
  try {
    text = (await mammoth.extractRawText({ buffer })).value;
  } catch (e) {
    throw new UnreadableFileError(path, 'Word 文档已损坏或不是 .docx 格式', e);
  }
  const meta: ExtractedFile['meta'] = {};
  try {
    // Core properties (docProps/core.xml) hold the title, author and dates the author's Word set.
    const zip = await JSZip.loadAsync(buffer);
    const core = await zip.file('docProps/core.xml')?.async('string');
    if (core) {
      const pick = (tag: string) => new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`).exec(core)?.[1]?.trim() || undefined;
      meta.title = pick('dc:title');
      meta.author = pick('dc:creator');
      meta.date = pick('dcterms:modified') ?? pick('dcterms:created');
    }
  } catch {
    // Metadata is optional; the text was read.
  }
  return { text, format: 'docx', meta };
}

async function extractPdf(path: string, bytes: Uint8Array): Promise<ExtractedFile> {
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
