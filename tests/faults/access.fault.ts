import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { runImport } from '../../src/workflow/import/index.js';
import { stagesFor } from '../../src/workflow/stage-templates.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { FakeLarkFiles } from '../helpers/fake-lark-files.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { toSheetData, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { Driver, WORKFLOW_TABLES, type OutboxMessage } from './drive.js';
import { BOT_OPEN_ID, findSecrets, recordResults, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 8 §4): access. A roster with every role — 管理员 (roster and
 * ADMIN_OPEN_IDS), 县级领导, 乡镇领导, 干部, 工作组, people of another county,
 * and someone not in the roster — tries every state-changing and reading
 * command on villages, talks and townships inside and outside their scope,
 * through signed events to the real service. The expected outcome comes from
 * the permission table of docs/workflow.md, encoded here independently:
 * only allowed attempts may change the database; every refusal must be
 * answered in Chinese and audited (denied:<command>). Every message the
 * service wrote or sent is then checked for talk notes reaching anyone
 * outside the note's scope, and the whole run (log at trace level, outbox,
 * what Lark received) for the service's secrets.
 */
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'access', results));

// ─── The roster ─────────────────────────────────────────────────────────────

const A = '沁源县';
const B = '安泽县';
const VILLAGES = [
  { county: A, township: '沁河镇', name: '城西村', type: '村' },
  { county: A, township: '沁河镇', name: '城东村', type: '村' },
  { county: A, township: '沁河镇', name: '南关社区', type: '社区' },
  { county: A, township: '郭道镇', name: '河西村', type: '村' },
  { county: A, township: '郭道镇', name: '河东村', type: '村' },
  { county: B, township: '府城镇', name: '北关村', type: '村' },
] as const;
type V = (typeof VILLAGES)[number];
const TOWNSHIPS = [
  { county: A, name: '沁河镇' },
  { county: A, name: '郭道镇' },
  { county: B, name: '府城镇' },
];

interface Role {
  key: string;
  name: string;
  openId: string;
  kind: 'admin' | 'leader' | 'cadre' | 'team' | 'stranger';
  /** In the roster (the ADMIN_OPEN_IDS admin and the stranger are not). */
  roster: boolean;
  county: string | null;
  township: string | null;
  villages: string[];
}
const ROLES: Role[] = [
  { key: 'admin', name: '换届办', openId: 'ou_acc_admin', kind: 'admin', roster: true, county: A, township: null, villages: [] },
  { key: 'envadmin', name: '(ADMIN_OPEN_IDS)', openId: 'ou_acc_envadmin', kind: 'admin', roster: false, county: null, township: null, villages: [] },
  { key: 'lead_county', name: '县领导', openId: 'ou_acc_lead_county', kind: 'leader', roster: true, county: A, township: null, villages: [] },
  { key: 'lead_qh', name: '沁河镇书记', openId: 'ou_acc_lead_qh', kind: 'leader', roster: true, county: A, township: '沁河镇', villages: [] },
  { key: 'lead_gd', name: '郭道镇书记', openId: 'ou_acc_lead_gd', kind: 'leader', roster: true, county: A, township: '郭道镇', villages: [] },
  { key: 'cadre_qh', name: '干部甲', openId: 'ou_acc_cadre_qh', kind: 'cadre', roster: true, county: A, township: '沁河镇', villages: ['城西村'] },
  { key: 'team_qh', name: '工作组乙', openId: 'ou_acc_team_qh', kind: 'team', roster: true, county: A, township: '沁河镇', villages: ['城西村', '城东村'] },
  { key: 'cadre_gd', name: '干部丙', openId: 'ou_acc_cadre_gd', kind: 'cadre', roster: true, county: A, township: '郭道镇', villages: ['河西村'] },
  { key: 'lead_b', name: '安泽县领导', openId: 'ou_acc_lead_b', kind: 'leader', roster: true, county: B, township: null, villages: [] },
  { key: 'cadre_b', name: '干部丁', openId: 'ou_acc_cadre_b', kind: 'cadre', roster: true, county: B, township: '府城镇', villages: ['北关村'] },
  { key: 'stranger', name: '(不在花名册)', openId: 'ou_acc_stranger', kind: 'stranger', roster: false, county: null, township: null, villages: [] },
];
const ROLE_WORD = { admin: '管理员', leader: '领导', cadre: '干部', team: '工作组', stranger: '' } as const;

interface Talk {
  category: string;
  subject: string;
  place: string;
  township: string;
  county: string;
  /** A village, or the township itself (乡镇党委书记必谈). */
  village: boolean;
  interviewer: string;
}
const TALKS: Talk[] = [
  { category: '选前谈话', subject: '候选人甲', place: '城西村', township: '沁河镇', county: A, village: true, interviewer: 'cadre_qh' },
  { category: '任前谈话', subject: '候选人戊', place: '城东村', township: '沁河镇', county: A, village: true, interviewer: 'team_qh' },
  { category: '选前谈话', subject: '候选人乙', place: '河西村', township: '郭道镇', county: A, village: true, interviewer: 'cadre_gd' },
  { category: '五必谈·乡镇党委书记', subject: '沁河镇书记', place: '沁河镇', township: '沁河镇', county: A, village: false, interviewer: 'lead_county' },
  { category: '选前谈话', subject: '候选人丁', place: '北关村', township: '府城镇', county: B, village: true, interviewer: 'cadre_b' },
];

// ─── The permission table (docs/workflow.md, 权限), encoded independently ──

const known = (r: Role) => r.kind !== 'stranger';
const isAdmin = (r: Role) => r.kind === 'admin';
/** The person's scope: their township, else their county (county-level people), else none. */
const inScope = (r: Role, v: { county: string; township: string }) => (r.township ? v.township === r.township : r.county !== null && v.county === r.county);
const canWrite = (r: Role, v: V) => isAdmin(r) || (r.kind === 'leader' && inScope(r, v)) || r.villages.includes(v.name);
const canView = (r: Role, v: V) => canWrite(r, v) || (r.roster && inScope(r, v));
const canWriteTalk = (r: Role, t: Talk) =>
  isAdmin(r) || t.interviewer === r.key || (r.kind === 'leader' && (t.village ? inScope(r, t) : r.township ? r.township === t.township : r.county === t.county));
const canSeeNote = canWriteTalk;
const canViewTownship = (r: Role, t: { county: string; name: string }) => isAdmin(r) || (r.roster && (r.township ? r.township === t.name : r.county === t.county));
/** 日报/逾期/导出: leaders with a scope and admins; a roster admin's digest covers their county. */
const canDigest = (r: Role) => isAdmin(r) || r.kind === 'leader';
const canOverdue = (r: Role, t: { county: string; name: string }) =>
  canDigest(r) && (r.county === null ? true : r.township ? r.township === t.name : r.county === t.county);

type Expect = 'write' | 'read' | 'deny';
const exp = (ok: boolean, kind: 'write' | 'read'): Expect => (ok ? kind : 'deny');

// ─── The test ───────────────────────────────────────────────────────────────

const SECRETS = {
  LARK_APP_SECRET: 'appsec_FAULTACCESS_2b9e7c41d0',
  LARK_ENCRYPT_KEY: 'enckey_FAULTACCESS_5f1a93c2e8',
  LARK_VERIFICATION_TOKEN: 'vtoken_FAULTACCESS_8c2d4e6f10',
  LLM_API_KEY: 'sk-FAULTACCESS-llm-7e3b9a0c5d',
  EMBEDDING_API_KEY: 'sk-FAULTACCESS-emb-1a2b3c4d5e',
  DASHBOARD_SECRET: 'dashsec_FAULTACCESS_9d8c7b6a5f4e3d2c1b0a7e6f',
};
/** The tenant access token the fake Lark hands out (tests/helpers/fake-lark.ts). */
const TENANT_TOKEN = 't-fake-tenant-token';
const GROUP = 'oc_acc_group_all';
const p2p = (r: Role) => `oc_acc_p2p_${r.key}`;

/** An OpenAI-compatible endpoint that answers some requests and, like some gateways, echoes the key it was given in a 401. */
async function fakeLlm(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { url: '', requests: 0, close: async () => undefined as void };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      state.requests++;
      const auth = String(req.headers.authorization ?? '');
      if (state.requests % 2 === 1) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${auth.replace(/^Bearer /, '')}. Check ${auth}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'fake', choices: [{ index: 0, message: { role: 'assistant', content: '无法回答' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}

interface Attempt {
  role: Role;
  what: string;
  expect: Expect;
  /** What happened. */
  changed: string[];
  denied: boolean;
  reply: string;
  ok: boolean;
  why?: string;
}

describe('fault: access by role and scope; talk notes; secrets', () => {
  it('only allowed attempts change anything, every refusal is audited, notes stay in scope, no secret anywhere', async () => {
    const started = Date.now();
    // Dates relative to today (the service runs on the wall clock): stages done 3 days ago, the election 2 days ago, talks due in a month.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    const dir = tempDir('hj-fault-access-');
    const dbFile = join(dir, 'huanjie.db');

    // Seed: the roster and talks (through the real import), every stage up to 工作交接 done, two open risks per village and role.
    const sheets = {
      人员: ROLES.filter((r) => r.roster).map((r) => ({ 姓名: r.name, 飞书open_id: r.openId, 角色: ROLE_WORD[r.kind], 县: r.county!, 乡镇: r.township ?? '', 负责村社区: r.villages.join('、') })),
      村社区: VILLAGES.map((v) => ({ 县: v.county, 乡镇: v.township, 村社区: v.name, 类型: v.type, 选举日: day(-2) })),
      谈话: TALKS.map((t) => ({ 谈话类别: t.category, 谈话对象: t.subject, 村社区: t.place, 谈话人: ROLES.find((r) => r.key === t.interviewer)!.name, 截止日期: day(30), 乡镇: t.township })),
    };
    const seed = openDb(dbFile);
    const repos = createWorkflowRepos(seed);
    const imported = runImport(repos, { sheets: toSheetData(sheets), issues: [] }, { actor: 'seed', sourceId: 'seed', fileName: 'seed', now: Date.now() });
    if (!imported.ok) throw new Error('roster does not import: ' + JSON.stringify(imported.issues.slice(0, 3)));
    const villageId = new Map(repos.roster.villages().map((v) => [v.name, v.id]));
    const talkId = new Map(repos.talks.all().map((t) => [t.subject, t.id]));
    const risks = new Map<string, [number, number]>();
    seed.transaction(() => {
      for (const v of VILLAGES) {
        const id = villageId.get(v.name)!;
        for (const s of stagesFor(v.type)) {
          if (['reelection', 'supervision', 'filing'].includes(s.key)) continue;
          repos.plan.setStage({ village_id: id, stage_key: s.key, status: '已完成', completed_on: day(-3), note: null, updated_by: 'seed', updated_at: Date.now() });
        }
        for (const r of ROLES) {
          const mk = (d: string) => repos.risks.insert({ village_id: id, category: '其他', severity: '一般', description: d, must_check: 0, must_reasons: null, opened_by: 'seed', opened_at: Date.now() });
          risks.set(`${v.name}/${r.key}`, [mk(`预置问题（跟进）${r.key}`), mk(`预置问题（销号）${r.key}`)]);
        }
      }
    })();
    seed.close();
    const workbook = join(dir, 'roster.xlsx');
    await writeXlsx(workbook, sheets);

    // A Lark that fails now and then (500, 429), so the sending side's error paths log too.
    const fake = await FakeLark.start({
      chaos: ({ n }) =>
        n % 37 === 5 ? { status: 500, body: { code: 1, msg: 'internal error' } } : n % 53 === 7 ? { status: 429, body: { code: 99991400, msg: 'too many requests' }, headers: { 'x-ogw-ratelimit-reset': '1' } } : undefined,
    });
    const files = await FakeLarkFiles.start(fake);
    const llm = await fakeLlm();
    let output = '';
    let svc: Service | undefined;
    let drv: Driver | undefined;
    const attempts: Attempt[] = [];
    /** Talk notes written in this run: marker → talk, and who typed it. */
    const notes = new Map<string, { talk: Talk; author: Role; stored: boolean }>();
    /** Chat of each message sent (for who reads the replies). */
    const chatOf = new Map<string, string>();
    try {
      svc = await startService({
        dataDir: dir,
        fake,
        onOutput: (c) => (output += c),
        env: {
          LARK_DOMAIN: files.url,
          LOG_LEVEL: 'trace',
          ADMIN_OPEN_IDS: 'ou_acc_envadmin',
          LARK_APP_SECRET: SECRETS.LARK_APP_SECRET,
          LARK_ENCRYPT_KEY: SECRETS.LARK_ENCRYPT_KEY,
          LARK_VERIFICATION_TOKEN: SECRETS.LARK_VERIFICATION_TOKEN,
          LLM_BASE_URL: llm.url,
          LLM_MODEL: 'fake-model',
          LLM_API_KEY: SECRETS.LLM_API_KEY,
          EMBEDDING_API_KEY: SECRETS.EMBEDDING_API_KEY,
          DASHBOARD_SECRET: SECRETS.DASHBOARD_SECRET,
          PUBLIC_BASE_URL: 'http://127.0.0.1:9/',
        },
      });
      const d = (drv = new Driver(svc, dbFile, SECRETS.LARK_ENCRYPT_KEY, SECRETS.LARK_VERIFICATION_TOKEN));
      const DATA = [...WORKFLOW_TABLES, 'reminder_snoozes'];
      let tagSeq = 0;
      const tag = () => `Tq${++tagSeq}x`;

      /** Runs one attempt and judges it against the expectation. */
      const attempt = async (role: Role, what: string, expect: Expect, run: () => Promise<{ reply: string; toastError?: boolean }>, extra?: (changed: string[]) => string | undefined) => {
        const before = d.snapshot(DATA);
        const auditAt = d.maxAuditId();
        const { reply, toastError } = await run();
        const after = d.snapshot(DATA);
        const changed = DATA.filter((t) => before[t] !== after[t]);
        const denied = d.auditSince(auditAt).some((a) => a.actor === role.openId && a.action.startsWith('denied:'));
        let why: string | undefined;
        if (expect === 'write' && !changed.length) why = `allowed but nothing changed: ${reply.slice(0, 120)}`;
        else if (expect !== 'write' && changed.length) why = `${expect === 'deny' ? 'REFUSED-BUT-CHANGED' : 'read changed'} ${changed.join(',')}: ${reply.slice(0, 120)}`;
        else if (expect === 'deny' && !denied) why = `refusal not audited: ${reply.slice(0, 120)}`;
        else if (expect === 'deny' && !/[\u4e00-\u9fff]/.test(reply)) why = `refusal without a Chinese message: ${reply.slice(0, 120)}`;
        else if (expect === 'deny' && toastError === false) why = `refusal toast not an error: ${reply.slice(0, 120)}`;
        else if (expect !== 'deny' && denied) why = `wrongly refused: ${reply.slice(0, 120)}`;
        else if (expect !== 'deny' && !reply) why = 'no answer';
        else if (expect !== 'deny') why = extra?.(changed);
        attempts.push({ role, what, expect, changed, denied, reply, ok: !why, why });
      };
      const say = (role: Role, text: string, chat: 'p2p' | 'group' = 'p2p') => async () => {
        const chatId = chat === 'group' ? GROUP : p2p(role);
        const r = await d.say(role.openId, text, { chatId, chat, botOpenId: BOT_OPEN_ID });
        chatOf.set(r.messageId, chatId);
        return { reply: r.replies.map((m) => m.text).join('\n') };
      };
      const card = (role: Role, value: Record<string, unknown>, formValue?: Record<string, unknown>) => async () => {
        const at = d.maxOutboxId();
        const r = await d.cardAction(role.openId, value, formValue);
        const toast = (r.body as { toast?: { type?: string; content?: string } })?.toast;
        const sent = d.outboxSince(at).filter((m) => m.receive_id === role.openId).map((m) => m.text);
        return { reply: [toast?.content ?? '', ...sent].join('\n'), toastError: toast?.type === 'error' };
      };
      const menu = (role: Role, key: string) => async () => {
        const at = d.maxOutboxId();
        await d.event('application.bot.menu_v6', { operator: { operator_id: { open_id: role.openId, union_id: 'on_x', user_id: null } }, event_key: key, timestamp: Date.now() });
        return { reply: d.outboxSince(at).filter((m) => m.receive_id === role.openId).map((m) => m.text).join('\n') };
      };
      const file = (role: Role) => async () => {
        const messageId = d.nextId('om_acc_file');
        files.addFile(messageId, 'file_acc_roster', readFileSync(workbook));
        const r = await d.sendFile(role.openId, { file_key: 'file_acc_roster', file_name: '花名册.xlsx' }, { chatId: p2p(role), messageId });
        chatOf.set(messageId, p2p(role));
        return { reply: r.replies.map((m) => m.text).join('\n') };
      };
      const stageKey = (v: V, name: string) => stagesFor(v.type).find((s) => s.name === name || s.aliases.includes(name))!.key;

      // Traffic for the secrets check: policy questions (the model is asked, and half the time answers 401 with the key), a refused request.
      for (const r of ROLES.slice(0, 4)) await say(r, '选民名单要提前多少天公布？')();
      await say(ROLES[10]!, '村民委员会选举由谁主持？')();
      const badSig = larkRequest({ schema: '2.0', header: { event_id: 'x', event_type: 'x', token: SECRETS.LARK_VERIFICATION_TOKEN }, event: {} }, { encryptKey: 'wrong-key', encrypt: true });
      await fetch(svc.base + '/lark/events', { method: 'POST', body: badSig.body, headers: badSig.headers });

      for (const v of VILLAGES) {
        const vid = villageId.get(v.name)!;
        for (const r of ROLES) {
          const w = exp(canWrite(r, v), 'write');
          const rd = exp(canView(r, v), 'read');
          const [r1, r2] = risks.get(`${v.name}/${r.key}`)!;
          await attempt(r, `完成 ${v.name} 监委会`, w, say(r, `完成 ${v.name} 监委会 ${tag()}`));
          await attempt(r, `进度 ${v.name} 备案归档 进行中`, w, say(r, `进度 ${v.name} 备案归档 进行中 ${tag()}`));
          await attempt(r, `进度 ${v.name}`, rd, say(r, `进度 ${v.name}`));
          await attempt(r, `进度 ${v.name} (group)`, rd, say(r, `进度 ${v.name}`, 'group'));
          await attempt(r, `风险 ${v.name} 登记`, w, say(r, `风险 ${v.name} 信访 群众反映${tag()}`));
          await attempt(r, `风险 跟进 #${r1} (${v.name})`, w, say(r, `风险 跟进 ${r1} 已核查${tag()}`));
          await attempt(r, `风险 销号 #${r2} (${v.name})`, w, say(r, `风险 销号 ${r2} 已处理${tag()}`));
          await attempt(r, `风险 ${v.name} (view)`, rd, say(r, `风险 ${v.name}`));
          await attempt(r, `结构 ${v.name} 登记`, w, say(r, `结构 ${v.name} 女性=${(tagSeq % 5) + 1} 大学生=1`));
          await attempt(r, `结构 ${v.name} (view)`, rd, say(r, `结构 ${v.name}`));
          await attempt(r, `card: 提交进度 ${v.name}`, w, card(r, { action: 'checkin_submit' }, { village: String(vid), stage: stageKey(v, '监委会'), status: '进行中', note: tag() }));
          await attempt(r, `card: 延后 ${v.name}`, w, card(r, { action: 'reminder_snooze', item: `stage:${vid}:${stageKey(v, '备案归档')}`, days: 1 }));
          // The buttons of a reminder are for whoever it reminds: those who may record the item.
          await attempt(r, `card: 已完成 ${v.name}`, exp(canWrite(r, v), 'read'), card(r, { action: 'reminder_done', item: `stage:${vid}:${stageKey(v, '备案归档')}` }));
        }
      }
      let noteSeq = 0;
      for (const [ti, t] of TALKS.entries()) {
        const tid = talkId.get(t.subject)!;
        for (const r of ROLES) {
          const w = exp(canWriteTalk(r, t), 'write');
          const marker = `TN${ti}n${++noteSeq}Z`;
          notes.set(marker, { talk: t, author: r, stored: w === 'write' });
          const signed = t.category === '选前谈话' ? ' 已签承诺书' : '';
          await attempt(r, `谈话 ${t.subject} 完成`, w, say(r, `谈话 ${t.subject} 完成${signed} 记录${marker}`));
          await attempt(r, `card: 已完成 talk ${t.subject}`, exp(canWriteTalk(r, t), 'read'), card(r, { action: 'reminder_done', item: `talk:${tid}` }));
          await attempt(r, `card: 延后 talk ${t.subject}`, w, card(r, { action: 'reminder_snooze', item: `talk:${tid}`, days: 3 }));
        }
      }
      for (const t of TOWNSHIPS) {
        for (const r of ROLES) {
          await attempt(r, `进度 ${t.name}`, exp(known(r) && canViewTownship(r, t), 'read'), say(r, `进度 ${t.name}`));
          await attempt(r, `逾期 ${t.name}`, exp(canOverdue(r, t), 'read'), say(r, `逾期 ${t.name}`));
        }
      }
      for (const r of ROLES) {
        for (const cmd of ['进度', '我的', '风险', '谈话']) {
          await attempt(r, cmd, exp(known(r), 'read'), say(r, cmd));
          await attempt(r, `${cmd} (group)`, exp(known(r), 'read'), say(r, cmd, 'group'));
        }
        for (const cmd of ['日报', '逾期', '导出']) await attempt(r, cmd, exp(canDigest(r), 'read'), say(r, cmd));
        await attempt(r, 'menu: 我的', exp(known(r), 'read'), menu(r, 'my'));
        await attempt(r, 'menu: 提交进度', exp(known(r), 'read'), menu(r, 'checkin'));
        await attempt(r, 'menu: 日报', exp(canDigest(r), 'read'), menu(r, 'digest'));
        await attempt(r, 'file: 花名册.xlsx', exp(isAdmin(r), 'write'), file(r), (changed) => (changed.includes('wf_imports') ? undefined : 'import not recorded'));
        // 撤销 undoes the sender's own last change and nothing else.
        const own = VILLAGES.find((v) => canWrite(r, v));
        if (own) await attempt(r, `风险 ${own.name} (before 撤销)`, 'write', say(r, `风险 ${own.name} 其他 撤销测试${tag()}`));
        const changesAt = (d.db.prepare('SELECT COALESCE(MAX(id), 0) AS n FROM wf_changes').get() as { n: number }).n;
        await attempt(r, '撤销', exp(known(r), 'write'), say(r, '撤销'), () => {
          const undo = d.db.prepare(`SELECT c.actor, u.actor AS undone_actor, u.kind AS undone_kind FROM wf_changes c JOIN wf_changes u ON u.id = c.undoes WHERE c.id > ?`).all(changesAt) as { actor: string; undone_actor: string; undone_kind: string }[];
          return undo.length === 1 && undo[0]!.actor === r.openId && undo[0]!.undone_actor === r.openId && undo[0]!.undone_kind === 'risk.open' ? undefined : `undo did something else: ${JSON.stringify(undo)}`;
        });
      }
      const drivenMs = Date.now() - started;

      // Everything the service wrote to be sent is in the outbox; wait until Lark has it too.
      await waitUntil(() => (d.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`).get() as { n: number }).n === 0, 180_000, 'outbox drained').catch(() => undefined);
      const outbox = d.allOutbox();
      const health = await fetch(svc.base + '/healthz').then((r) => r.status, () => 0);
      const failedEvents = d.db.prepare(`SELECT event_id, error FROM received_events WHERE status = 'failed'`).all() as { event_id: string; error: string }[];
      d.close();
      drv = undefined;
      const stop = await stopService(svc);
      svc = undefined;

      // ── Talk notes: who reads each message ──
      const members = ROLES.map((r) => r.openId);
      const roleBy = new Map(ROLES.map((r) => [r.openId, r]));
      const readers = (m: { receive_id_type?: string | null; receive_id?: string | null; reply_to?: string | null }): string[] => {
        if (m.receive_id_type === 'open_id' && m.receive_id) return [m.receive_id];
        const chat = m.reply_to ? chatOf.get(m.reply_to) ?? m.receive_id : m.receive_id;
        if (chat === GROUP) return members;
        const r = ROLES.find((x) => p2p(x) === chat);
        return r ? [r.openId] : [`(unknown chat ${chat})`];
      };
      const leaks: string[] = [];
      const checkNotes = (source: string, text: string, who: string[]) => {
        for (const marker of new Set(text.match(/TN\d+n\d+Z/g) ?? [])) {
          const n = notes.get(marker);
          if (!n) continue;
          // Someone's own words echoed back to them alone are not a leak.
          if (who.length === 1 && who[0] === n.author.openId) continue;
          const outside = who.filter((id) => !roleBy.get(id) || !canSeeNote(roleBy.get(id)!, n.talk));
          if (outside.length) leaks.push(`${source}: note on ${n.talk.subject} (${n.stored ? 'stored' : 'typed by ' + n.author.key}) to ${outside.map((id) => roleBy.get(id)?.key ?? id).join(',')}`);
        }
      };
      for (const m of outbox) checkNotes(`outbox #${m.id}`, m.content, readers(m));
      for (const m of fake.sent) checkNotes(`sent ${m.message_id}`, JSON.stringify(m.content), readers({ receive_id_type: m.receive_id_type, receive_id: m.receive_id, reply_to: m.reply_to }));
      const storedNotes = [...notes.values()].filter((n) => n.stored).length;
      const shownInScope = outbox.filter((m) => /TN\d+n\d+Z/.test(m.content)).length;

      // ── Secrets: the whole log, every outbox row, everything Lark received ──
      const secretHits = findSecrets({ ...SECRETS, TENANT_TOKEN }, {
        'service log': output,
        'outbox rows': outbox.map((m: OutboxMessage) => JSON.stringify(m)),
        'messages Lark received': fake.sent.map((m) => JSON.stringify(m)),
      });

      // ── Tally ──
      const groups = new Map<string, Attempt[]>();
      for (const a of attempts) {
        const g = a.expect === 'deny' ? 'refused attempts' : a.expect === 'write' ? 'allowed changes' : 'allowed reads';
        groups.set(g, [...(groups.get(g) ?? []), a]);
      }
      for (const [g, as] of [...groups].sort()) {
        const bad = as.filter((a) => !a.ok);
        results.push({
          attack: `access: ${g}`,
          tries: as.length,
          failures: bad.length,
          notes: (g === 'refused attempts' ? `each audited and answered in Chinese; ` : '') + (bad.length ? bad.slice(0, 4).map((a) => `${a.role.key} «${a.what}»: ${a.why}`).join(' | ') : `${new Set(as.map((a) => a.role.key)).size} roles`),
        });
      }
      results.push({
        attack: 'access: talk notes outside their scope',
        tries: outbox.length + fake.sent.length,
        failures: leaks.length,
        notes: leaks.length ? leaks.slice(0, 4).join(' | ') : `${storedNotes} notes stored; shown in ${shownInScope} messages, all to people in scope; checked ${outbox.length} outbox rows and ${fake.sent.length} messages Lark received`,
      });
      results.push({
        attack: 'access: secrets in log, outbox, messages',
        tries: Object.keys(SECRETS).length + 1,
        failures: new Set(secretHits.map((h) => h.secret)).size,
        notes: secretHits.length
          ? secretHits.slice(0, 4).map((h) => `${h.secret} in ${h.source} (${h.form}): …${h.excerpt.slice(0, 120)}…`).join(' | ')
          : `log at trace: ${output.split('\n').length} lines, ${Math.round(output.length / 1024)} KiB; model asked ${llm.requests} times (half answered 401 echoing the key); each secret, its JSON/URL/base64 forms`,
      });
      results.push({
        attack: 'access: process',
        tries: 1,
        failures: (health === 200 ? 0 : 1) + (stop.code === 0 ? 0 : 1) + failedEvents.length,
        notes: `${attempts.length} attempts by ${ROLES.length} roles in ${(drivenMs / 1000).toFixed(1)} s; healthz ${health}; failed events ${failedEvents.length}; clean stop ${stop.code === 0}; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });

      const bad = attempts.filter((a) => !a.ok);
      expect(bad.map((a) => `${a.role.key} «${a.what}» (${a.expect}): ${a.why}`)).toEqual([]);
      expect(leaks).toEqual([]);
      expect(secretHits.map((h) => `${h.secret} in ${h.source}: ${h.excerpt}`)).toEqual([]);
      expect(failedEvents).toEqual([]);
      expect(health).toBe(200);
      expect(stop.code).toBe(0);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'access', tries: attempts.length, failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      drv?.close();
      if (svc) await stopService(svc, 'SIGKILL');
      await llm.close();
      await files.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
