import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import JSZip from 'jszip';
import { afterAll, describe, expect, it } from 'vitest';
import { runTs } from '../helpers/spawn.js';
import { scaled } from '../helpers/time-scale.js';
import { tempDir } from './helpers.js';

/**
 * `kb ingest` as an operator runs it (issue 15): the zip bomb and the oversized text that
 * used to take gigabytes are refused by name, with the limit, exit code 1, and the good file
 * next to them is indexed. Files are generated here; the limits are lowered through the
 * operator's variables so the test writes megabytes, not hundreds of them.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function bombDocx(mb: number): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>');
  const para = `<w:p><w:r><w:t>${'村'.repeat(4000)}</w:t></w:r></w:p>`;
  zip.file('word/document.xml', `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${para.repeat(Math.ceil((mb * 1048576) / 12000))}</w:body></w:document>`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

describe('kb ingest on bad input (spawned CLI)', () => {
  it('refuses the bomb and the huge text by name and limit, indexes the rest, exits 1', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, '炸弹.docx'), await bombDocx(30));
    const big = createWriteStream(join(docs, '大文件.txt'));
    for (let i = 0; i < 40_000; i++) if (!big.write(`第${i + 1}条 选举工作须公开透明，接受村民监督。\n`)) await new Promise<void>((r) => big.once('drain', () => r()));
    big.end();
    await finished(big);
    writeFileSync(join(docs, '值班.txt'), '标题：值班规定\n\n第一条 换届期间每天安排两名干部值班。\n第二条 值班电话向村民公开。\n第三条 值班记录保存三年。\n');

    const env = { DATA_DIR: join(dir, 'data'), KNOWLEDGE_DIR: join(dir, 'none'), KB_MAX_TEXT_MB: '1', KB_MAX_UNZIPPED_MB: '10', LOG_LEVEL: 'error' };
    const r = await runTs('src/cli/main.ts', ['kb', 'ingest', docs], { env, timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/新增 1，更新 0，未变跳过 0，失败 2/);
    expect(r.stderr).toMatch(/文件「炸弹\.docx」解压后（30 MB）超过上限 10 MB，疑似“压缩炸弹”.*KB_MAX_UNZIPPED_MB/);
    expect(r.stderr).toMatch(/文件「大文件\.txt」的正文（2\.\d MB）超过上限 1 MB.*KB_MAX_TEXT_MB/);
    expect(r.stderr).not.toMatch(/at |Error:|RangeError/);

    const stats = await runTs('src/cli/main.ts', ['kb', 'stats', '--json'], { env, timeoutMs: 180_000 });
    // The bundled 换届工作指引 may be there too (every kb command loads the same library).
    const names = (JSON.parse(stats.stdout) as { byDocument: { name: string }[] }).byDocument.map((d) => d.name);
    expect(names).toContain('值班.txt');
    expect(names).not.toContain('炸弹.docx');
    expect(names).not.toContain('大文件.txt');
  }, scaled(400_000));
});
