import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { runImport } from '../../src/workflow/import/index.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { FakeLarkFiles } from '../helpers/fake-lark-files.js';
import { toSheetData, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';
import { startCli } from './crash-kit.js';
import { Driver, type OutboxMessage } from './drive.js';
import { BOT_OPEN_ID, recordResults, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 17, items 3 and 4): roster changes are authoritative, and names
 * that look alike are one name or an error. Through the real service and the
 * fake Lark, from outside:
 * - a cadre dropped from the 人员 sheet by a re-import presses the buttons of a
 *   reminder they already had (延后, 已完成), checks in, opens a risk; the next
 *   day's reminder is planned (CLI dry run at tomorrow's slot) and a reminder
 *   queued for them before the re-import (Lark was failing) must not go out; the
 *   leader's digest must show their village as 无人负责;
 * - the same re-import renames a village (南关村 → 南关新村): the answer must list
 *   the rename and the removal before anything is applied, and once confirmed
 *   the new name carries the old one's 审计 record and talks;
 * - workbooks adding a village that differs from 城西村 only by a zero-width
 *   space, a soft hyphen or a bidi control must be refused naming sheet and row;
 *   commands typed with such characters must find the real village.
 */
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'roster-changes', results));

const TZ = 'Asia/Shanghai';
const C = '沁源县';
const T = '沁河镇';
const ADMIN = 'ou_rc_admin';
const LEADER = 'ou_rc_leader';
const DROPPED = 'ou_rc_cadre_a';
const KEPT = 'ou_rc_cadre_b';
const RENAMED_CADRE = 'ou_rc_cadre_c';

const dateIn = (t: number) => new Date(t).toLocaleDateString('sv-SE', { timeZone: TZ });
const hhmmIn = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

type Rows = Record<string, Record<string, string>[]>;

/** The first roster, and the re-import: 干部甲 dropped, 南关村 renamed 南关新村 (its cadre follows it). */
function roster(opts: { day: string; version: 1 | 2 }): Rows {
  const nanguan = opts.version === 1 ? '南关村' : '南关新村';
  const people = [
    { 姓名: '换届办', 飞书open_id: ADMIN, 角色: '管理员', 县: C, 乡镇: '', 负责村社区: '' },
    { 姓名: '沁河镇书记', 飞书open_id: LEADER, 角色: '领导', 县: C, 乡镇: T, 负责村社区: '' },
    { 姓名: '干部甲', 飞书open_id: DROPPED, 角色: '干部', 县: C, 乡镇: T, 负责村社区: '城西村' },
    { 姓名: '干部乙', 飞书open_id: KEPT, 角色: '干部', 县: C, 乡镇: T, 负责村社区: '城东村' },
    { 姓名: '干部丙', 飞书open_id: RENAMED_CADRE, 角色: '干部', 县: C, 乡镇: T, 负责村社区: nanguan },
  ].filter((p) => opts.version === 1 || p.飞书open_id !== DROPPED);
  const election = addDays(opts.day, 60);
  return {
    人员: people,
    村社区: ['城西村', '城东村', nanguan].map((n) => ({ 县: C, 乡镇: T, 村社区: n, 类型: '村', 选举日: election })),
    // 城西村: 审计 due tomorrow (reminded today and tomorrow), 摸底研判 overdue (in the leader's digest).
    节点: [
      { 村社区: '城西村', 阶段: '审计', 截止日期: addDays(opts.day, 1), 乡镇: T },
      { 村社区: '城西村', 阶段: '摸底研判', 截止日期: addDays(opts.day, -2), 乡镇: T },
    ],
    谈话: [{ 谈话类别: '选前谈话', 谈话对象: '候选人丙', 村社区: nanguan, 谈话人: '干部丙', 截止日期: addDays(opts.day, 20), 乡镇: T }],
  };
}

/** Every card button's value in a message's content. */
function buttonValues(m: OutboxMessage): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (o.tag === 'button') {
      for (const b of (o.behaviors as { type?: string; value?: Record<string, unknown> }[] | undefined) ?? []) if (b.type === 'callback' && b.value) out.push(b.value);
      if (o.value && typeof o.value === 'object') out.push(o.value as Record<string, unknown>);
    }
    for (const v of Object.values(o)) walk(v);
  };
  try {
    walk(JSON.parse(m.content));
  } catch {
    /* not JSON */
  }
  return out;
}

describe('fault: roster changes and look-alike names', () => {
  it('a dropped cadre loses every right, a rename keeps history, look-alikes are refused', async () => {
    const started = Date.now();
    // Today's reminder slot passed two minutes ago: the service catches it up when it starts.
    const slotAt = Date.now() - 2 * 60_000;
    const day = dateIn(slotAt);
    const dir = tempDir('hj-fault-roster-');
    const dbFile = join(dir, 'huanjie.db');

    const seed = openDb(dbFile);
    const repos = createWorkflowRepos(seed);
    const first = runImport(repos, { sheets: toSheetData(roster({ day, version: 1 })), issues: [] }, { actor: 'seed', sourceId: 'seed', fileName: 'seed', now: Date.now() });
    if (!first.ok) throw new Error('roster does not import: ' + JSON.stringify(first));
    const vid = new Map(repos.roster.villages().map((v) => [v.name, v.id]));
    // 南关村's history: its audit done (by its cadre), a risk open.
    repos.plan.setStage({ village_id: vid.get('南关村')!, stage_key: 'audit', status: '已完成', completed_on: addDays(day, -5), note: '审计结果已公布', updated_by: RENAMED_CADRE, updated_at: Date.now() });
    repos.risks.insert({ village_id: vid.get('南关村')!, category: '其他', severity: '一般', description: '南关村预置问题', must_check: 0, must_reasons: null, opened_by: 'seed', opened_at: Date.now() });
    seed.close();

    const v2 = join(dir, '花名册第二版.xlsx');
    await writeXlsx(v2, roster({ day, version: 2 }));

    // Lark fails every send until `larkUp`: the reminder queued for 干部甲 is still pending when the re-import lands.
    let larkUp = false;
    const fake = await FakeLark.start({ chaos: () => (larkUp ? undefined : { status: 500, body: { code: 1, msg: 'internal error' } }) });
    const files = await FakeLarkFiles.start(fake);
    let svc: Service | undefined;
    let d: Driver | undefined;
    const env = { LARK_DOMAIN: files.url, ADMIN_OPEN_IDS: ADMIN, REMINDER_TIME: hhmmIn(slotAt) };
    const cli = async (args: string[]) => (await startCli(args, { DATA_DIR: dir, TZ_NAME: TZ, DIGEST_TIME: '08:30', REMINDER_TIME: hhmmIn(slotAt) }).done);
    const sendWorkbook = async (path: string, name: string) => {
      const messageId = d!.nextId('om_rc_file');
      files.addFile(messageId, `file_${messageId}`, readFileSync(path));
      const r = await d!.sendFile(ADMIN, { file_key: `file_${messageId}`, file_name: name }, { chatId: 'oc_rc_admin', messageId });
      return r.replies;
    };
    try {
      svc = await startService({ dataDir: dir, fake, env });
      d = new Driver(svc, dbFile);
      const drv = d;
      const reminderTo = (openId: string) => drv.allOutbox().find((m) => m.intent === `reminder:${openId}:${day}`);
      await waitUntil(() => !!reminderTo(DROPPED), scaled(60_000), "today's reminder to 干部甲");
      const oldReminder = reminderTo(DROPPED)!;
      const oldButtons = buttonValues(oldReminder);
      const snoozeValue = oldButtons.find((b) => b.action === 'reminder_snooze');
      const doneValue = oldButtons.find((b) => b.action === 'reminder_done');
      expect(snoozeValue, 'the reminder card has a 延后 button').toBeTruthy();
      expect(doneValue, 'the reminder card has a 已完成 button').toBeTruthy();

      // ── The re-import: 干部甲 dropped, 南关村 → 南关新村. ────────────────────
      const snap = () => d!.snapshot(['wf_regions', 'wf_people', 'wf_assignments', 'wf_stage_progress', 'wf_talks']);
      const beforeImport = snap();
      const answer = await sendWorkbook(v2, '花名册第二版.xlsx');
      const answerText = answer.map((m) => m.text).join('\n');
      const previewNotes: string[] = [];
      const untouched = JSON.stringify(snap()) === JSON.stringify(beforeImport);
      const listsRemoval = answerText.includes('干部甲');
      const listsRename = /南关村/.test(answerText) && /南关新村/.test(answerText);
      if (!untouched) previewNotes.push('applied before any confirmation');
      if (!listsRemoval) previewNotes.push('removal of 干部甲 not listed');
      if (!listsRename) previewNotes.push('rename 南关村→南关新村 not listed');
      const confirm = answer.flatMap(buttonValues).find((b) => String(b.action ?? '').startsWith('import_confirm'));
      if (confirm) {
        const r = await d.cardAction(ADMIN, confirm);
        expect(r.status).toBe(200);
      } else previewNotes.push('no confirm button');
      const village = (name: string) => d!.db.prepare(`SELECT id FROM wf_regions WHERE kind = 'village' AND name = ?`).get(name) as { id: number } | undefined;
      await waitUntil(() => !!village('南关新村'), scaled(30_000), '南关新村 to exist after the re-import');

      // ── Rename: history carried, no orphan. ────────────────────────────────
      const renameNotes: string[] = [];
      const oldLeft = village('南关村');
      if (oldLeft) {
        const who = d.db.prepare(`SELECT COUNT(*) AS n FROM wf_assignments WHERE village_id = ?`).get(oldLeft.id) as { n: number };
        renameNotes.push(`old 南关村 still in the plan (${who.n} responsible)`);
      }
      const progress = await cli(['progress', '南关新村', '--json']);
      const audit = progress.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { village: string; stage: string; status: string }).find((r) => r.stage === '审计');
      const carried = audit?.status === '已完成';
      if (!carried) renameNotes.push(`data lost: 南关新村 审计 = ${audit?.status ?? progress.stderr.slice(0, 80)}`);
      const newId = village('南关新村')!.id;
      const talkHere = d.db.prepare(`SELECT COUNT(*) AS n FROM wf_talks WHERE region_id = ?`).get(newId) as { n: number };
      const riskHere = d.db.prepare(`SELECT COUNT(*) AS n FROM wf_risks WHERE village_id = ?`).get(newId) as { n: number };
      if (talkHere.n !== 1) renameNotes.push(`talks on 南关新村: ${talkHere.n}`);
      if (riskHere.n !== 1) renameNotes.push(`data lost: risks on 南关新村: ${riskHere.n}`);
      const renameFailures = [!untouched || !listsRename || !confirm, !!oldLeft, !carried || talkHere.n !== 1 || riskHere.n !== 1].filter(Boolean).length;
      results.push({
        attack: 'village renamed by re-import (南关村→南关新村): shown first, confirmed, history carried',
        tries: 3,
        failures: renameFailures,
        notes: [...previewNotes, ...renameNotes].join('; ') || 'rename listed before applying; 审计/talk/risk on the new name; data lost: none',
      });

      // ── The dropped cadre's five tries. ────────────────────────────────────
      const dropNotes: string[] = [];
      let dropFailures = 0;
      const judge = async (what: string, run: () => Promise<{ reply: string; toastError?: boolean }>, tables: string[]) => {
        const before = d!.snapshot(tables);
        const auditAt = d!.maxAuditId();
        const { reply, toastError } = await run();
        const changed = tables.filter((t) => d!.snapshot([t])[t] !== before[t]);
        const denied = d!.auditSince(auditAt).some((a) => a.actor === DROPPED && a.action.startsWith('denied:'));
        const why = changed.length
          ? `changed ${changed.join(',')}`
          : !denied
            ? 'refusal not audited'
            : !reply.includes('不在花名册')
              ? `answer does not say 不在花名册: ${reply.slice(0, 60)}`
              : toastError === false
                ? 'toast is not an error'
                : '';
        if (why) dropFailures++, dropNotes.push(`${what}: ${why}`);
      };
      const card = (value: Record<string, unknown>) => async () => {
        const at = d!.maxOutboxId();
        const r = await d!.cardAction(DROPPED, value);
        const toast = (r.body as { toast?: { type?: string; content?: string } })?.toast;
        const sent = d!.outboxSince(at).filter((m) => m.receive_id === DROPPED).map((m) => m.text);
        return { reply: [toast?.content ?? '', ...sent].join('\n'), toastError: toast?.type === 'error' };
      };
      const say = (text: string) => async () => {
        const r = await d!.say(DROPPED, text, { chatId: 'oc_rc_dropped', botOpenId: BOT_OPEN_ID });
        return { reply: r.replies.map((m) => m.text).join('\n') };
      };
      await judge('old 延后 button', card(snoozeValue!), ['reminder_snoozes']);
      await judge('old 已完成 button', card(doneValue!), ['wf_stage_progress']);
      await judge('check-in 完成 城西村 审计', say('完成 城西村 审计'), ['wf_stage_progress']);
      await judge('risk 风险 城西村', say('风险 城西村 信访 有群众反映拉票'), ['wf_risks']);
      // Tomorrow's slot, as the planner would send it (the CLI's dry run, the clock shifted a day).
      const due = await cli(['reminders', 'due', '--at', new Date(slotAt + 86_400_000).toISOString(), '--json']);
      const tomorrow = due.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { to: string });
      if (due.code !== 0) dropFailures++, dropNotes.push(`reminders due failed: ${due.stderr.slice(0, 80)}`);
      else if (tomorrow.some((m) => m.to === DROPPED)) dropFailures++, dropNotes.push("tomorrow's reminder planned for 干部甲");
      results.push({
        attack: 'cadre dropped by re-import: old 延后/已完成 buttons, check-in, risk, next-day reminder',
        tries: 5,
        failures: dropFailures,
        notes: dropNotes.join('; ') || 'all refused with 您已不在花名册中 and audited; no reminder planned; data lost: none',
      });

      // The reminder queued before the re-import: Lark comes back, the outbox drains.
      larkUp = true;
      await waitUntil(() => (d!.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`).get() as { n: number }).n === 0, scaled(120_000), 'the outbox to drain');
      const toDropped = fake.deliveredTo(DROPPED).length;
      const delivered = fake.sent.length;
      results.push({
        attack: 'reminder queued for a cadre before the re-import that dropped them',
        tries: 1,
        // Lark being back is shown by everything else in the outbox reaching it.
        failures: toDropped > 0 || delivered === 0 ? 1 : 0,
        notes: `${toDropped} message(s) reached 干部甲 after the drop (${delivered} delivered in all); data lost: none`,
      });

      // The leader's digest: 城西村 is overdue and nobody is responsible for it now.
      const digest = await cli(['digest', 'preview', '--leader', LEADER]);
      const line = digest.stdout.split('\n').find((l) => l.includes('城西村')) ?? '';
      const digestOk = digest.code === 0 && line.includes('无人负责') && !digest.stdout.includes('干部甲');
      results.push({
        attack: "dropped cadre's village in the leader's digest",
        tries: 1,
        failures: digestOk ? 0 : 1,
        notes: digestOk ? '城西村 shown as 无人负责; data lost: none' : `城西村 line: ${line.trim().slice(0, 80) || digest.stderr.slice(0, 80)}`,
      });

      // ── Look-alike village names at import. ───────────────────────────────
      const lookAlikes = [
        ['zero-width space', '城\u200b西村'],
        ['soft hyphen', '城西\u00ad村'],
        ['bidi control', '\u202a城西村\u202c'],
      ] as const;
      let importFailures = 0;
      const importNotes: string[] = [];
      for (const [what, name] of lookAlikes) {
        const rows = roster({ day, version: 2 });
        rows['村社区']!.push({ 县: C, 乡镇: T, 村社区: name, 类型: '村', 选举日: addDays(day, 60) });
        rows['人员']!.push({ 姓名: '干部丁', 飞书open_id: 'ou_rc_cadre_d', 角色: '干部', 县: C, 乡镇: T, 负责村社区: name });
        const path = join(dir, `look-alike-${importFailures}-${what.replace(/\s/g, '-')}.xlsx`);
        await writeXlsx(path, rows);
        const before = d.snapshot(['wf_regions', 'wf_people']);
        const replies = await sendWorkbook(path, '花名册（新增村）.xlsx');
        const text = replies.map((m) => m.text).join('\n');
        for (const b of replies.flatMap(buttonValues).filter((b) => String(b.action ?? '').startsWith('import_confirm'))) await d.cardAction(ADMIN, b);
        const after = d.snapshot(['wf_regions', 'wf_people']);
        const villages = (d.db.prepare(`SELECT name FROM wf_regions WHERE kind = 'village'`).all() as { name: string }[]).map((r) => r.name);
        const why =
          after.wf_regions !== before.wf_regions || villages.length !== 3
            ? `imported (${villages.length} villages)`
            : !/村社区/.test(text) || !/第\s*\d+\s*行/.test(text)
              ? `refusal does not name sheet and row: ${text.slice(0, 80)}`
              : '';
        if (why) importFailures++, importNotes.push(`${what}: ${why}`);
      }
      results.push({
        attack: 'village differing from 城西村 only by ZWSP / soft hyphen / bidi control, imported',
        tries: lookAlikes.length,
        failures: importFailures,
        notes: importNotes.join('; ') || 'each refused naming 村社区 and the row; data lost: none',
      });

      // ── Look-alike names in commands. ─────────────────────────────────────
      let cmdFailures = 0;
      const cmdNotes: string[] = [];
      const typed = [
        ['zero-width space', '完成 城\u200b东村 审计'],
        ['soft hyphen', '完成 城东\u00ad村 摸底研判'],
        ['bidi controls + BOM', '进度 \u202a城东\ufeff村\u202c'],
      ] as const;
      const eastId = village('城东村')!.id;
      for (const [what, text] of typed) {
        const before = d.snapshot(['wf_stage_progress']);
        const r = await d.say(KEPT, text, { chatId: 'oc_rc_kept', botOpenId: BOT_OPEN_ID });
        const reply = r.replies.map((m) => m.text).join('\n');
        const isQuery = text.startsWith('进度');
        const wrote = d.snapshot(['wf_stage_progress']).wf_stage_progress !== before.wf_stage_progress;
        const onEast = (d.db.prepare(`SELECT COUNT(*) AS n FROM wf_stage_progress WHERE village_id = ?`).get(eastId) as { n: number }).n;
        const why = isQuery ? (!reply.includes('城东村') || /是不是要找|没有找到|未找到/.test(reply) ? `not found: ${reply.slice(0, 60)}` : '') : !wrote || !onEast ? `not recorded on 城东村: ${reply.slice(0, 60)}` : '';
        if (why) cmdFailures++, cmdNotes.push(`${what}: ${why}`);
      }
      results.push({
        attack: 'commands naming 城东村 with ZWSP / soft hyphen / bidi controls',
        tries: typed.length,
        failures: cmdFailures,
        notes: cmdNotes.join('; ') || 'each found 城东村; data lost: none',
      });

      const summary = results.map((r) => `${r.attack}: ${r.failures}/${r.tries} ${r.notes ?? ''}`).join('\n');
      console.log(`roster-changes (${((Date.now() - started) / 1000).toFixed(1)} s)\n${summary}`);
      expect(results.map((r) => [r.attack, r.failures]), summary).toEqual(results.map((r) => [r.attack, 0]));
    } finally {
      d?.close();
      if (svc) await stopService(svc);
      await files.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
