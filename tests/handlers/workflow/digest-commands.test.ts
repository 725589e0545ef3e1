import ExcelJS from 'exceljs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderMessageText } from '../../../src/bot/card-text.js';
import { localTextMessage } from '../../../src/bot/local-event.js';
import { parseEnvelope } from '../../../src/bot/envelope.js';
import { messageEvent } from '../../helpers/events.js';
import { ManualClock } from '../../../src/clock.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../../src/store/workflow-repos.js';
import { recordStage } from '../../../src/workflow/checkin.js';
import { registerDigest } from '../../../src/workflow/digest/register.js';
import { findStage } from '../../../src/workflow/lookup.js';
import { registerWorkflow } from '../../../src/workflow/register.js';
import { FakeLark } from '../../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign, type Campaign } from '../../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../../helpers/test-runtime.js';

/**
 * 日报 / 逾期 / 导出 through the real intake and router, on the issue-5
 * campaign (沁河镇 14, 郭道镇 13, 灵空山镇 13 villages). Today is 2026-11-05
 * (Thursday); the election is on 2026-11-28.
 */
const NOW = Date.parse('2026-11-05T02:00:00Z');

interface H {
  t: TestEnv;
  repos: WorkflowRepos;
  c: Campaign;
  fake?: FakeLark;
  say(openId: string, text: string): Promise<{ replies: string[]; raw: { msg_type: string; content: string }[] }>;
  audits(action: string): { actor: string; target: string | null; detail: string | null }[];
  close(): Promise<void>;
}

let h: H | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(opts: { online?: boolean } = {}): Promise<H> {
  const fake = opts.online ? await FakeLark.start() : undefined;
  const clock = new ManualClock(NOW);
  const t = await startTestRuntime({ clock, fake });
  registerWorkflow(t.rt);
  registerDigest(t.rt);
  const repos = createWorkflowRepos(t.rt.db, t.rt.repos.audit);
  const c = sampleCampaign({ townships: 3, villagesPerTownship: [14, 13, 13], extraCadres: 12 });
  seedCampaign(repos, c);
  const ctx = { repos, tz: t.rt.config.tz, clock };
  const v = repos.roster.villages().find((x) => x.township === '沁河镇' && x.name === '城东村')!;
  clock.set(Date.parse('2026-11-04T02:00:00Z'));
  recordStage(ctx, { sourceId: 's1', actor: c.ids.cadres[0]![1]!, actorName: 'x', village: v, stage: findStage(v.type, '审计'), status: '已完成' });
  clock.set(NOW);
  return {
    t,
    repos,
    c,
    fake,
    async say(openId, text) {
      // Online: a real Lark message event (a local one keeps every reply local); offline: a local session.
      const env = fake
        ? (() => {
            const p = parseEnvelope(messageEvent({ text, openId, token: t.rt.config.lark.verificationToken }));
            if (!p.ok) throw new Error(p.reason);
            return p.envelope;
          })()
        : localTextMessage({ openId, session: `test-${openId}`, text, token: t.rt.config.lark.verificationToken });
      const before = t.rt.repos.outbox.maxId();
      await t.rt.intake.receive(env);
      await t.rt.intake.idle();
      const rows = t.rt.repos.outbox.listSince(before);
      return {
        replies: rows.filter((r) => r.intent.startsWith(`reply:${env.messageId}:`)).map((r) => renderMessageText(r.msg_type, r.content)),
        raw: rows.map((r) => ({ msg_type: r.msg_type, content: r.content })),
      };
    },
    audits(action) {
      return t.rt.db.prepare(`SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY id`).all(action) as { actor: string; target: string | null; detail: string | null }[];
    },
    async close() {
      await t.close({ remove: true });
      await fake?.close();
    },
  };
}

describe('日报', () => {
  it('gives a county leader the digest card on demand (offline: no picture)', async () => {
    h = await harness();
    const { replies } = await h.say(h.c.ids.countyLeader, '日报');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/换届工作日报 · 11月5日 星期四 — 沁源县（县级）· 40 个村\(社区\)/);
    expect(replies[0]).toMatch(/完成 1\/640 项/);
    expect(replies[0]).toMatch(/昨日完成（11月4日）[\s\S]*共 1 项：审计 1/);
    expect(replies[0]).toMatch(/乡镇晾晒[\s\S]*🥇 沁河镇/);
    expect(replies[0]).not.toContain('〔图片〕');
  });

  it('online: the chart is rendered, uploaded with the image API and shown in the card', async () => {
    h = await harness({ online: true });
    const { replies } = await h.say(h.c.ids.townshipLeaders[0]!, '/日报');
    expect(h.fake!.images).toHaveLength(1);
    expect(h.fake!.images[0]!.bytes).toBeGreaterThan(10_000);
    expect(replies[0]).toContain('〔图片〕');
    expect(replies[0]).toMatch(/沁河镇（本乡镇）/);
  });

  it('online with a failing upload: the card still goes, without the picture', async () => {
    h = await harness({ online: true });
    h.fake!.failUploads = true;
    const { replies } = await h.say(h.c.ids.countyLeader, '日报');
    expect(replies[0]).toMatch(/换届工作日报/);
    expect(replies[0]).not.toContain('〔图片〕');
  });

  it('refuses a cadre, and audits the refusal', async () => {
    h = await harness();
    const cadre = h.c.ids.cadres[0]![0]!;
    const { replies } = await h.say(cadre, '日报');
    expect(replies).toEqual([expect.stringMatching(/日报、逾期清单和导出仅供领导（县级或乡镇级）和换届办管理员使用/)]);
    expect(h.audits('denied:日报')).toEqual([expect.objectContaining({ actor: cadre })]);
    const stranger = await h.say('ou_nobody', '导出');
    expect(stranger.replies[0]).toMatch(/不在本次换届工作的人员名单中/);
    expect(h.audits('denied:导出')).toHaveLength(1);
  });
});

describe('逾期 [乡镇]', () => {
  it('lists the overdue items of one township with the people responsible', async () => {
    h = await harness();
    const { replies } = await h.say(h.c.ids.countyLeader, '逾期 沁河镇');
    expect(replies[0]).toMatch(/逾期清单 · 沁河镇/);
    expect(replies[0]).toMatch(/逾期阶段 \*?\*?83\*?\*? 项，涉及 14 个村/); // 14 × 6 − 1 done
    expect(replies[0]).toMatch(/沁河镇城东村（.+）\n.*推选选举委员会：截止 10月24日，逾期12天/);
    expect(replies[0]).not.toMatch(/郭道镇/);
    const all = await h.say(h.c.ids.countyLeader, '逾期');
    expect(all.replies[0]).toMatch(/逾期清单 · 沁源县[\s\S]*逾期阶段 \*?\*?239\*?\*? 项，涉及 40 个村/);
  });

  it('refuses a township outside the leader’s scope (audited) and an unknown one', async () => {
    h = await harness();
    const leader = h.c.ids.townshipLeaders[0]!; // 沁河镇
    const { replies } = await h.say(leader, '逾期 郭道镇');
    expect(replies[0]).toBe('「郭道镇」不在您的范围（沁河镇）内，不能查看其逾期清单。');
    expect(h.audits('denied:逾期')).toEqual([expect.objectContaining({ actor: leader, target: expect.stringMatching(/^township:\d+$/) })]);
    const unknown = await h.say(leader, '逾期 火星镇');
    expect(unknown.replies[0]).toMatch(/找不到乡镇「火星镇」/);
  });
});

describe('导出', () => {
  it('offline: saves the workbook under DATA_DIR/exports and says where', async () => {
    h = await harness();
    const { replies } = await h.say(h.c.ids.townshipLeaders[1]!, '导出');
    const path = join(h.t.dir, 'exports', '换届进度_郭道镇_2026-11-05.xlsx');
    expect(replies[0]).toBe(`📊 已生成「换届进度_郭道镇_2026-11-05.xlsx」。当前为离线模式，无法通过飞书发送文件，已保存到服务器：${path}`);
    expect(existsSync(path)).toBe(true);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(path) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((s) => s.name)).toEqual(['汇总', '进度一览', '逾期清单', '乡镇排名', '谈话', '问题清单', '班子结构', '进度总表']);
    const p = wb.getWorksheet('进度总表')!;
    // Rows 1–3: title, 制表单位/截至, a note; the header on row 4 (the print layout: tests/workflow/digest/export-print.test.ts).
    expect(p.getCell('A1').value).toBe('沁源县郭道镇村(社区)“两委”换届工作进度明细表');
    expect(p.getRow(4).values).toEqual([undefined, '县', '乡镇', '村社区', '类型', '选举日', '序号', '阶段', '状态', '截止日期', '完成日期', '逾期天数', '登记人', '责任人']);
    expect(p.views[0]).toMatchObject({ state: 'frozen', ySplit: 4 });
    expect(p.rowCount).toBe(4 + 13 * 16);
    const first = p.getRow(5);
    expect(first.getCell(2).value).toBe('郭道镇');
    expect(first.getCell(9).value).toBeInstanceOf(Date);
    expect((first.getCell(9).value as Date).toISOString().slice(0, 10)).toBe('2026-10-14');
    // Title rows + header + one row per item + the total line.
    expect(wb.getWorksheet('逾期清单')!.rowCount).toBe(3 + 13 * 6 + 1);
    expect(wb.getWorksheet('谈话')!.rowCount).toBe(3 + 14 + 1);
  });

  it('online: uploads the file and sends it to the leader as a file message', async () => {
    h = await harness({ online: true });
    const leader = h.c.ids.countyLeader;
    const { replies, raw } = await h.say(leader, '导出');
    expect(h.fake!.files).toHaveLength(1);
    expect(replies[0]).toMatch(/已生成「换届进度_沁源县_2026-11-05\.xlsx」（沁源县，截至 2026-11-05），文件已私信发送给您/);
    const file = raw.find((r) => r.msg_type === 'file')!;
    expect(JSON.parse(file.content)).toEqual({ file_key: 'file_v3_fake_1' });
    const row = h.t.rt.db.prepare(`SELECT receive_id_type, receive_id FROM outbox WHERE msg_type = 'file'`).get();
    expect(row).toEqual({ receive_id_type: 'open_id', receive_id: leader });
    await h.t.rt.idle();
    expect(h.fake!.sent.filter((m) => m.msg_type === 'file').map((m) => m.receive_id)).toEqual([leader]);
  });

  it('from a local session (console, terminal) the file stays local', async () => {
    h = await harness({ online: true });
    const leader = h.c.ids.countyLeader;
    const env = localTextMessage({ openId: leader, session: 'console', text: '导出', token: h.t.rt.config.lark.verificationToken });
    await h.t.rt.intake.receive(env);
    await h.t.rt.idle();
    const row = h.t.rt.db.prepare(`SELECT receive_id, status FROM outbox WHERE msg_type = 'file'`).get();
    expect(row).toEqual({ receive_id: `local:open_id:${leader}`, status: 'offline' });
    expect(h.fake!.sent).toEqual([]);
  });
});
