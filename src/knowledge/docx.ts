import { StringDecoder } from 'node:string_decoder';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { entryDataStart, readZipDirectory, ZipShapeError, type ZipEntry } from '../workflow/import/zip-directory.js';
import { CFB_MAGIC } from '../workflow/import/xlsx-guard.js';
import { decodeEntities } from './html.js';
import { IngestLimitError, type IngestLimits } from './ingest-limits.js';
import { UnreadableFileError } from './unreadable.js';

/**
 * .docx → text without a DOM, in bounded memory. mammoth builds the whole document
 * tree (about 20× the XML: 430 MB RSS for a 20 MB document.xml) and inflates whatever
 * the zip holds; here the zip's directory is checked first (encryption, entry count,
 * declared sizes and ratios), then only the main document part is inflated, as a
 * stream that stops at KB_MAX_UNZIPPED_MB, and scanned for paragraph text as it comes.
 * Text Word does not show is not read: runs marked hidden (w:vanish), deleted text,
 * field codes, and the fallback copy of drawings (mc:Fallback).
 */

const MAX_ENTRIES = 5000;
/** Deflate tops out near 1032:1; real XML parts are 5–50:1. Judged on parts over 1 MB only. */
export const MAX_RATIO = 300;
const RATIO_FLOOR = 1024 * 1024;
/** A single tag longer than this is not Word's XML. */
const MAX_TAG = 1024 * 1024;
const META_CAP = 1024 * 1024;

export interface DocxText {
  text: string;
  meta: { title?: string; author?: string; date?: string };
}

const isXmlPart = (name: string) => /\.(xml|rels)$/i.test(name);

export async function extractDocxText(path: string, bytes: Buffer, limits: IngestLimits): Promise<DocxText> {
  const notDocx = () => new UnreadableFileError(path, 'Word 文档已损坏或不是 .docx 格式');
  if (bytes.subarray(0, 8).equals(CFB_MAGIC)) {
    throw new UnreadableFileError(path, '这是设置了打开密码的 Word 文档，或旧版 .doc 文件（扩展名被改成了 .docx）；请去掉密码或在 Word 中另存为 .docx 后再导入');
  }
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) throw notDocx();
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(bytes, MAX_ENTRIES);
  } catch (e) {
    if (e instanceof ZipShapeError && e.kind === 'too_many') throw new IngestLimitError(path, 'entries', MAX_ENTRIES, e.count);
    if (e instanceof ZipShapeError) throw new UnreadableFileError(path, 'Word 文档不完整或已损坏（可能没有传完）', e);
    throw e;
  }
  // The declared sizes first: cheap, and a bomb usually says what it is.
  let declared = 0;
  for (const e of entries) {
    if (e.flags & 1) throw new UnreadableFileError(path, 'Word 文档的压缩包设置了密码');
    if (e.csize === 0xffffffff || e.usize === 0xffffffff) throw new IngestLimitError(path, 'zip64', limits.maxUnzippedBytes);
    if (!isXmlPart(e.name)) continue;
    declared += e.usize;
    if (declared > limits.maxUnzippedBytes) throw new IngestLimitError(path, 'unzipped', limits.maxUnzippedBytes, declared);
    if (e.usize > RATIO_FLOOR && e.usize / Math.max(1, e.csize) > MAX_RATIO) throw new IngestLimitError(path, 'ratio', MAX_RATIO, e.usize / Math.max(1, e.csize));
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  if (!byName.has('[Content_Types].xml')) throw notDocx();

  // The real sizes: every byte inflated counts against one budget, whatever the directory said.
  const budget = { left: limits.maxUnzippedBytes };
  const small = (e: ZipEntry | undefined): string | undefined => {
    if (!e) return undefined;
    const data = entryData(path, bytes, e);
    if (e.method === 0) return data.toString('utf8');
    if (e.method !== 8) return undefined;
    const cap = Math.min(META_CAP, budget.left);
    try {
      const out = inflateRawSync(data, { maxOutputLength: cap });
      budget.left -= out.length;
      return out.toString('utf8');
    } catch {
      return undefined; // metadata and relationships are optional; an oversized one is ignored
    }
  };
  const main = mainPartName(small(byName.get('_rels/.rels')));
  const doc = byName.get(main) ?? byName.get('word/document.xml');
  if (!doc) throw notDocx();
  const scanner = new DocxScanner(path, limits.maxTextBytes);
  await inflateInto(path, bytes, doc, budget, limits.maxUnzippedBytes, (s) => scanner.feed(s));
  const text = scanner.finish();

  const meta: DocxText['meta'] = {};
  const core = small(byName.get('docProps/core.xml'));
  if (core) {
    // Core properties hold the title, author and dates the author's Word set.
    const pick = (tag: string) => {
      const v = new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`).exec(core)?.[1];
      return v ? decodeEntities(v).trim() || undefined : undefined;
    };
    meta.title = pick('dc:title');
    meta.author = pick('dc:creator');
    meta.date = pick('dcterms:modified') ?? pick('dcterms:created');
  }
  return { text, meta };
}

function entryData(path: string, bytes: Buffer, e: ZipEntry): Buffer {
  const start = entryDataStart(bytes, e);
  if (start === null || start + e.csize > bytes.length) throw new UnreadableFileError(path, 'Word 文档不完整或已损坏（可能没有传完）');
  return bytes.subarray(start, start + e.csize);
}

/** The officeDocument relationship's target (usually word/document.xml). */
function mainPartName(rels: string | undefined): string {
  const m = rels && /<Relationship\b[^>]*Type="[^"]*\/officeDocument"[^>]*>/i.exec(rels);
  const target = m ? /Target="([^"]+)"/.exec(m[0])?.[1] : undefined;
  return target ? target.replace(/^\//, '') : 'word/document.xml';
}

/** Inflates one entry as a stream into `sink`, stopping as soon as the budget is spent. */
async function inflateInto(
  path: string,
  bytes: Buffer,
  e: ZipEntry,
  budget: { left: number },
  limit: number,
  sink: (s: string) => void,
): Promise<void> {
  const data = entryData(path, bytes, e);
  const decoder = new StringDecoder('utf8');
  if (e.method === 0) {
    if (data.length > budget.left) throw new IngestLimitError(path, 'unzipped', limit);
    budget.left -= data.length;
    for (let i = 0; i < data.length; i += 65536) sink(decoder.write(data.subarray(i, i + 65536)));
    sink(decoder.end());
    return;
  }
  if (e.method !== 8) throw new UnreadableFileError(path, 'Word 文档使用了不支持的压缩方式');
  const inflater = createInflateRaw();
  // Fed in pieces so that backpressure holds: nothing is inflated ahead of the scanner.
  const feed = async () => {
    for (let i = 0; i < data.length; i += 65536) {
      if (inflater.destroyed) return;
      if (!inflater.write(data.subarray(i, i + 65536))) await new Promise<void>((r) => inflater.once('drain', r));
    }
    inflater.end();
  };
  const fed = feed().catch(() => undefined);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      budget.left -= chunk.length;
      if (budget.left < 0) throw new IngestLimitError(path, 'unzipped', limit);
      sink(decoder.write(chunk));
    }
  } catch (err) {
    inflater.destroy();
    if (err instanceof IngestLimitError || err instanceof UnreadableFileError) throw err;
    throw new UnreadableFileError(path, 'Word 文档已损坏（压缩数据无法解开）', err);
  }
  await fed;
  sink(decoder.end());
}

/**
 * An incremental scanner over WordprocessingML: paragraph text from <w:t>, tabs and
 * breaks inside runs, each paragraph followed by a blank line (as mammoth's raw text).
 */
class DocxScanner {
  private buf = '';
  private readonly out: string[] = [];
  private outBytes = 0;
  private para = '';
  private inText = false;
  /** One entry per open <w:r>: whether the run is hidden. */
  private readonly runs: boolean[] = [];
  private fallback = 0;

  constructor(
    private readonly path: string,
    private readonly maxTextBytes: number,
  ) {}

  feed(s: string): void {
    if (!s) return;
    this.buf += s;
    let i = 0;
    const b = this.buf;
    for (;;) {
      const lt = b.indexOf('<', i);
      if (lt < 0) {
        // Text with no tag after it yet: take what cannot end in a cut entity.
        const amp = b.lastIndexOf('&');
        const end = amp >= i && b.indexOf(';', amp) < 0 ? amp : b.length;
        this.text(b.slice(i, end));
        i = end;
        break;
      }
      if (lt > i) this.text(b.slice(i, lt));
      if (b.startsWith('<!--', lt)) {
        const close = b.indexOf('-->', lt + 4);
        if (close < 0) {
          i = lt;
          break;
        }
        i = close + 3;
        continue;
      }
      const gt = b.indexOf('>', lt);
      if (gt < 0) {
        i = lt;
        break;
      }
      this.tag(b.slice(lt, gt + 1));
      i = gt + 1;
    }
    this.buf = b.slice(i);
    if (this.buf.length > MAX_TAG) throw new UnreadableFileError(this.path, 'Word 文档的内容结构异常');
  }

  finish(): string {
    if (this.para) this.flush();
    return this.out.join('');
  }

  private text(s: string): void {
    if (!this.inText || this.fallback > 0 || this.hidden() || !s) return;
    this.para += decodeEntities(s);
    if (this.para.length > 65536) this.flushPart();
  }

  private hidden(): boolean {
    return this.runs.length > 0 && this.runs[this.runs.length - 1]!;
  }

  private tag(t: string): void {
    const m = /^<(\/?)([A-Za-z_][\w:.-]*)/.exec(t);
    if (!m) return;
    const closing = m[1] === '/';
    const name = m[2]!;
    const selfClosing = t.endsWith('/>');
    if (name === 'mc:Fallback') {
      if (closing) this.fallback = Math.max(0, this.fallback - 1);
      else if (!selfClosing) this.fallback++;
      return;
    }
    if (this.fallback > 0) return;
    switch (name) {
      case 'w:p':
        if (closing || selfClosing) this.flush();
        return;
      case 'w:r':
        if (closing) this.runs.pop();
        else if (!selfClosing) this.runs.push(false);
        return;
      case 'w:vanish':
        // Run properties come before the run's text; w:val="0"/"false" switches hiding off.
        if (!closing && this.runs.length > 0 && !/w:val="(0|false|off)"/.test(t)) this.runs[this.runs.length - 1] = true;
        return;
      case 'w:t':
        this.inText = !closing && !selfClosing;
        return;
      case 'w:tab':
        if (this.runs.length > 0 && !this.hidden()) this.para += '\t';
        return;
      case 'w:br':
      case 'w:cr':
        if (this.runs.length > 0 && !this.hidden()) this.para += '\n';
        return;
    }
  }

  /** A long paragraph is written out in parts, so nothing grows without bound. */
  private flushPart(): void {
    this.push(this.para);
    this.para = '';
  }

  private flush(): void {
    this.push(this.para + '\n\n');
    this.para = '';
  }

  private push(s: string): void {
    this.outBytes += Buffer.byteLength(s);
    if (this.outBytes > this.maxTextBytes) throw new IngestLimitError(this.path, 'text', this.maxTextBytes);
    this.out.push(s);
  }
}
