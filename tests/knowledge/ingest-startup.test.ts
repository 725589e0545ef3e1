import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import JSZip from 'jszip';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { Runtime } from '../../src/runtime.js';
import { storeEnv } from '../helpers/store.js';
import { tempDir, waitFor } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';

/**
 * Issue 15: a bad file in KNOWLEDGE_DIR never blocks start-up. The runtime is built the way
 * src/server.ts builds it (indexing in the background), on a real SQLite file.
 */
interface Started {
  rt: Runtime;
  app: FastifyInstance;
  close(): Promise<void>;
}

async function startService(dir: string, env: Record<string, string> = {}): Promise<Started> {
  const config = loadConfig({ DATA_DIR: dir, ...storeEnv(dir), KNOWLEDGE_DIR: join(dir, 'knowledge'), LOG_LEVEL: 'warn', ...env });
  const logger = createLogger(config, new Writable({ write: (_c, _e, cb) => cb() }));
  const rt = new Runtime({ config, logger, noServices: true, ingestAtStart: true, indexInBackground: true });
  const app = await buildApp(rt);
  await app.ready();
  await rt.start();
  return {
    rt,
    app,
    async close() {
      await app.close();
      await rt.stop({ flushMs: 0 });
    },
  };
}

async function bombDocx(mb: number): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>');
  const para = `<w:p><w:r><w:t>${'村'.repeat(4000)}</w:t></w:r></w:p>`;
  zip.file('word/document.xml', `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${para.repeat(Math.ceil((mb * 1048576) / 12000))}</w:body></w:document>`);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

const rule = (n: number, what: string) =>
  `标题：青禾县换届${what}规定\n\n第一条 ${what}工作由乡镇换届办统一安排，第${n}组负责。\n第二条 ${what}结果须当场公布。\n第三条 ${what}记录保存三年。\n`;

type Readyz = { status: string; checks: Record<string, boolean>; indexing: { pending: string[]; pendingCount: number; failed: { file: string; reason: string }[] } };

describe('indexing at start (issue 15)', () => {
  const dirs: string[] = [];
  let svc: Started | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('listens and becomes ready while KNOWLEDGE_DIR is indexed; a zip bomb is listed as failed, the rest indexed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const kd = join(dir, 'knowledge');
    mkdirSync(kd);
    writeFileSync(join(kd, 'a-bomb.docx'), await bombDocx(12));
    writeFileSync(join(kd, 'b-计票.txt'), rule(1, '计票'));
    writeFileSync(join(kd, 'c-值班.txt'), rule(2, '值班'));
    writeFileSync(join(kd, 'd-公示.txt'), rule(3, '公示'));
    svc = await startService(dir, { KB_MAX_UNZIPPED_MB: '5' });
    // start() returned before the folder was done: files are indexed one per event-loop turn.
    expect(svc.rt.knowledge.stats().documents).toBeLessThan(4);

    await waitFor(() => svc!.rt.isReady() && svc!.rt.knowledge.indexing().pendingCount === 0, 60_000, 'indexing to finish');
    const r = await svc.app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    const body = r.json() as Readyz;
    expect(body.status).toBe('ready');
    expect(body.checks.library).toBe(true);
    expect(body.indexing.pending).toEqual([]);
    expect(body.indexing.failed).toEqual([{ file: 'a-bomb.docx', reason: expect.stringMatching(/^文件「a-bomb\.docx」解压后（12 MB）超过上限 5 MB/) }]);
    // No server path is shown on this unauthenticated route.
    expect(JSON.stringify(body)).not.toContain(dir);
    const names = svc.rt.knowledge.stats().byDocument.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['b-计票.txt', 'c-值班.txt', 'd-公示.txt']));
    expect((await svc.rt.knowledge.ask('值班记录保存几年')).citations[0]?.doc).toBe('c-值班.txt');
  }, scaled(120_000));

  it('keeps what was indexed when a file turns bad before a restart, and lists the failure', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const kd = join(dir, 'knowledge');
    mkdirSync(kd);
    const f = join(kd, '值班.txt');
    writeFileSync(f, rule(2, '值班'));
    svc = await startService(dir);
    await svc.rt.indexed();
    expect((await svc.rt.knowledge.ask('值班记录保存几年')).citations[0]?.doc).toBe('值班.txt');
    await svc.close();

    // The same file, now over the text limit.
    writeFileSync(f, rule(2, '值班') + '补充说明。'.repeat(120_000));
    svc = await startService(dir, { KB_MAX_TEXT_MB: '1' });
    await svc.rt.indexed();
    const body = (await svc.app.inject('/readyz')).json() as Readyz;
    expect(body.status).toBe('ready');
    expect(body.indexing.failed).toEqual([{ file: '值班.txt', reason: expect.stringMatching(/^文件「值班\.txt」的正文（1\.7 MB）超过上限 1 MB/) }]);
    const a = await svc.rt.knowledge.ask('值班记录保存几年');
    expect(a.citations[0]?.doc).toBe('值班.txt');
    expect(a.answer).toContain('三年');
  }, scaled(120_000));

  it('stops between two files when the service stops during indexing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const kd = join(dir, 'knowledge');
    mkdirSync(kd);
    for (let i = 0; i < 6; i++) writeFileSync(join(kd, `r${i}.txt`), rule(i, `事项${'甲乙丙丁戊己'[i]}`));
    svc = await startService(dir);
    const s = svc;
    svc = undefined;
    // Stopping closes the database: it must wait for the file being indexed, never write after.
    await s.close();
    await s.rt.indexed();
  }, scaled(120_000));
});
