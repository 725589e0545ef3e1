import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { createWorkflowRepos } from '../../../src/store/workflow-repos.js';
import { registerWorkflow, workflowFileHandler } from '../../../src/workflow/register.js';
import { cardActionEvent, messageEvent } from '../../helpers/events.js';
import { FakeLark } from '../../helpers/fake-lark.js';
import { FakeLarkFiles } from '../../helpers/fake-lark-files.js';
import { larkRequest } from '../../helpers/lark-sign.js';
import { campaignRows, sampleCampaign, seedCampaign, writeXlsx } from '../../helpers/roster.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, tempDir, type TestEnv } from '../../helpers/test-runtime.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NOW } from './harness.js';

/** Through the signed, encrypted webhook, the real SDK, and the fake Lark Open Platform. */
describe('check-ins end to end', () => {
  let fake: FakeLark;
  let files: FakeLarkFiles;
  let t: TestEnv;
  const campaign = sampleCampaign();
  const cadre = campaign.ids.cadres[0]![0]!;

  beforeEach(async () => {
    fake = await FakeLark.start();
    files = await FakeLarkFiles.start(fake);
    t = await startTestRuntime({ fake, clock: new ManualClock(NOW), env: { LARK_DOMAIN: files.url, LARK_BOT_OPEN_ID: fake.botOpenId } });
    registerWorkflow(t.rt); // already registered by the runtime: a second call changes nothing
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await files.close();
    await fake.close();
  });

  async function deliver(payload: unknown) {
    // Signed at the runtime's (campaign) time: the webhook checks the timestamp against the injected clock.
    const req = larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, nowMs: t.rt.clock.now() });
    const r = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(r.statusCode).toBe(200);
    return r;
  }
  const progress = () => t.rt.db.prepare('SELECT stage_key, status, updated_by FROM wf_stage_progress ORDER BY stage_key').all();

  it('a check-in typed in chat lands once, and the confirmation reaches the sender in the thread', async () => {
    seedCampaign(t.rt.db, campaign);
    const ev = messageEvent({ text: '完成 城西村 审计 11月1日', openId: cadre, messageId: 'om_checkin_1', chatId: 'oc_cadre_p2p' });
    await deliver(ev);
    await deliver(ev); // Lark redelivers
    await deliver(messageEvent({ text: '完成 城西村 审计 11月1日', openId: cadre, messageId: 'om_checkin_1', eventId: 'ev_other' }));
    await t.rt.idle();
    expect(progress()).toEqual([{ stage_key: 'audit', status: '已完成', updated_by: cadre }]);
    expect(t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_changes').get()).toEqual({ n: 1 });
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.reply_to).toBe('om_checkin_1');
    expect(String(fake.sent[0]!.content.text)).toContain('已登记：沁河镇城西村「审计」登记为“已完成”，完成日期 11月1日');
  });

  it('a check-in submitted from the card form lands once; the toast answers at once and the confirmation goes to the sender', async () => {
    seedCampaign(t.rt.db, campaign);
    const village = createWorkflowRepos(t.rt.db).roster.villages().find((v) => v.name === '城西村' && v.township === '沁河镇')!;
    const ev = cardActionEvent({
      value: { action: 'checkin_submit' },
      formValue: { village: String(village.id), stage: 'audit', status: '已完成', note: '审计结果已公开', date: '2026-11-02 +0800' },
      openId: cadre,
      eventId: 'ev_form_1',
    });
    const r = await deliver(ev);
    expect(r.json()).toEqual({ toast: { type: 'success', content: '已登记' } });
    await deliver(ev);
    await t.rt.idle();
    expect(progress()).toEqual([{ stage_key: 'audit', status: '已完成', updated_by: cadre }]);
    expect(t.rt.db.prepare('SELECT source_id FROM wf_changes').all()).toEqual([{ source_id: 'card:ev_form_1' }]);
    const toCadre = fake.sent.filter((m) => m.receive_id === cadre);
    expect(toCadre).toHaveLength(1);
    expect(toCadre[0]!.receive_id_type).toBe('open_id');
    expect(String(toCadre[0]!.content.text)).toMatch(/完成日期 11月2日，备注：审计结果已公开/);

    // A refusal is a toast; nothing changes and nothing is sent.
    const other = createWorkflowRepos(t.rt.db).roster.villages().find((v) => v.name === '城东村' && v.township === '沁河镇')!;
    const denied = await deliver(cardActionEvent({ value: { action: 'checkin_submit' }, formValue: { village: String(other.id), stage: 'audit', status: '已完成' }, openId: cadre }));
    expect(denied.json().toast).toMatchObject({ type: 'error', content: expect.stringContaining('不是您负责的') });
    const bad = await deliver(cardActionEvent({ value: { action: 'checkin_submit' }, formValue: { village: String(village.id), stage: 'committee_election', status: '已完成' }, openId: cadre }));
    expect(bad.json().toast.content).toMatch(/前置阶段尚未完成/);
    await t.rt.idle();
    expect(progress()).toHaveLength(1);
    expect(fake.sent.filter((m) => m.receive_id === cadre)).toHaveLength(1);
  });

  it('the bot menu: 提交进度 sends the form card with the sender’s villages; 我的 sends the summary', async () => {
    seedCampaign(t.rt.db, campaign);
    const menu = (key: string, id: string) => ({
      schema: '2.0',
      header: { event_id: id, event_type: 'application.bot.menu_v6', token: TEST_VERIFICATION_TOKEN, create_time: String(Date.now()), app_id: 'cli_a1b2c3d4e5f60718' },
      event: { operator: { operator_id: { open_id: cadre, union_id: 'on_x' }, operator_name: '刘伟' }, event_key: key, timestamp: Date.now() },
    });
    await deliver(menu('checkin', 'ev_menu_1'));
    await deliver(menu('my', 'ev_menu_2'));
    await deliver(menu('help', 'ev_menu_3'));
    await t.rt.idle();
    const cards = fake.sent.filter((m) => m.receive_id === cadre && m.msg_type === 'interactive');
    expect(cards).toHaveLength(3);
    const form = JSON.stringify(cards.find((c) => JSON.stringify(c.content).includes('checkin_form'))!.content);
    expect(form).toContain('"form_action_type":"submit"');
    expect(form).toContain('城西村');
    expect(form).not.toContain('城东村');
    expect(JSON.stringify(cards.map((c) => c.content))).toContain('我的换届工作');
  });

  it('an admin sends a workbook in chat: downloaded, checked, applied, answered with a card', async () => {
    const dir = tempDir();
    const file = join(dir, 'roster.xlsx');
    await writeXlsx(file, campaignRows(campaign));
    files.addFile('om_file_1', 'file_v3_roster', readFileSync(file));
    const fileMessage = (openId: string, messageId: string, name = '花名册.xlsx') => {
      const ev = messageEvent({ text: 'x', openId, messageId });
      const m = ev.event.message as Record<string, unknown>;
      m.message_type = 'file';
      m.content = JSON.stringify({ file_key: 'file_v3_roster', file_name: name });
      return ev;
    };
    await t.close();
    t = await startTestRuntime({ fake, dir: t.dir, clock: new ManualClock(NOW), env: { LARK_DOMAIN: files.url, LARK_BOT_OPEN_ID: fake.botOpenId, ADMIN_OPEN_IDS: 'ou_env_admin' } });

    await deliver(fileMessage('ou_somebody', 'om_file_0'));
    await deliver(fileMessage('ou_env_admin', 'om_file_1'));
    await t.rt.idle();
    expect(files.downloads).toEqual([{ messageId: 'om_file_1', fileKey: 'file_v3_roster', type: 'file', authorized: true, status: 200 }]);
    const replies = fake.sent.map((m) => JSON.stringify(m.content));
    expect(replies[0]).toContain('只有换届办管理员可以导入');
    expect(replies[1]).toContain('导入完成');
    expect(replies[1]).toMatch(/人员：新增 \d+/);
    expect(createWorkflowRepos(t.rt.db).roster.people()).toHaveLength(campaign.people.length);
    expect(t.rt.repos.audit.recent(500).some((r) => r.action === 'denied:import' && r.actor === 'ou_somebody')).toBe(true);

    // A broken workbook: the card lists the problems and nothing is applied.
    const broken = campaignRows(campaign);
    broken['村社区']![0]!['选举日'] = '下个月';
    await writeXlsx(file, broken);
    files.addFile('om_file_2', 'file_v3_roster', readFileSync(file));
    const before = JSON.stringify(t.rt.db.prepare('SELECT * FROM wf_regions').all());
    await deliver(fileMessage('ou_env_admin', 'om_file_2'));
    await deliver(fileMessage('ou_env_admin', 'om_file_3', 'notes.docx'));
    await t.rt.idle();
    const refusal = JSON.stringify(fake.sent.find((m) => m.reply_to === 'om_file_2')?.content);
    expect(refusal).toContain('导入未通过：1 处问题');
    expect(refusal).toContain('村社区 第2行 「选举日」');
    expect(JSON.stringify(fake.sent.find((m) => m.reply_to === 'om_file_3')?.content)).toContain('只能导入 .xlsx');
    expect(JSON.stringify(t.rt.db.prepare('SELECT * FROM wf_regions').all())).toBe(before);
  });
});

describe('file import offline', () => {
  it('says the online bot is needed and points to the CLI', async () => {
    const t = await startTestRuntime({ env: { ADMIN_OPEN_IDS: 'ou_env_admin' } });
    try {
      registerWorkflow(t.rt);
      const handler = workflowFileHandler(t.rt)!;
      const ev = messageEvent({ text: 'x', openId: 'ou_env_admin', messageId: 'om_off' });
      const m = ev.event.message as Record<string, unknown>;
      m.message_type = 'file';
      m.content = JSON.stringify({ file_key: 'k', file_name: '花名册.xlsx' });
      const sent: { content: Record<string, unknown> }[] = [];
      await handler(
        { eventId: 'e', eventType: 'im.message.receive_v1', messageId: 'om_off', payload: ev as never },
        { eventId: 'e', logger: t.rt.logger, clock: t.rt.clock, outbox: { enqueue: (x) => void sent.push(x) } },
      );
      expect(String(sent[0]!.content.text)).toContain('npm run cli -- import');
    } finally {
      await t.close({ remove: true });
    }
  });
});
