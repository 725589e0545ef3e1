import ExcelJS from 'exceljs';
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../src/bot/envelope.js';
import { ManualClock } from '../../../src/clock.js';
import { registerDigest } from '../../../src/workflow/digest/register.js';
import { registerWorkflow } from '../../../src/workflow/register.js';
import { DemoHost } from '../../../src/web/demo.js';
import { registerExportRoute } from '../../../src/web/export-route.js';
import { messageEvent } from '../../helpers/events.js';
import { FakeLark } from '../../helpers/fake-lark.js';
import { startTestRuntime, type TestEnv } from '../../helpers/test-runtime.js';
import { EXPORT_NOW, exportWorld, type ExportWorld } from './export-world.js';

/**
 * 导出 as people get it: in Lark, the workbook is uploaded through
 * im/v1/files and sent to the leader as a `file` message (real SDK, fake
 * Lark; a recording front door keeps the uploaded bytes); in the trial
 * console, GET /console/api/export?as=… downloads the same workbook.
 */

/** Forwards everything to the fake Lark and keeps the bodies of file uploads. */
class UploadRecorder {
  url = '';
  readonly uploads: { contentType: string; body: Buffer }[] = [];
  private readonly server: Server;
  constructor(target: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'POST' && req.url?.startsWith('/open-apis/im/v1/files')) this.uploads.push({ contentType: String(req.headers['content-type']), body });
        const to = new URL(req.url ?? '/', target);
        const up = httpRequest(to, { method: req.method, headers: { ...req.headers, host: to.host } }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.writeHead(502).end());
        up.end(body);
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A multipart/form-data field: its headers and bytes. */
function part(u: { contentType: string; body: Buffer }, name: string): { head: string; data: Buffer } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(u.contentType)!;
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = u.body.indexOf(sep);
  while (at >= 0) {
    const next = u.body.indexOf(sep, at + sep.length);
    const chunk = u.body.subarray(at + sep.length, next < 0 ? u.body.length : next);
    const split = chunk.indexOf('\r\n\r\n');
    const head = chunk.subarray(0, split).toString('utf8');
    if (head.includes(`name="${name}"`)) return { head, data: chunk.subarray(split + 4, chunk.length - 2) };
    at = next;
  }
  throw new Error(`no part ${name}`);
}

async function title(bytes: Buffer, sheet = '进度一览'): Promise<unknown> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb.getWorksheet(sheet)?.getCell('A1').value;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function world(opts: { online: boolean }): Promise<{ t: TestEnv; w: ExportWorld; fake?: FakeLark; rec?: UploadRecorder }> {
  const fake = opts.online ? await FakeLark.start() : undefined;
  const rec = fake ? await new UploadRecorder(fake.url).start() : undefined;
  const t = await startTestRuntime({ clock: new ManualClock(EXPORT_NOW), fake, env: rec ? { LARK_DOMAIN: rec.url } : {} });
  cleanup.push(async () => {
    await t.close({ remove: true });
    await rec?.close();
    await fake?.close();
  });
  registerWorkflow(t.rt);
  registerDigest(t.rt);
  const w = exportWorld({ db: t.rt.db, dir: t.dir });
  return { t, w, fake, rec };
}

describe('导出 in Lark', () => {
  it('uploads the printable workbook with im/v1/files and sends it to the leader as a file message', async () => {
    const { t, w, fake, rec } = await world({ online: true });
    const leader = w.campaign.ids.countyLeader;
    const p = parseEnvelope(messageEvent({ text: '导出', openId: leader, token: t.rt.config.lark.verificationToken }));
    if (!p.ok) throw new Error(p.reason);
    await t.rt.intake.receive(p.envelope);
    await t.rt.intake.idle();
    await t.rt.idle();

    expect(rec!.uploads).toHaveLength(1);
    const u = rec!.uploads[0]!;
    expect(part(u, 'file_type').data.toString()).toBe('xls');
    expect(part(u, 'file_name').data.toString()).toBe('换届进度_沁源县_2026-11-20.xlsx');
    const file = part(u, 'file').data;
    expect(await title(file)).toBe('沁源县村(社区)“两委”换届工作进度表');

    const sent = fake!.sent.filter((m) => m.msg_type === 'file');
    expect(sent.map((m) => [m.receive_id, m.content])).toEqual([[leader, { file_key: 'file_v3_fake_1' }]]);
    expect(fake!.texts().join('\n')).toMatch(/已生成「换届进度_沁源县_2026-11-20\.xlsx」（沁源县，截至 2026-11-20），文件已私信发送给您/);
  });
});

describe('GET /console/api/export', () => {
  async function app(t: TestEnv): Promise<FastifyInstance> {
    const a = Fastify();
    const demo = new DemoHost(t.rt);
    registerExportRoute(a, { rt: t.rt, demo });
    await a.ready();
    cleanup.push(async () => {
      await a.close();
      await demo.stop();
    });
    return a;
  }

  it('downloads the selected leader’s workbook; refuses a cadre and an unknown person in Chinese', async () => {
    const { t, w } = await world({ online: false });
    const a = await app(t);
    const r = await a.inject({ method: 'GET', url: `/console/api/export?as=${w.campaign.ids.townshipLeaders[1]}` });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="export.xlsx"; filename*=UTF-8''${encodeURIComponent('换届进度_郭道镇_2026-11-20.xlsx')}`);
    expect(await title(r.rawPayload)).toBe('沁源县郭道镇村(社区)“两委”换届工作进度表');

    const cadre = await a.inject({ method: 'GET', url: `/console/api/export?as=${w.campaign.ids.cadres[0]![0]}` });
    expect(cadre.statusCode).toBe(403);
    expect(cadre.json().message).toMatch(/仅供领导（县级或乡镇级）和换届办管理员使用/);
    expect((await a.inject({ method: 'GET', url: '/console/api/export?as=ou_nobody' })).json()).toEqual({ error: 'unknown_person', message: '花名册中没有这个人。' });
    expect((await a.inject({ method: 'GET', url: '/console/api/export' })).statusCode).toBe(400);
  });

  it('before any roster is imported: the demo county’s workbook', async () => {
    const t = await startTestRuntime({ clock: new ManualClock(EXPORT_NOW) });
    cleanup.push(() => t.close({ remove: true }));
    const a = await app(t);
    const r = await a.inject({ method: 'GET', url: '/console/api/export?as=ou_demo_county_leader' });
    expect(r.statusCode).toBe(200);
    expect(await title(r.rawPayload)).toBe('演示县村(社区)“两委”换届工作进度表');
    expect(await title(r.rawPayload, '乡镇排名')).toBe('演示县各乡镇村(社区)“两委”换届工作进度排名');
  });

  it('with sign-in: only the signed-in person’s own workbook', async () => {
    const { t, w } = await world({ online: false });
    const a = Fastify();
    registerExportRoute(a, { rt: t.rt, demo: new DemoHost(t.rt), who: (req) => (req as { headers: Record<string, string> }).headers['x-test-user'] });
    cleanup.push(() => a.close());
    const leader = w.campaign.ids.countyLeader;
    expect((await a.inject({ method: 'GET', url: `/console/api/export?as=${leader}` })).statusCode).toBe(401);
    expect((await a.inject({ method: 'GET', url: `/console/api/export?as=${leader}`, headers: { 'x-test-user': 'ou_leader_t0' } })).statusCode).toBe(403);
    expect((await a.inject({ method: 'GET', url: `/console/api/export?as=${leader}`, headers: { 'x-test-user': leader } })).statusCode).toBe(200);
  });
});
