import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { messageEvent } from '../../helpers/events.js';
import { FakeLark } from '../../helpers/fake-lark.js';
import { FakeLarkFiles } from '../../helpers/fake-lark-files.js';
import { larkRequest } from '../../helpers/lark-sign.js';
import { sampleCampaign, seedCampaign } from '../../helpers/roster.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, type TestEnv } from '../../helpers/test-runtime.js';
import { encryptXlsx } from '../../helpers/xlsx-abuse.js';
import { NOW } from './harness.js';

/**
 * Regression tests for the file import found by tests/faults/excel-abuse.fault.ts:
 * a file the message says is too large is refused without downloading it; one
 * whose download declares too large a length is refused before its body is
 * read; and a refused file is on the audit record.
 */
describe('file import: size and refusals', () => {
  let fake: FakeLark;
  let files: FakeLarkFiles;
  let t: TestEnv;
  const campaign = sampleCampaign();
  const admin = campaign.ids.admin;

  beforeEach(async () => {
    fake = await FakeLark.start();
    files = await FakeLarkFiles.start(fake);
    t = await startTestRuntime({ fake, clock: new ManualClock(NOW), env: { LARK_DOMAIN: files.url, LARK_BOT_OPEN_ID: fake.botOpenId } });
    seedCampaign(t.rt.db, campaign);
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await files.close();
    await fake.close();
  });

  async function sendFile(messageId: string, content: Record<string, unknown>) {
    const ev = messageEvent({ text: 'x', openId: admin, messageId });
    const m = ev.event.message as Record<string, unknown>;
    m.message_type = 'file';
    m.content = JSON.stringify(content);
    const req = larkRequest(ev, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, nowMs: t.rt.clock.now() });
    const r = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(r.statusCode).toBe(200);
    await t.rt.idle();
    return fake.sent.filter((s) => s.reply_to === messageId).map((s) => JSON.stringify(s.content));
  }

  it('a file stated as 50 MB is refused without a download; one that turns out to be 50 MB is refused by its length', async () => {
    const imports = () => t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_imports').get();
    const before = imports();
    const big = Buffer.alloc(50 * 1024 * 1024, 7);
    files.addFile('om_big_1', 'fk_big', big);
    const r1 = await sendFile('om_big_1', { file_key: 'fk_big', file_name: '花名册.xlsx', file_size: big.length });
    expect(r1).toHaveLength(1);
    expect(r1[0]).toContain('文件过大（50.0 MB），导入文件上限 20 MB');
    expect(files.downloads).toEqual([]);

    files.addFile('om_big_2', 'fk_big', big);
    const r2 = await sendFile('om_big_2', { file_key: 'fk_big', file_name: '花名册.xlsx' });
    expect(r2[0]).toContain('文件过大（50.0 MB）');
    expect(files.downloads.map((d) => d.messageId)).toEqual(['om_big_2']);
    expect(imports()).toEqual(before);
  });

  it('a refused file is audited with the reason (was: no record at all)', async () => {
    files.addFile('om_enc', 'fk_enc', encryptXlsx(Buffer.from('PK'), 'pw', 1000));
    const r = await sendFile('om_enc', { file_key: 'fk_enc', file_name: '花名册.xlsx' });
    expect(r[0]).toContain('设置了打开密码');
    const audit = t.rt.repos.audit.recent(10).filter((a) => a.action === 'import.refused');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: admin, target: 'file:花名册.xlsx' });
    expect(audit[0]!.detail).toContain('设置了打开密码');
  });
});
