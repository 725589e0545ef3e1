import { mkdtempSync, cpSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSZip from 'jszip';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openDb, type Db } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { ManualClock } from '../../src/clock.js';
import { createKnowledgeService, type KnowledgeDeps } from '../../src/knowledge/service.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/knowledge');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kb-test-'));
}

/** A temp folder holding copies of the named fixtures (tests may then change them). */
export function fixtureFolder(names: string[]): string {
  const dir = tempDir();
  for (const n of names) cpSync(join(FIXTURES, n), join(dir, n));
  return dir;
}

export function freshDb(): { db: Db; dir: string; cleanup: () => void } {
  const dir = tempDir();
  const db = openTestDb(join(dir, 'kb.db'));
  return { db, dir, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: tempDir(), KNOWLEDGE_DIR: tempDir(), ...env });
}

export const silentLogger = createLogger({ logLevel: 'silent' });

export function makeService(db: Db, extra: Partial<KnowledgeDeps> & { env?: Record<string, string> } = {}) {
  const clock = new ManualClock(Date.parse('2025-11-01T08:00:00+08:00'));
  const svc = createKnowledgeService({ db, config: testConfig(extra.env), logger: silentLogger, clock, ...extra });
  return { svc, clock };
}

/** A minimal .docx (a zip of three XML parts), with optional core properties. */
export async function buildDocx(paragraphs: string[], core: { title?: string; creator?: string; modified?: string } = {}): Promise<Buffer> {
  const zip = new JSZip();
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  zip.file(
    '[Content_Types].xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`,
  );
  zip.file(
    '_rels/.rels',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`,
  );
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraphs
      .map((p) => `<w:p><w:r><w:t xml:space="preserve">${esc(p)}</w:t></w:r></w:p>`)
      .join('')}</w:body></w:document>`,
  );
  zip.file(
    'docProps/core.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${
      core.title ? `<dc:title>${esc(core.title)}</dc:title>` : ''
    }${core.creator ? `<dc:creator>${esc(core.creator)}</dc:creator>` : ''}${
      core.modified ? `<dcterms:modified xsi:type="dcterms:W3CDTF">${core.modified}</dcterms:modified>` : ''
    }</cp:coreProperties>`,
  );
  return zip.generateAsync({ type: 'nodebuffer' });
}

/**
 * A one-page PDF whose text is CJK in a Type0 / Identity-H font: each character's CID
 * is its code point, and a ToUnicode CMap maps it back, which is what text extraction reads.
 */
export function buildPdf(lines: string[], info: { title?: string } = {}): Buffer {
  const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const used = [...new Set(lines.join('').split(''))].map((c) => c.charCodeAt(0)).sort((a, b) => a - b);
  const content =
    'BT /F1 12 Tf 50 800 Td 14 TL\n' + lines.map((l) => `<${Array.from(l).map((c) => hex4(c.charCodeAt(0))).join('')}> Tj T*`).join('\n') + '\nET';
  const bf: string[] = [];
  for (let i = 0; i < used.length; i += 100) {
    const block = used.slice(i, i + 100);
    bf.push(`${block.length} beginbfchar\n${block.map((c) => `<${hex4(c)}> <${hex4(c)}>`).join('\n')}\nendbfchar`);
  }
  const cmap = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
${bf.join('\n')}
endcmap CMapName currentdict /CMap defineresource pop end end`;
  const utf16 = (s: string) => '<FEFF' + Array.from(s).map((c) => hex4(c.charCodeAt(0))).join('') + '>';
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type0 /BaseFont /TestSong /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>',
    '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSong /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 1000 /CIDToGIDMap /Identity >>',
    `<< /Length ${Buffer.byteLength(cmap)} >>\nstream\n${cmap}\nendstream`,
    '<< /Type /FontDescriptor /FontName /TestSong /Flags 4 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>',
    `<< ${info.title ? `/Title ${utf16(info.title)} ` : ''}/CreationDate (D:20240510120000+08'00') >>`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(pdf));
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf);
  pdf += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Info 9 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

export type FakeHandler = (path: string, body: Record<string, unknown>, res: ServerResponse) => void | Promise<void>;

/** An OpenAI-compatible server on 127.0.0.1 for the chat and embeddings paths. */
export async function startFakeOpenAi(handler: FakeHandler): Promise<{ baseUrl: string; requests: { path: string; body: Record<string, unknown> }[]; close: () => Promise<void> }> {
  const requests: { path: string; body: Record<string, unknown> }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', async () => {
      const body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
      requests.push({ path: req.url ?? '', body });
      await handler(req.url ?? '', body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function chatCompletion(content: string): Record<string, unknown> {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1,
    model: 'fake',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
