import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { FakeLarkFiles } from '../helpers/fake-lark-files.js';
import { campaignRows, sampleCampaign, seedCampaign, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { cfbFile, encryptXlsx, paddedXlsx, workbookWithFormulas, zipBombXlsx, zipNotXlsx } from '../helpers/xlsx-abuse.js';
import { Driver, memoryOf, resetPeak, WORKFLOW_TABLES } from './drive.js';
import { recordResults, rng, SEED, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 8 §3): hostile workbooks sent in chat to the real service —
 * corrupt, password-protected, 50 MB, a zip bomb, formulas. Each must get a
 * clear Chinese refusal that names the problem, nothing in the database may
 * change, the process must stay up, answer quickly, and not balloon in memory.
 * A valid workbook at the end shows that the same path does import.
 */
const results: AttackResult[] = [];
const DATA_TABLES = WORKFLOW_TABLES.filter((t) => t !== 'wf_imports');
afterAll(() => recordResults(inject('faultResultsDir'), 'excel-abuse', results));

/** Above the peak before the attacks; a parse of a 1 GB sheet would take gigabytes. */
const MAX_PEAK_GROWTH_MB = Number(process.env.FAULT_EXCEL_MAX_GROWTH_MB ?? 300);
const MAX_REPLY_MS = 20_000;
const BOMB_BYTES = Number(process.env.FAULT_BOMB_BYTES ?? 1024 * 1024 * 1024);

interface Case {
  category: string;
  label: string;
  fileName: string;
  bytes: Buffer;
  /** Put file_size in the message content (Lark may; then nothing should be downloaded). */
  statedSize?: boolean;
  sender: 'admin' | 'leader';
  /** What the refusal must say. */
  expect: RegExp;
}

describe('fault: hostile workbooks sent in chat', () => {
  it('refuses each with a clear Chinese message, changes nothing, stays up and small', async () => {
    const started = Date.now();
    const random = rng(SEED + 3);
    const campaign = sampleCampaign();
    const admin = campaign.ids.admin;
    const leader = campaign.ids.countyLeader;
    const dir = tempDir('hj-fault-excel-');
    const dbFile = join(dir, 'huanjie.db');
    const seedDb = openDb(dbFile);
    seedCampaign(seedDb, campaign);
    seedDb.close();

    // The workbooks.
    const validFile = join(dir, 'roster.xlsx');
    await writeXlsx(validFile, campaignRows(campaign));
    const valid = readFileSync(validFile);
    const rows = campaignRows(campaign);
    const cols = {
      人员: ['姓名', '飞书open_id', '角色', '县', '乡镇', '负责村社区'],
      村社区: ['县', '乡镇', '村社区', '类型', '选举日'],
      谈话: ['谈话类别', '谈话对象', '村社区', '谈话人', '截止日期', '乡镇'],
    };
    const formulas = (f: Record<string, { formula: string; result?: string | number }>) => workbookWithFormulas({ 人员: rows['人员']!, 村社区: rows['村社区']!, 谈话: rows['谈话']! }, cols, f);
    const withRandomPk = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(3000)]);
    const cases: Case[] = [
      ...Array.from({ length: 3 }, (_, i): Case => ({ category: 'corrupt', label: `random bytes #${i + 1}`, fileName: '花名册.xlsx', bytes: randomBytes(500 + Math.floor(random() * 20_000)), sender: 'admin', expect: /无法读取.*不是 Excel 工作簿/ })),
      { category: 'corrupt', label: 'empty file', fileName: '花名册.xlsx', bytes: Buffer.alloc(0), sender: 'admin', expect: /无法读取.*不是 Excel 工作簿/ },
      { category: 'corrupt', label: 'zip header then garbage', fileName: '花名册.xlsx', bytes: withRandomPk, sender: 'admin', expect: /不完整或已损坏/ },
      ...[0.1, 0.5, 0.97].map((f): Case => ({ category: 'corrupt', label: `real xlsx cut at ${f * 100}%`, fileName: '花名册.xlsx', bytes: valid.subarray(0, Math.floor(valid.length * f)), sender: 'admin', expect: /不完整或已损坏/ })),
      { category: 'corrupt', label: 'a zip that is not a workbook', fileName: '花名册.xlsx', bytes: await zipNotXlsx(), sender: 'admin', expect: /压缩包，但不是 Excel 工作簿/ },
      { category: 'corrupt', label: 'CSV text named .xlsx', fileName: '花名册.xlsx', bytes: Buffer.from('姓名,飞书open_id\n张三,ou_x\n'), sender: 'admin', expect: /不是 Excel 工作簿/ },
      { category: 'password-protected', label: 'agile-encrypted workbook (real ECMA-376 encryption)', fileName: '花名册.xlsx', bytes: encryptXlsx(valid, 'hj-2026!'), sender: 'admin', expect: /设置了打开密码（已加密）/ },
      { category: 'password-protected', label: 'old .xls container named .xlsx', fileName: '花名册.xlsx', bytes: cfbFile([{ name: 'Workbook', data: randomBytes(9000) }]), sender: 'admin', expect: /旧版 Excel（\.xls）/ },
      { category: '50 MB', label: '50 MB workbook, size stated in the message', fileName: '花名册.xlsx', bytes: await paddedXlsx(valid, 50 * 1024 * 1024), statedSize: true, sender: 'admin', expect: /文件过大（5\d\.\d MB），导入文件上限 20 MB/ },
      { category: '50 MB', label: '50 MB workbook, size only in the download', fileName: '花名册.xlsx', bytes: await paddedXlsx(valid, 50 * 1024 * 1024), sender: 'admin', expect: /文件过大（5\d\.\d MB），导入文件上限 20 MB/ },
      { category: 'zip bomb', label: `${Math.round(BOMB_BYTES / 1048576)} MB sheet, sizes declared`, fileName: '花名册.xlsx', bytes: await zipBombXlsx(valid, BOMB_BYTES), sender: 'admin', expect: /解压后过大.*压缩炸弹/ },
      { category: 'zip bomb', label: `${Math.round(BOMB_BYTES / 1048576)} MB sheet, sizes understated`, fileName: '花名册.xlsx', bytes: await zipBombXlsx(valid, BOMB_BYTES, { declaredBytes: 40_000 }), sender: 'admin', expect: /解压后过大.*压缩炸弹/ },
      { category: 'formulas', label: '=HYPERLINK(…) in 飞书open_id, cached value an admin id', fileName: '花名册.xlsx', bytes: await formulas({ '人员!B5': { formula: 'HYPERLINK("http://example.invalid/x","ou_admin_0001")', result: 'ou_admin_0001' } }), sender: 'admin', expect: /人员 第5行 「飞书open_id」：单元格是公式（=HYPERLINK/ },
      { category: 'formulas', label: '=1+1 cached as 3 in 选举日', fileName: '花名册.xlsx', bytes: await formulas({ '村社区!E3': { formula: '1+1', result: 3 } }), sender: 'admin', expect: /村社区 第3行 「选举日」：单元格是公式（=1\+1）/ },
      { category: 'formulas', label: 'a row of formulas without cached values', fileName: '花名册.xlsx', bytes: await formulas(Object.fromEntries(['A', 'B', 'C', 'D', 'E', 'F'].map((c) => [`人员!${c}4`, { formula: `"x"&"${c}"` }]))), sender: 'admin', expect: /人员 第4行 「姓名」：单元格是公式/ },
      { category: 'formulas', label: "a cell whose cached value differs (=A2 shown as 'ou_leader_county')", fileName: '花名册.xlsx', bytes: await formulas({ '人员!B3': { formula: 'B2', result: 'ou_leader_county' } }), sender: 'admin', expect: /人员 第3行 「飞书open_id」：单元格是公式（=B2）/ },
      { category: 'not an admin', label: 'county leader sends a valid workbook', fileName: '花名册.xlsx', bytes: valid, sender: 'leader', expect: /只有换届办管理员可以导入/ },
    ];

    const fake = await FakeLark.start();
    const files = await FakeLarkFiles.start(fake);
    let svc: Service | undefined;
    let drv: Driver | undefined;
    const tally = new Map<string, { tries: number; failures: number; detail: string[]; ms: number[] }>();
    // Every problem of a case is noted; the case counts once as a failure.
    let problems: string[] = [];
    const fail = (_cat: string, why: string) => void problems.push(why);
    const settle = (cat: string) => {
      const c = tally.get(cat)!;
      if (problems.length) {
        c.failures++;
        if (c.detail.length < 4) c.detail.push(problems.join('; '));
      }
      problems = [];
    };
    try {
      svc = await startService({ dataDir: dir, fake, env: { LARK_DOMAIN: files.url, LOG_LEVEL: 'warn' } });
      drv = new Driver(svc, dbFile);
      const pid = svc.child.pid!;
      // Warm up the import path once (module loading, the first exceljs parse), so the baseline is honest:
      // the seeded roster again, which imports as "unchanged".
      const warmId = drv.nextId('om_xlsx_warm');
      files.addFile(warmId, 'file_warm', valid);
      const warm = await drv.sendFile(admin, { file_key: 'file_warm', file_name: '花名册.xlsx' }, { chatId: 'oc_admin_p2p', messageId: warmId });
      expect(warm.replies.map((m) => m.text).join('')).toMatch(/导入完成/);
      const baseline = memoryOf(pid).peakMb;
      const downloadsBefore = files.downloads.length;
      let maxPeak = baseline;

      for (const c of cases) {
        const t = tally.get(c.category) ?? { tries: 0, failures: 0, detail: [], ms: [] };
        tally.set(c.category, t);
        t.tries++;
        const messageId = drv.nextId('om_xlsx');
        const fileKey = `file_v3_${messageId}`;
        files.addFile(messageId, fileKey, c.bytes);
        const content: Record<string, unknown> = { file_key: fileKey, file_name: c.fileName };
        if (c.statedSize) content.file_size = c.bytes.length;
        const downloadsAt = files.downloads.length;
        const before = drv.snapshot(DATA_TABLES);
        const importsAt = drv.db.prepare(`SELECT COUNT(*) AS n FROM wf_imports WHERE ok = 1`).get() as { n: number };
        const auditAt = drv.maxAuditId();
        resetPeak(pid);
        let r;
        try {
          r = await drv.sendFile(c.sender === 'admin' ? admin : leader, content, { chatId: `oc_${c.sender}_p2p`, messageId });
        } catch (e) {
          fail(c.category, `${c.label}: ${(e as Error).message}`);
          settle(c.category);
          break;
        }
        t.ms.push(r.ms);
        const text = r.replies.map((m) => m.text).join('\n');
        const peak = memoryOf(pid).peakMb;
        maxPeak = Math.max(maxPeak, peak);
        if (r.status !== 'done') fail(c.category, `${c.label}: event ${r.status}`);
        if (r.replies.length !== 1) fail(c.category, `${c.label}: ${r.replies.length} replies`);
        if (!c.expect.test(text)) fail(c.category, `${c.label}: reply does not name the problem: ${text.slice(0, 160)}`);
        if (!/[\u4e00-\u9fff]/.test(text)) fail(c.category, `${c.label}: reply not in Chinese`);
        if (r.ms > MAX_REPLY_MS) fail(c.category, `${c.label}: answered after ${r.ms} ms`);
        if (peak - baseline > MAX_PEAK_GROWTH_MB) fail(c.category, `${c.label}: peak RSS ${peak} MB (baseline ${baseline} MB)`);
        if (c.statedSize && files.downloads.length !== downloadsAt) fail(c.category, `${c.label}: downloaded although the message stated ${c.bytes.length} bytes`);
        // A refused import is recorded in wf_imports (ok = 0), like an audit row; nothing else may change.
        const now = drv.snapshot(DATA_TABLES);
        const changed: string[] = DATA_TABLES.filter((tb) => now[tb] !== before[tb]);
        const importsNow = drv.db.prepare(`SELECT COUNT(*) AS n FROM wf_imports WHERE ok = 1`).get() as { n: number };
        if (importsNow.n !== importsAt.n) changed.push('wf_imports (an import applied)');
        if (changed.length) fail(c.category, `${c.label}: database changed (${changed.join(', ')})`);
        // The refusal is on the record: who sent which file, and why it was not imported (or that they may not import).
        const audited = drv.auditSince(auditAt).some((a) => a.target === `file:${c.fileName}` && (a.action === 'import.refused' || a.action === 'denied:import') && a.actor === (c.sender === 'admin' ? admin : leader));
        if (!audited) fail(c.category, `${c.label}: refusal not audited`);
        settle(c.category);
      }

      // The control: a valid workbook from the admin does change the database (the check above can see a change).
      const control = rows;
      control['人员']!.push({ 姓名: '新来的干部', 飞书open_id: 'ou_fault_new_cadre', 角色: '干部', 县: campaign.county, 乡镇: campaign.townships[0]!, 负责村社区: campaign.villages[0]!.name });
      await writeXlsx(validFile, control);
      const controlId = drv.nextId('om_xlsx_ok');
      files.addFile(controlId, 'file_ok', readFileSync(validFile));
      const ok = await drv.sendFile(admin, { file_key: 'file_ok', file_name: '花名册.xlsx' }, { chatId: 'oc_admin_p2p', messageId: controlId });
      const okText = ok.replies.map((m) => m.text).join('\n');
      const people = drv.db.prepare(`SELECT COUNT(*) AS n FROM wf_people WHERE open_id = 'ou_fault_new_cadre'`).get() as { n: number };

      // Everything said reached Lark; the process is up and healthy.
      const all = drv.allOutbox();
      const delivered = await waitUntil(() => all.every((m) => fake.sent.some((s) => s.reply_to === m.reply_to)), 60_000, 'replies delivered').then(() => true, () => false);
      const health = await fetch(svc.base + '/healthz').then((r) => r.status, () => 0);
      const alive = svc.child.exitCode === null && svc.child.signalCode === null;
      const failedEvents = drv.db.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE status = 'failed'`).get() as { n: number };
      drv.close();
      drv = undefined;
      const stop = await stopService(svc);
      svc = undefined;

      for (const [cat, t] of tally) {
        results.push({
          attack: `excel: ${cat}`,
          tries: t.tries,
          failures: t.failures,
          notes: `slowest reply ${Math.max(...t.ms)} ms${t.detail.length ? `; ${t.detail.join(' | ')}` : ''}`,
        });
      }
      const processFailures = (delivered ? 0 : 1) + (alive ? 0 : 1) + (health === 200 ? 0 : 1) + (stop.code === 0 ? 0 : 1) + failedEvents.n + (people.n === 1 && /导入完成/.test(okText) ? 0 : 1);
      results.push({
        attack: 'excel: process, memory, control import',
        tries: 1,
        failures: processFailures,
        notes:
          `peak RSS ${baseline} → ${maxPeak} MB (limit +${MAX_PEAK_GROWTH_MB}); downloads ${files.downloads.length - downloadsBefore}; all ${all.length} replies delivered ${delivered}; control import ${people.n === 1 ? 'applied' : 'NOT applied'}; ` +
          `alive ${alive}, healthz ${health}, failed events ${failedEvents.n}, clean stop ${stop.code === 0}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });
      for (const [cat, t] of tally) expect(t.failures, `${cat}: ${t.detail.join(' | ')}`).toBe(0);
      expect(okText).toMatch(/导入完成/);
      expect(people.n).toBe(1);
      expect(delivered).toBe(true);
      expect(alive).toBe(true);
      expect(health).toBe(200);
      expect(failedEvents.n).toBe(0);
      expect(stop.code).toBe(0);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'excel abuse', tries: cases.length, failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      drv?.close();
      if (svc) await stopService(svc, 'SIGKILL');
      await files.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
